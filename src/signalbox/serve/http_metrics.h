#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <deque>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include "signalbox/metrics/duration_histogram.h"
#include "signalbox/metrics/histogram_family.h"
#include "signalbox/metrics/lazy_counter.h"
#include "signalbox/serve/route.h"

namespace signalbox {

class MetricsRegistry;

// The HTTP front end's own metrics, in a MetricsRegistry: signalbox_http_requests_total{route,
// code} (a series once it happened), signalbox_query_duration_seconds{route} (the two query
// routes), signalbox_ingest_duration_seconds, the gauge signalbox_http_connections and
// signalbox_http_inline_queries_total (GETs of signals answered on an I/O thread). Ingest
// outcomes are counted in the registry's shared IngestMetrics. Every label set is resolved
// once: a request costs atomic additions, no lookup and no lock. Thread-safe.
class HttpMetrics {
 public:
  explicit HttpMetrics(MetricsRegistry& registry);
  HttpMetrics(const HttpMetrics&) = delete;
  HttpMetrics& operator=(const HttpMetrics&) = delete;

  void count_request(Route route, unsigned status);
  // Time spent answering one query request (GET signals or batchGet), engine included.
  void observe_query(Route route, std::chrono::nanoseconds duration);
  // Time spent decoding and committing one POST /v1/events body.
  void observe_ingest(std::chrono::nanoseconds duration) { ingest_duration_.observe(duration); }
  // One GET of signals answered on an I/O thread instead of in the query pool (InlineQueries).
  void count_inline_query() { inline_queries_.Increment(); }
  void connection_opened() { connections_.Increment(); }
  void connection_closed() { connections_.Decrement(); }

 private:
  // Statuses the server answers with; anything else is counted as code="other".
  static constexpr std::array<unsigned, 10> kStatuses = {200, 400, 404, 405, 408,
                                                         413, 431, 500, 503, 505};
  static constexpr std::size_t kCodes = kStatuses.size() + 1;  // last: other

  std::deque<LazyCounter> requests_;  // [route * kCodes + code]
  HistogramFamily& query_family_;
  // Resolved on a route's first query; the two query routes from the start.
  std::array<std::atomic<DurationHistogram*>, kRouteCount> query_durations_{};
  DurationHistogram& ingest_duration_;
  prometheus::Gauge& connections_;
  prometheus::Counter& inline_queries_;
};

}  // namespace signalbox
