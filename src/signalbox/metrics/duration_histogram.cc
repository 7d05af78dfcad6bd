#include "signalbox/metrics/duration_histogram.h"

namespace signalbox {

void DurationHistogram::observe(std::chrono::nanoseconds duration) {
  double seconds = std::chrono::duration<double>(duration).count();
  std::size_t bucket = 0;
  while (bucket < kBounds.size() && seconds > kBounds[bucket]) ++bucket;
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_nanoseconds_.fetch_add(static_cast<std::uint64_t>(duration.count()),
                             std::memory_order_relaxed);
}

prometheus::ClientMetric DurationHistogram::collect() const {
  prometheus::ClientMetric metric;
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    metric.histogram.bucket.push_back({cumulative, kBounds[i]});
  }
  // The serializer writes the +Inf bucket from the count.
  cumulative += buckets_[kBounds.size()].load(std::memory_order_relaxed);
  metric.histogram.sample_count = cumulative;
  metric.histogram.sample_sum =
      static_cast<double>(sum_nanoseconds_.load(std::memory_order_relaxed)) / 1e9;
  return metric;
}

}  // namespace signalbox
