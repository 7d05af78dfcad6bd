#include "signalbox/metrics/registry.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include <prometheus/text_serializer.h>

#include "signalbox/metrics/ingest_metrics.h"

namespace signalbox {

namespace {

// Sorts `labels` by their name's place in `order` (prometheus-cpp keeps them by name); names
// not in it go last, as they were.
void order_labels(std::vector<prometheus::ClientMetric::Label>& labels,
                  const std::vector<std::string>& order) {
  auto rank = [&](const prometheus::ClientMetric::Label& label) {
    return std::find(order.begin(), order.end(), label.name) - order.begin();
  };
  std::stable_sort(labels.begin(), labels.end(),
                   [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
}

}  // namespace

MetricsRegistry::MetricsRegistry() : ingest_(std::make_unique<IngestMetrics>(*this)) {}

MetricsRegistry::~MetricsRegistry() = default;

void MetricsRegistry::note_label_order(const std::string& name,
                                       std::vector<std::string> label_names) {
  std::lock_guard lock(mutex_);
  auto [it, added] = label_order_.emplace(name, label_names);
  if (!added && it->second != label_names)
    throw std::invalid_argument("metric family " + name + " asked for with other label names");
}

prometheus::Family<prometheus::Counter>& MetricsRegistry::counters(
    const std::string& name, const std::string& help, std::vector<std::string> label_names) {
  note_label_order(name, std::move(label_names));
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry_);
}

prometheus::Family<prometheus::Gauge>& MetricsRegistry::gauges(
    const std::string& name, const std::string& help, std::vector<std::string> label_names) {
  note_label_order(name, std::move(label_names));
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry_);
}

HistogramFamily& MetricsRegistry::histograms(const std::string& name, const std::string& help,
                                             std::vector<std::string> label_names) {
  note_label_order(name, label_names);
  std::lock_guard lock(mutex_);
  for (const auto& family : histograms_)
    if (family->name() == name) return *family;
  histograms_.push_back(std::make_unique<HistogramFamily>(name, help, std::move(label_names)));
  return *histograms_.back();
}

void MetricsRegistry::add_collectable(const prometheus::Collectable& collectable) {
  std::unique_lock lock(collectables_mutex_);
  collectables_.push_back(&collectable);
}

void MetricsRegistry::remove_collectable(const prometheus::Collectable& collectable) {
  std::unique_lock lock(collectables_mutex_);
  std::erase(collectables_, &collectable);
}

std::string MetricsRegistry::expose() const {
  std::vector<prometheus::MetricFamily> collected = registry_.Collect();
  std::map<std::string, std::vector<std::string>, std::less<>> label_order;
  {
    std::lock_guard lock(mutex_);
    for (const auto& family : histograms_)
      for (auto& f : family->Collect()) collected.push_back(std::move(f));
    label_order = label_order_;
  }
  {
    std::shared_lock lock(collectables_mutex_);
    for (const prometheus::Collectable* collectable : collectables_)
      for (auto& f : collectable->Collect()) collected.push_back(std::move(f));
  }
  std::vector<prometheus::MetricFamily> families;
  std::map<std::string, std::size_t, std::less<>> index;
  for (prometheus::MetricFamily& family : collected) {
    if (family.metric.empty()) continue;
    if (auto order = label_order.find(family.name); order != label_order.end()) {
      for (prometheus::ClientMetric& metric : family.metric)
        order_labels(metric.label, order->second);
      // Families keep their series in a hash map: sorted, one scrape reads like the next.
      std::stable_sort(family.metric.begin(), family.metric.end(),
                       [](const auto& a, const auto& b) { return a.label < b.label; });
    }
    auto [it, added] = index.emplace(family.name, families.size());
    if (added) {
      families.push_back(std::move(family));
    } else {
      auto& into = families[it->second].metric;
      into.insert(into.end(), std::make_move_iterator(family.metric.begin()),
                  std::make_move_iterator(family.metric.end()));
    }
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return std::move(out).str();
}

}  // namespace signalbox
