#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "signalbox/metrics/duration_histogram.h"

namespace signalbox {

// One histogram metric family of DurationHistograms, one per label set, as a collectable of a
// MetricsRegistry. series() takes a mutex: resolve each label set once and keep the reference
// (observing it is lock-free). A label set appears in the exposition once resolved. Thread-safe.
class HistogramFamily : public prometheus::Collectable {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names);

  const std::string& name() const { return name_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // The histogram of `label_values` (one per label name, in their order), added on first use.
  // The reference stays valid as long as the family.
  DurationHistogram& series(const std::vector<std::string>& label_values);

  // The family with every resolved series, labels in the family's order; nothing before the
  // first series.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  mutable std::mutex mutex_;
  // In the order they were added.
  std::vector<std::pair<std::vector<std::string>, std::unique_ptr<DurationHistogram>>> series_;
};

}  // namespace signalbox
