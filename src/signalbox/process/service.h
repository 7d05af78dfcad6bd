#pragma once

namespace signalbox {

// One long-running part of a process — a server, a consumer — as ProcessRunner drives it:
// started once, stopped on request, waited for.
//
// The contract every implementation keeps:
// - start() is called at most once. It returns once the service works on threads of its own,
//   or throws when it cannot start; a service whose start() threw runs nothing, and its stop()
//   and wait() return at once.
// - stop() begins an orderly stop (work in flight is finished) and returns at once: it never
//   blocks. It is idempotent and may come before start(), after which start() runs nothing
//   that outlives the stop.
// - stop_now() stops as stop() does, but cuts short what is still in flight (a second SIGTERM
//   asks for it). Services that have nothing to cut short keep the default, stop().
// - wait() blocks until a stop has finished and every thread of the service is done; at once
//   when the service never started. It is called after stop().
//
// Thread-safety: stop() and stop_now() may be called from any thread at any time, also while
// start() or wait() run on another; start() and wait() are called from one thread.
class Service {
 public:
  virtual ~Service() = default;

  virtual void start() = 0;
  virtual void stop() = 0;
  virtual void stop_now() { stop(); }
  virtual void wait() = 0;
};

}  // namespace signalbox
