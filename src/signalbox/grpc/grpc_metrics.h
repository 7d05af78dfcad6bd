#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "signalbox/serve/metrics.h"

namespace signalbox {

// The methods of the gRPC API, as metric labels.
enum class GrpcMethod { kIngestEvents, kGetSignals, kBatchGetSignals, kListSignals };
inline constexpr std::size_t kGrpcMethodCount = 4;

// "IngestEvents", ...: the method's name in the proto.
std::string_view grpc_method_name(GrpcMethod method);

// The gRPC front end's metrics: calls by method and status code, and call latency by method.
// Thread-safe and lock-free.
class GrpcMetrics {
 public:
  // Status codes are the numbers of grpc::StatusCode (0 OK ... 16 UNAUTHENTICATED).
  static constexpr std::size_t kCodeCount = 17;

  void observe(GrpcMethod method, int code, std::chrono::nanoseconds duration);

  // Appends signalbox_grpc_requests_total{method,code} and
  // signalbox_grpc_request_duration_seconds{method} in Prometheus text format.
  void append_prometheus(std::string& out) const;

 private:
  std::array<std::array<std::atomic<std::uint64_t>, kCodeCount>, kGrpcMethodCount> calls_{};
  std::array<DurationHistogram, kGrpcMethodCount> durations_;
};

}  // namespace signalbox
