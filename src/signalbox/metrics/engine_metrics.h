#pragma once

#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace signalbox {

class Engine;

// The Engine's own numbers, read at every scrape: its counters (events accepted, rejected,
// duplicate, queries, bootstrap progress), stream time, each signal's complete-since time,
// store sizes, and the per-source lookup and feature cache metrics of docs/sources.md.
// `engine` must outlive this; Collect() is thread-safe as the Engine's readers are.
class EngineMetrics : public prometheus::Collectable {
 public:
  explicit EngineMetrics(Engine& engine) : engine_(engine) {}

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  Engine& engine_;
};

}  // namespace signalbox
