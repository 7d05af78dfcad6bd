#include "signalbox/materialize/lookup_runner.h"

#include <exception>
#include <optional>
#include <thread>

#include "signalbox/common/asio.h"

namespace signalbox {

namespace asio = boost::asio;

namespace {

// What a running call shares between the pool thread making it and the coroutine waiting
// for it. The timer is only touched on the event-loop thread.
struct Pending {
  Pending(asio::io_context& io, LookupCall& call) : timer(io), call(&call) {}

  asio::steady_timer timer;
  Source* source = nullptr;
  std::vector<std::string> keys;
  std::span<const FieldRequest> fields;
  asio::steady_timer::time_point deadline = asio::steady_timer::time_point::max();

  std::mutex mutex;  // guards what follows
  LookupCall* call;  // null once abandoned: the caller may have let go of it
  bool finished = false;
  std::function<void()> on_late_return;
  std::vector<std::vector<FeatureValue>> rows;
  std::optional<std::string> error;
  std::chrono::microseconds took{0};
};

void make_call(Source& source, std::span<const std::string> keys,
               std::span<const FieldRequest> fields, std::vector<std::vector<FeatureValue>>& rows,
               std::optional<std::string>& error, std::chrono::microseconds& took) {
  auto start = std::chrono::steady_clock::now();
  try {
    rows = source.lookup(keys, fields);
  } catch (const std::exception& e) {
    error = e.what();
  } catch (...) {
    error = "unknown exception";
  }
  took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

// Hands what the pool thread produced to the caller's LookupCall. Under p.mutex.
void deliver(Pending& p) {
  LookupCall& call = *p.call;
  call.keys = std::move(p.keys);
  call.took = p.took;
  if (p.error) {
    call.outcome = LookupCall::Outcome::kFailed;
    call.error = std::move(*p.error);
  } else {
    call.outcome = LookupCall::Outcome::kAnswered;
    call.rows = std::move(p.rows);
  }
}

// Waits for each call in turn until its own deadline. The calls started together, so
// waiting one after the other costs the slowest, not the sum.
asio::awaitable<void> wait_all(std::vector<std::shared_ptr<Pending>> pendings) {
  for (const auto& p : pendings) {
    {
      std::lock_guard lock(p->mutex);
      if (p->finished) continue;
    }
    // A call finishing from here on posts its cancel behind this handler, so the wait below
    // is already in place when the cancel runs.
    p->timer.expires_at(p->deadline);
    boost::system::error_code ec;
    co_await p->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  for (const auto& p : pendings) {
    std::lock_guard lock(p->mutex);
    if (p->finished) {
      deliver(*p);
    } else {
      p->call->outcome = LookupCall::Outcome::kTimedOut;
      p->call = nullptr;
    }
  }
}

}  // namespace

class LookupRunner::Impl {
 public:
  explicit Impl(std::size_t threads)
      : work_(asio::make_work_guard(io_)), pool_(threads), loop_([this] { io_.run(); }) {}

  ~Impl() {
    pool_.join();  // calls still running post their cancels to io_, which still runs
    work_.reset();
    loop_.join();
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::thread_pool pool_;
  std::thread loop_;
};

LookupRunner::LookupRunner(std::size_t threads) : threads_(threads == 0 ? 1 : threads) {}

LookupRunner::~LookupRunner() = default;

void LookupRunner::start() {
  std::call_once(started_, [this] { impl_ = std::make_unique<Impl>(threads_); });
}

void LookupRunner::run_here(LookupCall& call) {
  std::optional<std::string> error;
  make_call(*call.source, call.keys, call.fields, call.rows, error, call.took);
  if (error) {
    call.outcome = LookupCall::Outcome::kFailed;
    call.error = std::move(*error);
  } else {
    call.outcome = LookupCall::Outcome::kAnswered;
  }
}

void LookupRunner::post(std::function<void()> task) {
  start();
  asio::post(impl_->pool_, std::move(task));
}

void LookupRunner::run(std::span<const std::shared_ptr<LookupCall>> calls) {
  if (calls.empty()) return;
  start();
  Impl& impl = *impl_;
  std::vector<std::shared_ptr<Pending>> pendings;
  pendings.reserve(calls.size());
  auto now = asio::steady_timer::clock_type::now();
  for (const auto& call : calls) {
    auto p = std::make_shared<Pending>(impl.io_, *call);
    p->source = call->source;
    p->keys = std::move(call->keys);
    p->fields = call->fields;
    p->on_late_return = std::move(call->on_late_return);
    if (call->timeout.count() > 0) p->deadline = now + call->timeout;
    call->outcome = LookupCall::Outcome::kPending;
    pendings.push_back(std::move(p));
  }
  for (const auto& p : pendings) {
    asio::post(impl.pool_, [p, &io = impl.io_] {
      std::vector<std::vector<FeatureValue>> rows;
      std::optional<std::string> error;
      std::chrono::microseconds took{0};
      make_call(*p->source, p->keys, p->fields, rows, error, took);
      std::function<void()> late;
      {
        std::lock_guard lock(p->mutex);
        p->finished = true;
        p->rows = std::move(rows);
        p->error = std::move(error);
        p->took = took;
        if (p->call == nullptr) late = std::move(p->on_late_return);
      }
      if (late) {
        late();
        return;
      }
      asio::post(io, [p] { p->timer.cancel(); });
    });
  }
  asio::co_spawn(impl.io_, wait_all(std::move(pendings)), asio::use_future).get();
}

}  // namespace signalbox
