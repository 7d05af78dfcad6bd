#include "signalbox/metrics/histogram_family.h"

#include <stdexcept>

namespace signalbox {

HistogramFamily::HistogramFamily(std::string name, std::string help,
                                 std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

DurationHistogram& HistogramFamily::series(const std::vector<std::string>& label_values) {
  if (label_values.size() != label_names_.size())
    throw std::invalid_argument(name_ + ": wrong number of label values");
  std::lock_guard lock(mutex_);
  for (auto& [values, histogram] : series_)
    if (values == label_values) return *histogram;
  series_.emplace_back(label_values, std::make_unique<DurationHistogram>());
  return *series_.back().second;
}

std::vector<prometheus::MetricFamily> HistogramFamily::Collect() const {
  std::lock_guard lock(mutex_);
  if (series_.empty()) return {};
  prometheus::MetricFamily family{name_, help_, prometheus::MetricType::Histogram, {}};
  for (const auto& [values, histogram] : series_) {
    prometheus::ClientMetric metric = histogram->collect();
    for (std::size_t i = 0; i < values.size(); ++i)
      metric.label.push_back({label_names_[i], values[i]});
    family.metric.push_back(std::move(metric));
  }
  return {std::move(family)};
}

}  // namespace signalbox
