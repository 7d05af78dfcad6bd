#pragma once

#include <chrono>

namespace signalbox {

// How much of the last stretch of wall time the calling thread was busy, measured in windows
// of `window`: share() gives the share of the last complete window, 0 before one completed.
// Busy is running on a CPU (user and kernel time, from the thread's CPU clock), plus the time
// the thread told add_waited() it spent blocked inside its work (a query waiting on the
// network or the disk), which the CPU clock does not see. A thread that is runnable but
// waiting for a core does not count as busy, so on an oversubscribed machine the share
// understates how much the thread would run given the cores.
//
// The HTTP server keeps one per I/O thread to tell how much room that thread has for queries
// answered inline: an I/O thread that frames a request every few tens of microseconds and
// also answers them has no slack left to absorb a burst, and a request behind the burst waits
// for all of it (docs/performance.md, "Inline answers and the tail at half the saturation
// rate").
//
// Not thread-safe: each thread keeps its own (thread_local) and calls share() on it alone.
// share() reads the thread's CPU clock (a system call) once per window and the steady clock
// at every call.
class ThreadLoad {
 public:
  explicit ThreadLoad(std::chrono::nanoseconds window) : window_(window) {}

  // The share in [0, 1] of the last complete window the calling thread was busy.
  double share();

  // Counts `waited`, time the calling thread spent blocked inside work it did, as busy in the
  // current window.
  void add_waited(std::chrono::nanoseconds waited) { waited_ += waited; }

  // The calling thread's CPU clock (0 when it cannot be read).
  static std::chrono::nanoseconds cpu_time();

  // The same, from the given clocks' readings rather than the calling thread's: `wall` of a
  // steady clock, `cpu` of the thread's CPU time. For tests.
  double share_at(std::chrono::nanoseconds wall, std::chrono::nanoseconds cpu);

 private:
  bool window_over(std::chrono::nanoseconds wall) const;
  void start_window(std::chrono::nanoseconds wall, std::chrono::nanoseconds cpu);

  const std::chrono::nanoseconds window_;
  bool started_ = false;
  std::chrono::nanoseconds window_start_wall_{0};
  std::chrono::nanoseconds window_start_cpu_{0};
  std::chrono::nanoseconds waited_{0};  // since the current window started
  double share_ = 0;
};

}  // namespace signalbox
