#pragma once

#include <functional>
#include <utility>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace signalbox {

// A collectable whose families a function computes at every scrape, for values read rather
// than counted (see MetricsRegistry::add_collectable). `collect` is called from scraping
// threads, possibly concurrently, so it must be thread-safe.
class CollectFunction : public prometheus::Collectable {
 public:
  explicit CollectFunction(std::function<std::vector<prometheus::MetricFamily>()> collect)
      : collect_(std::move(collect)) {}

  std::vector<prometheus::MetricFamily> Collect() const override { return collect_(); }

 private:
  std::function<std::vector<prometheus::MetricFamily>()> collect_;
};

}  // namespace signalbox
