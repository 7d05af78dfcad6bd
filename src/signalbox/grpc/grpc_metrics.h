#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <deque>
#include <string_view>

#include "signalbox/metrics/duration_histogram.h"
#include "signalbox/metrics/lazy_counter.h"

namespace signalbox {

class MetricsRegistry;

// The methods of the gRPC API, as metric labels.
enum class GrpcMethod { kIngestEvents, kGetSignals, kBatchGetSignals, kListSignals };
inline constexpr std::size_t kGrpcMethodCount = 4;

// "IngestEvents", ...: the method's name in the proto.
std::string_view grpc_method_name(GrpcMethod method);

// The gRPC front end's metrics, in a MetricsRegistry: signalbox_grpc_requests_total{method,
// code} (OK from the start, other codes once they happened) and
// signalbox_grpc_request_duration_seconds{method}. Every label set is resolved once: a call
// costs atomic additions, no lookup and no lock. Thread-safe.
class GrpcMetrics {
 public:
  // Status codes are the numbers of grpc::StatusCode (0 OK ... 16 UNAUTHENTICATED).
  static constexpr std::size_t kCodeCount = 17;

  explicit GrpcMetrics(MetricsRegistry& registry);
  GrpcMetrics(const GrpcMetrics&) = delete;
  GrpcMetrics& operator=(const GrpcMetrics&) = delete;

  void observe(GrpcMethod method, int code, std::chrono::nanoseconds duration);

 private:
  std::deque<LazyCounter> calls_;  // [method * kCodeCount + code]
  std::array<DurationHistogram*, kGrpcMethodCount> durations_{};
};

}  // namespace signalbox
