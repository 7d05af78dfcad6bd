#include "signalbox/metrics/scrape_family.h"

namespace signalbox {

ScrapeFamily::ScrapeFamily(std::string name, std::string help, prometheus::MetricType type) {
  family_.name = std::move(name);
  family_.help = std::move(help);
  family_.type = type;
}

ScrapeFamily& ScrapeFamily::add(double value, Labels labels) {
  prometheus::ClientMetric metric;
  for (const auto& [name, label_value] : labels)
    metric.label.push_back({std::string(name), std::string(label_value)});
  if (family_.type == prometheus::MetricType::Counter)
    metric.counter.value = value;
  else
    metric.gauge.value = value;
  family_.metric.push_back(std::move(metric));
  return *this;
}

}  // namespace signalbox
