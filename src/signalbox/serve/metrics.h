#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "signalbox/event/reject_reason.h"

namespace signalbox {

// The routes of the HTTP API, as metric labels. kUnmatched collects requests no route took.
// kWebPage is the web page and its files (docs/web.md).
enum class Route {
  kEvents,
  kUserSignals,
  kBatchGet,
  kSignals,
  kHealthz,
  kReadyz,
  kMetrics,
  kUsers,
  kExplain,
  kUserReach,
  kWebPage,
  kUnmatched
};
inline constexpr std::size_t kRouteCount = 12;

// The route as written in the API reference, e.g. "/v1/users/{user_id}/signals".
std::string_view route_label(Route route);

// A Prometheus histogram of durations with fixed buckets from 50 µs to 10 s. Thread-safe and
// lock-free; a scrape that races an observation may see the new count before the new sum.
class DurationHistogram {
 public:
  static constexpr std::array<double, 16> kBounds = {
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
      0.025,   0.05,   0.1,     0.25,   0.5,   1,      2.5,   10};

  void observe(std::chrono::nanoseconds duration);
  // Appends the _bucket, _sum and _count samples of `name`, with `labels` (e.g.
  // `route="/healthz"`, or empty) on each.
  void append_samples(std::string& out, std::string_view name, std::string_view labels) const;

 private:
  std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> buckets_{};  // last: +Inf only
  std::atomic<std::uint64_t> sum_nanoseconds_{0};
};

// Where ingested events came from: the `source` label of signalbox_events_total.
enum class IngestSource { kHttp, kReplay, kKafka, kGrpc };
inline constexpr std::size_t kIngestSourceCount = 4;

// "http", "replay", "kafka" or "grpc".
std::string_view ingest_source_label(IngestSource source);

// The serving side's own metrics: requests by route and status, query and ingest latency,
// ingest outcomes by source, open connections. Engine counters and store sizes are read from
// the Engine when rendering. Thread-safe and lock-free.
class ServeMetrics {
 public:
  ServeMetrics() = default;
  ServeMetrics(const ServeMetrics&) = delete;
  ServeMetrics& operator=(const ServeMetrics&) = delete;

  void count_request(Route route, unsigned status);
  // Time spent answering one query request (GET signals or batchGet), engine included.
  void observe_query(Route route, std::chrono::nanoseconds duration);
  // Time spent decoding and committing one POST /v1/events body.
  void observe_ingest(std::chrono::nanoseconds duration);
  // Counts one ingest call from `source`: `accepted` events taken (duplicates included, as
  // IngestResult counts them), `duplicates` among them, and the events rejected, by reason.
  // Front ends other than HTTP (Kafka, gRPC) call it for their own source.
  void count_ingest(IngestSource source, std::size_t accepted, std::size_t duplicates,
                    const std::vector<RejectedEvent>& rejected);
  // Time from receiving an ingest request (its last byte) to its events being visible to
  // queries (the engine's ingest returned).
  void observe_freshness(IngestSource source, std::chrono::nanoseconds duration);
  void connection_opened() { connections_.fetch_add(1, std::memory_order_relaxed); }
  void connection_closed() { connections_.fetch_sub(1, std::memory_order_relaxed); }

  // Appends HELP, TYPE and samples of every metric kept here, in Prometheus text format.
  void append_prometheus(std::string& out) const;

 private:
  // Statuses the server answers with; anything else is counted as code="other".
  static constexpr std::array<unsigned, 10> kStatuses = {200, 400, 404, 405, 408,
                                                         413, 431, 500, 503, 505};
  static constexpr std::size_t kOtherStatus = kStatuses.size();

  std::array<std::array<std::atomic<std::uint64_t>, kStatuses.size() + 1>, kRouteCount> requests_{};
  std::array<DurationHistogram, kRouteCount> query_durations_;
  DurationHistogram ingest_duration_;
  std::atomic<std::int64_t> connections_{0};
  // [source][accepted (new), duplicate, rejected]
  std::array<std::array<std::atomic<std::uint64_t>, 3>, kIngestSourceCount> events_{};
  // [source][reject_reason_index(reason)]
  std::array<std::array<std::atomic<std::uint64_t>, kRejectReasonCount>, kIngestSourceCount>
      rejections_{};
  std::array<DurationHistogram, kIngestSourceCount> freshness_;
};

// Appends the standard process metrics (process_resident_memory_bytes,
// process_virtual_memory_bytes, process_cpu_seconds_total, process_start_time_seconds,
// process_open_fds, process_max_fds) read from /proc, and signalbox_build_info.
void append_process_metrics(std::string& out);

// Logs rejected events as summaries at most once per `interval`: the first batch with
// rejects is logged at once, later ones are added up until the interval has passed, so a
// flood of bad events makes one line per interval, not one per event. Thread-safe.
class RejectLog {
 public:
  explicit RejectLog(std::chrono::steady_clock::duration interval = std::chrono::seconds(10))
      : interval_(interval) {}

  // Notes the rejects of one ingest call from `source` (of `events` events).
  void note(IngestSource source, std::size_t events, const std::vector<RejectedEvent>& rejected);

 private:
  std::mutex mutex_;
  std::chrono::steady_clock::duration interval_;
  std::chrono::steady_clock::time_point last_line_{};
  bool logged_any_ = false;
  std::uint64_t pending_rejected_ = 0;
  std::uint64_t pending_events_ = 0;
  std::uint64_t pending_batches_ = 0;
  std::array<std::uint64_t, kRejectReasonCount> pending_reasons_{};
  std::string first_message_;
};

}  // namespace signalbox
