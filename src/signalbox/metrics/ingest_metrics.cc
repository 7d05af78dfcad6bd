#include "signalbox/metrics/ingest_metrics.h"

#include <string>

#include "signalbox/metrics/registry.h"

namespace signalbox {

namespace {

constexpr std::array<std::string_view, kIngestSourceCount> kSourceLabels = {"http", "replay",
                                                                            "kafka", "grpc"};
}  // namespace

std::string_view ingest_source_label(IngestSource source) {
  return kSourceLabels[static_cast<std::size_t>(source)];
}

IngestMetrics::IngestMetrics(MetricsRegistry& registry)
    : events_(registry.counters("signalbox_events_total",
                                "Events received, by source and outcome: accepted (new), duplicate "
                                "(already stored, changed nothing) or rejected.",
                                {"source", "outcome"})),
      rejections_(registry.counters("signalbox_events_rejected_by_reason_total",
                                    "Rejected events, by source and reason: the field at fault, "
                                    "late, future, unknown_field or other.",
                                    {"source", "reason"})),
      freshness_(registry.histograms("signalbox_ingest_freshness_seconds",
                                     "Time from receiving an ingest request to its events being "
                                     "visible to queries.",
                                     {"source"})) {
  // A dashboard finds the HTTP series from the first scrape on.
  series(IngestSource::kHttp);
}

IngestMetrics::~IngestMetrics() = default;

IngestMetrics::Series& IngestMetrics::series(IngestSource source) {
  std::size_t s = static_cast<std::size_t>(source);
  if (Series* resolved = resolved_[s].load(std::memory_order_acquire)) return *resolved;
  std::lock_guard lock(resolve_mutex_);
  if (!owned_[s]) {
    const std::string label(kSourceLabels[s]);
    std::array<prometheus::Counter*, kRejectReasonCount> reasons{};
    for (RejectReason reason : kRejectReasons) {
      reasons[reject_reason_index(reason)] = &rejections_.Add(
          {{"source", label}, {"reason", std::string(reject_reason_label(reason))}});
    }
    owned_[s] = std::unique_ptr<Series>(
        new Series{events_.Add({{"source", label}, {"outcome", "accepted"}}),
                   events_.Add({{"source", label}, {"outcome", "duplicate"}}),
                   events_.Add({{"source", label}, {"outcome", "rejected"}}), reasons,
                   freshness_.series({label})});
    resolved_[s].store(owned_[s].get(), std::memory_order_release);
  }
  return *owned_[s];
}

void IngestMetrics::count(IngestSource source, std::size_t accepted, std::size_t duplicates,
                          const std::vector<RejectedEvent>& rejected) {
  // A source is exposed once it ingested something (an empty call does not list it).
  if (accepted == 0 && rejected.empty() &&
      !resolved_[static_cast<std::size_t>(source)].load(std::memory_order_acquire))
    return;
  Series& s = series(source);
  // Each Increment is an atomic compare-and-swap loop: skipped for the usual zeros.
  if (accepted > duplicates) s.accepted.Increment(static_cast<double>(accepted - duplicates));
  if (duplicates > 0) s.duplicate.Increment(static_cast<double>(duplicates));
  if (!rejected.empty()) s.rejected.Increment(static_cast<double>(rejected.size()));
  for (const RejectedEvent& r : rejected) s.reasons[reject_reason_index(r.reason)]->Increment();
}

void IngestMetrics::observe_freshness(IngestSource source, std::chrono::nanoseconds duration) {
  series(source).freshness.observe(duration);
}

}  // namespace signalbox
