#pragma once

#include <chrono>

namespace signalbox {

// How much of the last stretch of wall time the calling thread spent running on a CPU (user
// and kernel time, from the thread's CPU clock), measured in windows of `window`: share()
// gives the share of the last complete window, 0 before one completed. A thread that is
// runnable but waiting for a core does not count as busy, so on an oversubscribed machine
// the share understates how much the thread would run given the cores.
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

  // The share in [0, 1] of the last complete window the calling thread ran.
  double share();

  // The same, from the given clocks' readings rather than the calling thread's: `wall` of a
  // steady clock, `cpu` of the thread's CPU time. For tests.
  double share_at(std::chrono::nanoseconds wall, std::chrono::nanoseconds cpu);

 private:
  bool window_over(std::chrono::nanoseconds wall) const;

  const std::chrono::nanoseconds window_;
  bool started_ = false;
  std::chrono::nanoseconds window_start_wall_{0};
  std::chrono::nanoseconds window_start_cpu_{0};
  double share_ = 0;
};

}  // namespace signalbox
