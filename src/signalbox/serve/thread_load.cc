#include "signalbox/serve/thread_load.h"

#include <time.h>

#include <algorithm>

namespace signalbox {

// A clock that cannot be read counts as idle: the load is a brake on inline answers, and
// without it they still wait for an idle query pool.
std::chrono::nanoseconds ThreadLoad::cpu_time() {
  timespec t{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) != 0) return std::chrono::nanoseconds(0);
  return std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec);
}

double ThreadLoad::share() {
  auto wall = std::chrono::steady_clock::now().time_since_epoch();
  if (started_ && !window_over(wall)) return share_;
  return share_at(wall, cpu_time());
}

bool ThreadLoad::window_over(std::chrono::nanoseconds wall) const {
  return wall - window_start_wall_ >= window_;
}

double ThreadLoad::share_at(std::chrono::nanoseconds wall, std::chrono::nanoseconds cpu) {
  if (!started_) {
    started_ = true;
    start_window(wall, cpu);
    return share_;
  }
  if (!window_over(wall)) return share_;
  double elapsed = static_cast<double>((wall - window_start_wall_).count());
  double busy = static_cast<double>((cpu - window_start_cpu_ + waited_).count());
  share_ = std::clamp(busy / elapsed, 0.0, 1.0);
  start_window(wall, cpu);
  return share_;
}

void ThreadLoad::start_window(std::chrono::nanoseconds wall, std::chrono::nanoseconds cpu) {
  window_start_wall_ = wall;
  window_start_cpu_ = cpu;
  waited_ = std::chrono::nanoseconds(0);
}

}  // namespace signalbox
