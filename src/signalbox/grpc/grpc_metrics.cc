#include "signalbox/grpc/grpc_metrics.h"

#include <string>

#include "signalbox/metrics/registry.h"

namespace signalbox {

namespace {

constexpr std::array<std::string_view, GrpcMetrics::kCodeCount> kCodeNames = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};

constexpr std::array<GrpcMethod, kGrpcMethodCount> kMethods = {
    GrpcMethod::kIngestEvents, GrpcMethod::kGetSignals, GrpcMethod::kBatchGetSignals,
    GrpcMethod::kListSignals};

}  // namespace

std::string_view grpc_method_name(GrpcMethod method) {
  switch (method) {
    case GrpcMethod::kIngestEvents:
      return "IngestEvents";
    case GrpcMethod::kGetSignals:
      return "GetSignals";
    case GrpcMethod::kBatchGetSignals:
      return "BatchGetSignals";
    case GrpcMethod::kListSignals:
      return "ListSignals";
  }
  return "unknown";
}

GrpcMetrics::GrpcMetrics(MetricsRegistry& registry) {
  auto& calls =
      registry.counters("signalbox_grpc_requests_total",
                        "gRPC calls answered, by method and status code.", {"method", "code"});
  HistogramFamily& durations =
      registry.histograms("signalbox_grpc_request_duration_seconds",
                          "Time to answer one gRPC call, engine included.", {"method"});
  for (GrpcMethod method : kMethods) {
    std::string name(grpc_method_name(method));
    for (std::string_view code : kCodeNames)
      calls_.emplace_back(calls, prometheus::Labels{{"method", name}, {"code", std::string(code)}});
    // OK is exposed from the start so the family is never empty.
    calls_[static_cast<std::size_t>(method) * kCodeCount].resolve();
    durations_[static_cast<std::size_t>(method)] = &durations.series({name});
  }
}

void GrpcMetrics::observe(GrpcMethod method, int code, std::chrono::nanoseconds duration) {
  std::size_t m = static_cast<std::size_t>(method);
  std::size_t c = code >= 0 && static_cast<std::size_t>(code) < kCodeCount
                      ? static_cast<std::size_t>(code)
                      : static_cast<std::size_t>(2);  // UNKNOWN
  calls_[m * kCodeCount + c].increment();
  durations_[m]->observe(duration);
}

}  // namespace signalbox
