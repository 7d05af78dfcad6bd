#include "signalbox/serve/metrics.h"

#include <fmt/format.h>

namespace signalbox {

namespace {

constexpr std::array<std::string_view, kRouteCount> kRouteLabels = {"/v1/events",
                                                                    "/v1/users/{user_id}/signals",
                                                                    "/v1/signals:batchGet",
                                                                    "/v1/signals",
                                                                    "/healthz",
                                                                    "/metrics",
                                                                    "unmatched"};

std::size_t index_of(Route route) {
  return static_cast<std::size_t>(route);
}

void append_help(std::string& out, std::string_view name, std::string_view type,
                 std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

std::string_view route_label(Route route) {
  return kRouteLabels[index_of(route)];
}

void DurationHistogram::observe(std::chrono::nanoseconds duration) {
  double seconds = std::chrono::duration<double>(duration).count();
  std::size_t bucket = 0;
  while (bucket < kBounds.size() && seconds > kBounds[bucket]) ++bucket;
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_nanoseconds_.fetch_add(static_cast<std::uint64_t>(duration.count()),
                             std::memory_order_relaxed);
}

void DurationHistogram::append_samples(std::string& out, std::string_view name,
                                       std::string_view labels) const {
  auto inserter = std::back_inserter(out);
  std::string_view comma = labels.empty() ? "" : ",";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    fmt::format_to(inserter, "{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, comma, kBounds[i],
                   cumulative);
  }
  cumulative += buckets_[kBounds.size()].load(std::memory_order_relaxed);
  fmt::format_to(inserter, "{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, comma, cumulative);
  std::string braces = labels.empty() ? "" : fmt::format("{{{}}}", labels);
  fmt::format_to(inserter, "{}_sum{} {}\n", name, braces,
                 static_cast<double>(sum_nanoseconds_.load(std::memory_order_relaxed)) / 1e9);
  fmt::format_to(inserter, "{}_count{} {}\n", name, braces, cumulative);
}

void ServeMetrics::count_request(Route route, unsigned status) {
  std::size_t code = kOtherStatus;
  for (std::size_t i = 0; i < kStatuses.size(); ++i)
    if (kStatuses[i] == status) code = i;
  requests_[index_of(route)][code].fetch_add(1, std::memory_order_relaxed);
}

void ServeMetrics::observe_query(Route route, std::chrono::nanoseconds duration) {
  query_durations_[index_of(route)].observe(duration);
}

void ServeMetrics::observe_ingest(std::chrono::nanoseconds duration) {
  ingest_duration_.observe(duration);
}

void ServeMetrics::append_prometheus(std::string& out) const {
  auto inserter = std::back_inserter(out);
  append_help(out, "signalbox_http_requests_total", "counter",
              "HTTP requests answered, by route and status code.");
  for (std::size_t r = 0; r < kRouteCount; ++r) {
    for (std::size_t c = 0; c <= kStatuses.size(); ++c) {
      std::uint64_t n = requests_[r][c].load(std::memory_order_relaxed);
      if (n == 0) continue;
      std::string code = c == kOtherStatus ? "other" : std::to_string(kStatuses[c]);
      fmt::format_to(inserter, "signalbox_http_requests_total{{route=\"{}\",code=\"{}\"}} {}\n",
                     kRouteLabels[r], code, n);
    }
  }
  append_help(out, "signalbox_query_duration_seconds", "histogram",
              "Time to answer one signals query request, by route (a batchGet is one request).");
  for (Route route : {Route::kUserSignals, Route::kBatchGet}) {
    query_durations_[index_of(route)].append_samples(
        out, "signalbox_query_duration_seconds", fmt::format("route=\"{}\"", route_label(route)));
  }
  append_help(out, "signalbox_ingest_duration_seconds", "histogram",
              "Time to decode and commit one POST /v1/events body.");
  ingest_duration_.append_samples(out, "signalbox_ingest_duration_seconds", "");
  append_help(out, "signalbox_http_connections", "gauge", "Open HTTP connections.");
  fmt::format_to(inserter, "signalbox_http_connections {}\n",
                 connections_.load(std::memory_order_relaxed));
}

}  // namespace signalbox
