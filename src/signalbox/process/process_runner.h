#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "signalbox/process/service.h"

namespace signalbox {

struct ProcessRunnerOptions {
  // Prefix of the runner's log lines, e.g. "signalbox serve: SIGTERM received, ...".
  std::string name = "signalbox";
  // From construction until destruction: the first SIGTERM or SIGINT stops every service as
  // stop() does, a second one as stop_now() does (busy connections are closed at once), and
  // SIGHUP runs `on_reload`. False: signals keep their default actions.
  bool handle_signals = true;
  // Run on SIGHUP, as a job (see ProcessRunner); none: SIGHUP is ignored.
  std::function<void()> on_reload;
};

// The lifecycle of a process made of several services (the HTTP server, the gRPC server, each
// Kafka consumer): starts them in the order they were added, turns SIGTERM / SIGINT / SIGHUP
// into stop() / stop_now() / a reload job, runs periodic jobs (expiry) while the services
// run, fans a stop out to every service and waits for all of them.
//
// A signal that comes before start() is not lost: the stop begins then, and start() starts
// nothing. When a service's start() throws, the services started before it are stopped and
// waited for, and start() rethrows.
//
// Periodic and reload jobs run one at a time on a thread of the runner's own, never on the
// signal-handling thread, so a long expiry does not delay a second SIGTERM. A job that throws
// is logged and runs again at its next time. A periodic job's interval is counted from the end
// of its previous run; from the stop on, no job starts (one running is waited for by wait()).
//
// Thread-safety: add(), every(), start() and wait() are called from one thread, the first two
// before start(). stop() and stop_now() are thread-safe, never block and may be called at any
// time.
class ProcessRunner {
 public:
  explicit ProcessRunner(ProcessRunnerOptions options = {});
  // Stops and waits for the services when wait() has not returned yet.
  ~ProcessRunner();
  ProcessRunner(const ProcessRunner&) = delete;
  ProcessRunner& operator=(const ProcessRunner&) = delete;

  // `service` is started after those added before it, and must outlive the runner.
  void add(Service& service);
  // Runs `job` every `interval` between start() and the stop; a zero interval: never. `what`
  // names it in the log when it throws ("<what> failed: ...").
  void every(std::chrono::milliseconds interval, std::string what, std::function<void()> job);

  // Starts every service in order, then the periodic jobs. See above for a throwing start.
  void start();
  // Begins an orderly stop of every service (Service::stop()). Idempotent.
  void stop();
  // Stops every service at once (Service::stop_now()), also after stop().
  void stop_now();
  // Blocks until a stop has begun (signal, stop() or stop_now()) and every service's wait()
  // returned, then waits for a job still running. Returns at once when called again.
  void wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace signalbox
