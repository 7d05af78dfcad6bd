#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

namespace signalbox {

// A metric family whose samples are read when scraped (from the engine, /proc, a report),
// for a collectable's Collect(): add() appends one sample with its labels in the order given.
class ScrapeFamily {
 public:
  using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  // `type`: Counter or Gauge.
  ScrapeFamily(std::string name, std::string help, prometheus::MetricType type);

  ScrapeFamily& add(double value, Labels labels = {});
  bool empty() const { return family_.metric.empty(); }
  prometheus::MetricFamily take() { return std::move(family_); }

 private:
  prometheus::MetricFamily family_;
};

}  // namespace signalbox
