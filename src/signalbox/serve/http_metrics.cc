#include "signalbox/serve/http_metrics.h"

#include <string>

#include "signalbox/metrics/registry.h"

namespace signalbox {

namespace {

DurationHistogram& query_series(HistogramFamily& family, Route route) {
  return family.series({std::string(route_label(route))});
}

}  // namespace

HttpMetrics::HttpMetrics(MetricsRegistry& registry)
    : query_family_(registry.histograms(
          "signalbox_query_duration_seconds",
          "Time to answer one signals query request, by route (a batchGet is one request).",
          {"route"})),
      ingest_duration_(registry
                           .histograms("signalbox_ingest_duration_seconds",
                                       "Time to decode and commit one POST /v1/events body.")
                           .series({})),
      connections_(registry.gauges("signalbox_http_connections", "Open HTTP connections.").Add({})),
      inline_queries_(registry
                          .counters("signalbox_http_inline_queries_total",
                                    "GET /v1/users/{user_id}/signals requests answered on an I/O "
                                    "thread rather than in the query pool.")
                          .Add({})) {
  auto& requests =
      registry.counters("signalbox_http_requests_total",
                        "HTTP requests answered, by route and status code.", {"route", "code"});
  for (std::size_t r = 0; r < kRouteCount; ++r) {
    for (std::size_t c = 0; c < kCodes; ++c) {
      std::string code = c == kStatuses.size() ? "other" : std::to_string(kStatuses[c]);
      requests_.emplace_back(
          requests, prometheus::Labels{{"route", std::string(route_label(static_cast<Route>(r)))},
                                       {"code", code}});
    }
  }
  for (Route route : {Route::kUserSignals, Route::kBatchGet})
    query_durations_[static_cast<std::size_t>(route)] = &query_series(query_family_, route);
}

void HttpMetrics::count_request(Route route, unsigned status) {
  std::size_t code = kStatuses.size();
  for (std::size_t i = 0; i < kStatuses.size(); ++i)
    if (kStatuses[i] == status) code = i;
  requests_[static_cast<std::size_t>(route) * kCodes + code].increment();
}

void HttpMetrics::observe_query(Route route, std::chrono::nanoseconds duration) {
  auto& slot = query_durations_[static_cast<std::size_t>(route)];
  DurationHistogram* histogram = slot.load(std::memory_order_acquire);
  if (!histogram) {
    histogram = &query_series(query_family_, route);
    slot.store(histogram, std::memory_order_release);
  }
  histogram->observe(duration);
}

}  // namespace signalbox
