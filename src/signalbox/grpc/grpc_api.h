#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

#include "signalbox/common/outage_log.h"
#include "signalbox/engine/engine.h"
#include "signalbox/grpc/grpc_metrics.h"
#include "signalbox/grpc/results.h"
#include "signalbox/metrics/registry.h"
#include "signalbox/serve/access_control.h"
#include "signalbox/serve/admission.h"
#include "signalbox/v1/signalbox.grpc.pb.h"

namespace signalbox {

struct GrpcApiOptions {
  // Most user ids one BatchGetSignals may ask for; more is RESOURCE_EXHAUSTED.
  std::size_t max_batch_users = 1000;
  // Where the calls are counted (GrpcMetrics) and IngestEvents counts its events (the shared
  // IngestMetrics, source grpc); must outlive the GrpcApi. Null: a registry of its own.
  MetricsRegistry* metrics = nullptr;
  // Most events one IngestEvents may carry; more is RESOURCE_EXHAUSTED.
  std::size_t max_events_per_request = 100'000;
  // The request bytes budget shared with HTTP (server.max_inflight_bytes): a request that
  // would pass it is RESOURCE_EXHAUSTED. Optional; must outlive every call.
  Admission* admission = nullptr;
  // Bearer tokens (metadata "authorization: Bearer T"): none is UNAUTHENTICATED, one of
  // another kind PERMISSION_DENIED. Null: no call needs one.
  std::shared_ptr<const AccessControl> access;
  // Whether IngestEvents takes events; false (see ingests_over_http()): every IngestEvents is
  // UNIMPLEMENTED, saying that ingest is not configured.
  bool ingest = true;
};

// The signalbox.v1.Signalbox service over one Engine: the operations of the HTTP API (HttpApi)
// with the same engine calls, validation and limits, answered with typed messages. Thread-safe:
// gRPC calls its methods from many threads at once.
//
// Status codes (docs/grpc.md): a request the engine refuses (unknown name, bad as_of) is
// INVALID_ARGUMENT with the engine's message, as HTTP's 400; a batch over max_batch_users is
// INVALID_ARGUMENT; an IngestEvents over max_events_per_request, or over the shared bytes
// budget, is RESOURCE_EXHAUSTED; a call without the bearer token its kind needs is
// UNAUTHENTICATED, with a token of another kind PERMISSION_DENIED; IngestEvents while ingest is
// off is UNIMPLEMENTED, as HTTP's 404; a call whose deadline passed or that was cancelled gets
// DEADLINE_EXCEEDED / CANCELLED without touching the engine (a batch is checked again between
// users; an ingest once begun is finished, so nothing is half taken); after stop_accepting()
// every call is UNAVAILABLE; an engine failure is INTERNAL. Bad events are not an error of the
// call: like POST /v1/events, IngestEvents takes the good ones and lists the bad ones.
class GrpcApi final : public v1::Signalbox::Service {
 public:
  GrpcApi(Engine& engine, GrpcApiOptions options);

  grpc::Status IngestEvents(grpc::ServerContext* context, const v1::IngestEventsRequest* request,
                            v1::IngestEventsResponse* response) override;
  grpc::Status GetSignals(grpc::ServerContext* context, const v1::GetSignalsRequest* request,
                          v1::UserSignals* response) override;
  grpc::Status BatchGetSignals(grpc::ServerContext* context,
                               const v1::BatchGetSignalsRequest* request,
                               v1::BatchGetSignalsResponse* response) override;
  grpc::Status ListSignals(grpc::ServerContext* context, const v1::ListSignalsRequest* request,
                           v1::ListSignalsResponse* response) override;

  // From now on every call is answered UNAVAILABLE (the server is stopping). Thread-safe.
  void stop_accepting() { stopping_.store(true, std::memory_order_relaxed); }

 private:
  template <typename Work>
  grpc::Status run(GrpcMethod method, grpc::ServerContext* context, Work&& work);
  // Throws CallError unless the call carries the token its kind needs.
  void check_access(GrpcMethod method, grpc::ServerContext* context) const;

  Engine& engine_;
  GrpcApiOptions options_;
  ResultTranslator translator_;
  std::unique_ptr<MetricsRegistry> own_registry_;  // when options_.metrics is null
  MetricsRegistry& registry_;
  GrpcMetrics metrics_;
  std::atomic<bool> stopping_{false};
  OutageLog storage_outage_{"storage"};
};

}  // namespace signalbox
