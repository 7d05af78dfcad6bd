#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>

#include "signalbox/event/reject_reason.h"
#include "signalbox/metrics/duration_histogram.h"

namespace signalbox {

class HistogramFamily;
class MetricsRegistry;

// Where ingested events came from: the `source` label of signalbox_events_total.
enum class IngestSource { kHttp, kReplay, kKafka, kGrpc };
inline constexpr std::size_t kIngestSourceCount = 4;

// "http", "replay", "kafka" or "grpc".
std::string_view ingest_source_label(IngestSource source);

// Ingest outcomes by source, the families every front end that takes events shares:
// signalbox_events_total{source,outcome}, signalbox_events_rejected_by_reason_total{source,
// reason} (reasons of event/reject_reason.h) and signalbox_ingest_freshness_seconds{source}.
// HTTP's series are exposed from the start, another source's once it ingested something.
// Thread-safe; lock-free once a source's series exist (its first ingest takes a mutex).
class IngestMetrics {
 public:
  explicit IngestMetrics(MetricsRegistry& registry);
  ~IngestMetrics();
  IngestMetrics(const IngestMetrics&) = delete;
  IngestMetrics& operator=(const IngestMetrics&) = delete;

  // Counts one ingest call from `source`: `accepted` events taken (duplicates included, as
  // IngestResult counts them), `duplicates` among them, and the events rejected, by reason.
  void count(IngestSource source, std::size_t accepted, std::size_t duplicates,
             const std::vector<RejectedEvent>& rejected);
  // Time from receiving an ingest request (its last byte) to its events being visible to
  // queries (the engine's ingest returned).
  void observe_freshness(IngestSource source, std::chrono::nanoseconds duration);

 private:
  struct Series {
    prometheus::Counter& accepted;
    prometheus::Counter& duplicate;
    prometheus::Counter& rejected;
    std::array<prometheus::Counter*, kRejectReasonCount> reasons;
    DurationHistogram& freshness;
  };
  Series& series(IngestSource source);

  prometheus::Family<prometheus::Counter>& events_;
  prometheus::Family<prometheus::Counter>& rejections_;
  HistogramFamily& freshness_;
  std::array<std::atomic<Series*>, kIngestSourceCount> resolved_{};
  std::mutex resolve_mutex_;  // a source's first ingest only
  std::array<std::unique_ptr<Series>, kIngestSourceCount> owned_;
};

}  // namespace signalbox
