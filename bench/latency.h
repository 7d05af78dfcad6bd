#pragma once

// Latency samples of a benchmark, in microseconds. Not thread-safe.

#include <algorithm>
#include <chrono>
#include <numeric>
#include <vector>

namespace signalbox::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Latency {
  std::vector<double> micros;
  // The sample at fraction `p` (0.5: the median) of the sorted samples; at least one needed.
  double percentile(double p) {
    std::sort(micros.begin(), micros.end());
    return micros[std::min(micros.size() - 1, static_cast<std::size_t>(p * micros.size()))];
  }
  double mean() const { return std::accumulate(micros.begin(), micros.end(), 0.0) / micros.size(); }
};

}  // namespace signalbox::bench
