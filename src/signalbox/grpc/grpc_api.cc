#include "signalbox/grpc/grpc_api.h"

#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "signalbox/common/error.h"
#include "signalbox/event_proto/event_json.h"
#include "signalbox/metrics/ingest_metrics.h"
#include "signalbox/serve/api_refusals.h"
#include "signalbox/serve/api_request.h"

namespace signalbox {

namespace {

using Clock = std::chrono::steady_clock;

// The errors listed in one IngestEvents answer, as in POST /v1/events.
constexpr std::size_t kMaxErrorsListed = 100;

// A call ended with a status other than OK.
class CallError : public std::runtime_error {
 public:
  CallError(grpc::StatusCode code, const std::string& message)
      : std::runtime_error(message), code(code) {}
  grpc::StatusCode code;
};

// Throws when the call should not go on: its deadline passed or the client cancelled it.
void check_live(grpc::ServerContext* context) {
  if (context->deadline() <= std::chrono::system_clock::now())
    throw CallError(grpc::StatusCode::DEADLINE_EXCEEDED,
                    "deadline exceeded before the work was done");
  if (context->IsCancelled()) throw CallError(grpc::StatusCode::CANCELLED, "call cancelled");
}

// Names as HTTP takes them: repeats answered once, in first-asked order.
std::vector<std::string> unique_names(const google::protobuf::RepeatedPtrField<std::string>& in) {
  std::vector<std::string> names;
  std::unordered_set<std::string> seen;
  for (const std::string& name : in)
    if (seen.insert(name).second) names.push_back(name);
  return names;
}

}  // namespace

GrpcApi::GrpcApi(Engine& engine, GrpcApiOptions options)
    : engine_(engine),
      options_(options),
      translator_(engine.config()),
      own_registry_(options.metrics ? nullptr : std::make_unique<MetricsRegistry>()),
      registry_(options.metrics ? *options.metrics : *own_registry_),
      metrics_(registry_) {}

template <typename Work>
grpc::Status GrpcApi::run(GrpcMethod method, grpc::ServerContext* context, Work&& work) {
  Clock::time_point start = Clock::now();
  grpc::Status status;
  try {
    if (stopping_.load(std::memory_order_relaxed))
      throw CallError(grpc::StatusCode::UNAVAILABLE, "server is shutting down");
    check_access(method, context);
    check_live(context);
    work();
  } catch (const CallError& e) {
    status = grpc::Status(e.code, e.what());
  } catch (const BadRequest& e) {
    status = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, e.what());
  } catch (const QueryError& e) {
    status = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, e.what());
  } catch (const StorageError& e) {
    // As HTTP's 503: the store is unreachable for now and the call may be retried.
    storage_outage_.failed(e.what());
    status = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          fmt::format("storage unavailable: {}", e.what()));
  } catch (const std::exception& e) {
    spdlog::error("gRPC {}: {}", grpc_method_name(method), e.what());
    status = grpc::Status(grpc::StatusCode::INTERNAL, fmt::format("internal error: {}", e.what()));
  }
  if (status.ok()) storage_outage_.succeeded();
  metrics_.observe(method, static_cast<int>(status.error_code()), Clock::now() - start);
  return status;
}

void GrpcApi::check_access(GrpcMethod method, grpc::ServerContext* context) const {
  if (!options_.access) return;
  Access needed = method == GrpcMethod::kIngestEvents ? Access::kIngest : Access::kQuery;
  std::string_view authorization;
  const auto& metadata = context->client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end())
    authorization = std::string_view(it->second.data(), it->second.size());
  if (std::optional<AccessDenied> denied = options_.access->check(needed, authorization)) {
    throw CallError(denied->refusal == Refusal::kWrongKind ? grpc::StatusCode::PERMISSION_DENIED
                                                           : grpc::StatusCode::UNAUTHENTICATED,
                    denied->message);
  }
}

grpc::Status GrpcApi::IngestEvents(grpc::ServerContext* context,
                                   const v1::IngestEventsRequest* request,
                                   v1::IngestEventsResponse* response) {
  return run(GrpcMethod::kIngestEvents, context, [&] {
    if (!options_.ingest)
      throw CallError(grpc::StatusCode::UNIMPLEMENTED, std::string(ingest_off_message()));
    if (static_cast<std::size_t>(request->events_size()) > options_.max_events_per_request) {
      throw CallError(grpc::StatusCode::RESOURCE_EXHAUSTED,
                      fmt::format("events: at most {} events per request, got {} "
                                  "(server.max_events_per_request); send them in several calls",
                                  options_.max_events_per_request, request->events_size()));
    }
    // The decoded message and its NDJSON copy are held while the engine works.
    Reservation held;
    if (options_.admission) {
      held = Reservation(options_.admission->inflight_bytes);
      if (!held.resize(2 * request->ByteSizeLong())) {
        throw CallError(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        fmt::format("server busy: requests in flight hold {} of {} bytes "
                                    "(server.max_inflight_bytes); retry later",
                                    options_.admission->inflight_bytes.used(),
                                    options_.admission->inflight_bytes.limit()));
      }
    }
    Clock::time_point received = Clock::now();
    // The JSON path's decoder judges every event, so both front ends apply one set of rules.
    IngestResult result = engine_.ingest_json(events_ndjson(request->events()));
    registry_.ingest().count(IngestSource::kGrpc, result.accepted, result.duplicates,
                             result.rejected);
    if (result.accepted > 0)
      registry_.ingest().observe_freshness(IngestSource::kGrpc, Clock::now() - received);
    response->set_accepted(result.accepted);
    response->set_rejected(result.rejected.size());
    response->set_duplicates(result.duplicates);
    std::size_t listed = std::min(result.rejected.size(), kMaxErrorsListed);
    for (std::size_t i = 0; i < listed; ++i) {
      v1::EventError* error = response->add_errors();
      error->set_index(result.rejected[i].index);
      error->set_error(result.rejected[i].message);
    }
  });
}

grpc::Status GrpcApi::GetSignals(grpc::ServerContext* context, const v1::GetSignalsRequest* request,
                                 v1::UserSignals* response) {
  return run(GrpcMethod::kGetSignals, context, [&] {
    std::optional<TimeMs> as_of;
    if (request->has_as_of()) {
      check_as_of(request->as_of());
      as_of = request->as_of();
    }
    Value answer = engine_.query(request->user_id(), unique_names(request->names()), as_of,
                                 Engine::Seen::kReport);
    translator_.user_signals(request->user_id(), answer, response);
  });
}

grpc::Status GrpcApi::BatchGetSignals(grpc::ServerContext* context,
                                      const v1::BatchGetSignalsRequest* request,
                                      v1::BatchGetSignalsResponse* response) {
  return run(GrpcMethod::kBatchGetSignals, context, [&] {
    if (static_cast<std::size_t>(request->user_ids_size()) > options_.max_batch_users) {
      // A request-shape error, as over HTTP (400), not a lack of resources.
      throw CallError(grpc::StatusCode::INVALID_ARGUMENT,
                      too_many_users_message(options_.max_batch_users,
                                             static_cast<std::size_t>(request->user_ids_size())));
    }
    if (request->has_as_of()) check_as_of(request->as_of());
    std::vector<std::string> names = unique_names(request->names());
    // One as_of for the whole batch, so that its answers are mutually consistent.
    TimeMs as_of = request->has_as_of() ? request->as_of() : wall_clock_ms();
    for (std::uint64_t user_id : request->user_ids()) {
      check_live(context);
      Value answer = engine_.query(user_id, names, as_of, Engine::Seen::kReport);
      translator_.user_signals(user_id, answer, response->add_results());
    }
  });
}

grpc::Status GrpcApi::ListSignals(grpc::ServerContext* context,
                                  const v1::ListSignalsRequest* request,
                                  v1::ListSignalsResponse* response) {
  return run(GrpcMethod::kListSignals, context,
             [&] { ResultTranslator::list_signals(engine_.describe(), response); });
}

}  // namespace signalbox
