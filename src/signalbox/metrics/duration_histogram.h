#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

#include <prometheus/client_metric.h>

namespace signalbox {

// A histogram of durations with fixed buckets from 50 µs to 10 s, in seconds. Thread-safe and
// lock-free: observe() is two relaxed atomic additions (prometheus::Histogram takes a mutex
// per observation, too much for every request). A collect() that races an observation may see
// the new count before the new sum.
class DurationHistogram {
 public:
  static constexpr std::array<double, 16> kBounds = {
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
      0.025,   0.05,   0.1,     0.25,   0.5,   1,      2.5,   10};

  void observe(std::chrono::nanoseconds duration);
  // The cumulative buckets (the +Inf one is the count), sum and count, without labels.
  prometheus::ClientMetric collect() const;

 private:
  std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> buckets_{};  // last: +Inf only
  std::atomic<std::uint64_t> sum_nanoseconds_{0};
};

}  // namespace signalbox
