#include "signalbox/process/process_runner.h"

#include <signal.h>

#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "signalbox/common/asio.h"

namespace signalbox {

namespace asio = boost::asio;
using error_code = boost::system::error_code;

namespace {

const char* signal_name(int signal) {
  switch (signal) {
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    case SIGHUP:
      return "SIGHUP";
  }
  return "signal";
}

void run_logged(const std::string& what, const std::function<void()>& job) {
  try {
    job();
  } catch (const std::exception& e) {
    spdlog::error("{} failed: {}", what, e.what());
  } catch (...) {
    spdlog::error("{} failed", what);
  }
}

}  // namespace

struct ProcessRunner::Impl {
  explicit Impl(ProcessRunnerOptions opts)
      : options(std::move(opts)), work(asio::make_work_guard(io)), signals(io) {
    if (options.handle_signals) {
      signals.add(SIGTERM);
      signals.add(SIGINT);
      signals.add(SIGHUP);
      wait_for_signal();
    }
    io_thread = std::thread([this] { io.run(); });
  }

  struct Periodic {
    Periodic(asio::io_context& io, std::chrono::milliseconds interval, std::string what,
             std::function<void()> job)
        : interval(interval), what(std::move(what)), job(std::move(job)), timer(io) {}
    std::chrono::milliseconds interval;
    std::string what;
    std::function<void()> job;
    asio::steady_timer timer;  // used on the io thread only
  };

  void wait_for_signal();        // on the io thread
  void arm(Periodic& periodic);  // on the io thread
  void stop();
  void stop_now();
  void wait();
  // Ends signal handling and the jobs, waiting for a job still running. Idempotent.
  void finish();

  bool stop_begun() {
    std::lock_guard lock(mutex);
    return stopping;
  }
  std::vector<Service*> services_now() {
    std::lock_guard lock(mutex);
    return services;
  }

  const ProcessRunnerOptions options;

  asio::io_context io;  // one thread: signals and timers
  asio::executor_work_guard<asio::io_context::executor_type> work;
  asio::signal_set signals;
  asio::thread_pool jobs{1};
  std::thread io_thread;

  std::mutex mutex;
  std::vector<Service*> services;                   // under `mutex`: a signal may read it early
  std::vector<std::unique_ptr<Periodic>> periodic;  // under `mutex`
  std::condition_variable stop_sent_changed;
  bool stopping = false;   // one stop() claimed the stop
  bool stop_sent = false;  // ... and every service's stop() returned
  bool waited = false;     // wait() returned

  std::mutex finish_mutex;
  bool finished = false;
};

void ProcessRunner::Impl::wait_for_signal() {
  signals.async_wait([this](const error_code& ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      if (options.on_reload)
        asio::post(jobs, [this] { run_logged("the reload on SIGHUP", options.on_reload); });
    } else if (stop_begun()) {
      spdlog::warn("{}: {} received again, closing busy connections now", options.name,
                   signal_name(signal));
      stop_now();
    } else {
      spdlog::info("{}: {} received, finishing in-flight requests", options.name,
                   signal_name(signal));
      stop();
    }
    wait_for_signal();
  });
}

void ProcessRunner::Impl::arm(Periodic& p) {
  // Checked on the io thread, where the stop cancels the timers after setting `stopping`: a
  // stop either finds this wait to cancel or is seen here.
  if (stop_begun()) return;
  p.timer.expires_after(p.interval);
  p.timer.async_wait([this, &p](const error_code& ec) {
    if (ec || stop_begun()) return;
    asio::post(jobs, [this, &p] {
      run_logged(p.what, p.job);
      asio::post(io, [this, &p] { arm(p); });
    });
  });
}

void ProcessRunner::Impl::stop() {
  {
    std::lock_guard lock(mutex);
    if (stopping) return;
    stopping = true;
  }
  asio::post(io, [this] {
    std::lock_guard lock(mutex);
    for (auto& p : periodic) p->timer.cancel();
  });
  for (Service* service : services_now()) service->stop();
  {
    std::lock_guard lock(mutex);
    stop_sent = true;
  }
  stop_sent_changed.notify_all();
}

void ProcessRunner::Impl::stop_now() {
  stop();
  for (Service* service : services_now()) service->stop_now();
}

void ProcessRunner::Impl::wait() {
  {
    std::unique_lock lock(mutex);
    stop_sent_changed.wait(lock, [this] { return stop_sent; });
    if (waited) return;
  }
  for (Service* service : services_now()) service->wait();
  finish();
  std::lock_guard lock(mutex);
  waited = true;
}

void ProcessRunner::Impl::finish() {
  std::lock_guard lock(finish_mutex);
  if (finished) return;
  finished = true;
  asio::post(io, [this] {
    error_code ignored;
    signals.cancel(ignored);
  });
  work.reset();
  io_thread.join();
  // A job that ends now re-arms its timer on the stopped io_context, which never runs it.
  jobs.join();
  // The signal set stays registered until destruction: a signal that comes now is swallowed
  // rather than ending the process while its caller finishes up (flushes the engine).
}

ProcessRunner::ProcessRunner(ProcessRunnerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

ProcessRunner::~ProcessRunner() {
  impl_->stop();
  impl_->wait();
}

void ProcessRunner::add(Service& service) {
  std::lock_guard lock(impl_->mutex);
  impl_->services.push_back(&service);
}

void ProcessRunner::every(std::chrono::milliseconds interval, std::string what,
                          std::function<void()> job) {
  if (interval.count() <= 0) return;
  auto periodic =
      std::make_unique<Impl::Periodic>(impl_->io, interval, std::move(what), std::move(job));
  std::lock_guard lock(impl_->mutex);
  impl_->periodic.push_back(std::move(periodic));
}

void ProcessRunner::start() {
  Impl& impl = *impl_;
  for (Service* service : impl.services_now()) {
    if (impl.stop_begun()) return;  // a signal came first: nothing more is started
    try {
      service->start();
    } catch (...) {
      // Those started are stopped and waited for; the others are told to stop too, which
      // costs nothing before their start.
      impl.stop();
      impl.wait();
      throw;
    }
  }
  std::lock_guard lock(impl.mutex);
  for (auto& p : impl.periodic) asio::post(impl.io, [&impl, &p = *p] { impl.arm(p); });
}

void ProcessRunner::stop() { impl_->stop(); }

void ProcessRunner::stop_now() { impl_->stop_now(); }

void ProcessRunner::wait() { impl_->wait(); }

}  // namespace signalbox
