#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace signalbox {

// The routes of the HTTP API, as metric labels. kUnmatched collects requests no route took.
enum class Route { kEvents, kUserSignals, kBatchGet, kSignals, kHealthz, kMetrics, kUnmatched };
inline constexpr std::size_t kRouteCount = 7;

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

// The serving side's own metrics: requests by route and status, query and ingest latency, open
// connections. Engine counters and store sizes are read from the Engine when rendering.
// Thread-safe and lock-free.
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
};

}  // namespace signalbox
