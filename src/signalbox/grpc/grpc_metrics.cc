#include "signalbox/grpc/grpc_metrics.h"

#include <fmt/format.h>

namespace signalbox {

namespace {

constexpr std::array<std::string_view, GrpcMetrics::kCodeCount> kCodeNames = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED"};

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

void GrpcMetrics::observe(GrpcMethod method, int code, std::chrono::nanoseconds duration) {
  std::size_t m = static_cast<std::size_t>(method);
  std::size_t c = code >= 0 && static_cast<std::size_t>(code) < kCodeCount
                      ? static_cast<std::size_t>(code)
                      : static_cast<std::size_t>(2);  // UNKNOWN
  calls_[m][c].fetch_add(1, std::memory_order_relaxed);
  durations_[m].observe(duration);
}

void GrpcMetrics::append_prometheus(std::string& out) const {
  auto inserter = std::back_inserter(out);
  out +=
      "# HELP signalbox_grpc_requests_total gRPC calls answered, by method and status code.\n"
      "# TYPE signalbox_grpc_requests_total counter\n";
  for (GrpcMethod method : kMethods) {
    std::size_t m = static_cast<std::size_t>(method);
    for (std::size_t c = 0; c < kCodeCount; ++c) {
      std::uint64_t n = calls_[m][c].load(std::memory_order_relaxed);
      // OK is always shown so the family is never empty; other codes once they happened.
      if (n == 0 && c != 0) continue;
      fmt::format_to(inserter, "signalbox_grpc_requests_total{{method=\"{}\",code=\"{}\"}} {}\n",
                     grpc_method_name(method), kCodeNames[c], n);
    }
  }
  out +=
      "# HELP signalbox_grpc_request_duration_seconds Time to answer one gRPC call, engine "
      "included.\n"
      "# TYPE signalbox_grpc_request_duration_seconds histogram\n";
  for (GrpcMethod method : kMethods) {
    durations_[static_cast<std::size_t>(method)].append_samples(
        out, "signalbox_grpc_request_duration_seconds",
        fmt::format("method=\"{}\"", grpc_method_name(method)));
  }
}

}  // namespace signalbox
