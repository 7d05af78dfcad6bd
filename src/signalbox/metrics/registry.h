#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "signalbox/metrics/histogram_family.h"

namespace signalbox {

class IngestMetrics;

// The metrics of one process (`signalbox serve`, or a verify run's textfile) and their
// exposition: prometheus-cpp counter and gauge families, DurationHistogram families, and
// collectables that read their values at scrape time (engine gauges, process metrics). The
// serve command makes one and hands it to every front end (HTTP, gRPC, each Kafka consumer);
// GET /metrics answers expose().
//
// Families are identified by name: asking twice for one name gives the same family (help and
// label names must agree). Label names are given in the order the exposition writes them.
// Hot paths keep the prometheus::Counter& (or DurationHistogram&) of their label set, resolved
// once: Family::Add looks the labels up under a mutex, Counter::Increment is atomic.
//
// Thread-safe. Families and their series live as long as the registry; a collectable must be
// removed before it is destroyed (remove_collectable() waits for a scrape collecting it).
class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  prometheus::Family<prometheus::Counter>& counters(const std::string& name,
                                                    const std::string& help,
                                                    std::vector<std::string> label_names = {});
  prometheus::Family<prometheus::Gauge>& gauges(const std::string& name, const std::string& help,
                                                std::vector<std::string> label_names = {});
  HistogramFamily& histograms(const std::string& name, const std::string& help,
                              std::vector<std::string> label_names = {});

  // Adds `collectable`, asked for its families at every expose(); it must stay alive until
  // remove_collectable(). Its Collect() is called from scraping threads, concurrently.
  void add_collectable(const prometheus::Collectable& collectable);
  // Removes it; returns once no expose() in progress is collecting it.
  void remove_collectable(const prometheus::Collectable& collectable);

  // The ingest outcomes by source, shared by every front end that takes events.
  IngestMetrics& ingest() { return *ingest_; }

  // Every family in the Prometheus text exposition format 0.0.4: families without samples left
  // out, families of one name from several collectables merged into one, each sample's labels
  // in the order its family declared them.
  std::string expose() const;

 private:
  void note_label_order(const std::string& name, std::vector<std::string> label_names);

  prometheus::Registry registry_;
  mutable std::mutex mutex_;  // guards histograms_ and label_order_
  std::vector<std::unique_ptr<HistogramFamily>> histograms_;
  std::map<std::string, std::vector<std::string>, std::less<>> label_order_;
  // Scrapes hold it shared while collecting; adding and removing a collectable hold it alone.
  mutable std::shared_mutex collectables_mutex_;
  std::vector<const prometheus::Collectable*> collectables_;
  std::unique_ptr<IngestMetrics> ingest_;
};

}  // namespace signalbox
