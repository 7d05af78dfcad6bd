#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <grpcpp/server.h>

#include "signalbox/engine/engine.h"
#include "signalbox/grpc/calls_in_flight.h"
#include "signalbox/grpc/grpc_api.h"
#include "signalbox/process/service.h"

namespace signalbox {

struct GrpcServerOptions {
  // host:port to listen on (server.grpc); port 0 picks a free one, see local_address().
  std::string address = "127.0.0.1:9090";
  // A request message over this is refused with RESOURCE_EXHAUSTED (server.max_body_bytes, the
  // HTTP body limit).
  std::size_t max_message_bytes = 16 * 1024 * 1024;
  // Most user ids one BatchGetSignals may ask for.
  std::size_t max_batch_users = 1000;
  // On stop: longest wait for calls in flight before they are cancelled.
  std::chrono::milliseconds drain_timeout = std::chrono::seconds(30);
  // The process's metrics, shared with the HTTP server whose /metrics exposes them: the calls
  // by method and code, and IngestEvents' events (signalbox_events_total{source="grpc"},
  // freshness). Optional (null: a registry nothing exposes); must outlive the server.
  MetricsRegistry* metrics = nullptr;
  // Serve grpc.reflection.v1alpha.ServerReflection, so grpcurl and similar tools need no
  // .proto file.
  bool reflection = true;
  // Most events one IngestEvents may carry (server.max_events_per_request).
  std::size_t max_events_per_request = 100'000;
  // The request bytes budget shared with the HTTP server (HttpServer::admission()); optional,
  // must outlive the server.
  Admission* admission = nullptr;
  // Bearer tokens (server.auth), shared with the HTTP server; null: none needed.
  std::shared_ptr<const AccessControl> access;
  // TLS (server.tls): the PEM certificate chain and private key; absent: plaintext.
  std::optional<ServerTlsConfig> tls;
  // Whether IngestEvents takes events (ingests_over_http(config)); false: UNIMPLEMENTED.
  bool ingest = true;
};

// The GrpcServerOptions the `server` section of `config` asks for: address server.grpc (which
// must be set), message and event limits, TLS, and whether IngestEvents is on (`ingest`). metrics,
// admission and access are left for the caller, who shares them with the HTTP server.
GrpcServerOptions grpc_server_options(const Config& config);

// The gRPC server of `signalbox serve`: GrpcApi on gRPC's synchronous server, which runs each
// call on a thread of its own pool (engine calls block). A Service (process/service.h):
// start(), stop() and wait() may be called from any thread; stop() never blocks.
//
// Stopping: calls arriving from stop() on are answered UNAVAILABLE; calls in flight finish and
// their answers are sent (calls_in_flight.h), or are cancelled after `drain_timeout`; the port
// is closed; wait() returns once all that is done. The engine is not flushed here; the caller
// owns it.
class GrpcServer : public Service {
 public:
  // `engine` must outlive the server.
  GrpcServer(Engine& engine, GrpcServerOptions options);
  // Stops as stop() does and waits for it.
  ~GrpcServer() override;
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  // Binds and starts serving. Throws std::runtime_error naming the address when it cannot.
  // Does nothing when stop() came first.
  void start() override;
  // The address listened on, as host:port with the real port; valid after start().
  std::string local_address() const;
  // Begins the stop described above and returns at once.
  void stop() override;
  // Blocks until a stop begun by stop() has finished (at once when never started).
  void wait() override;

 private:
  GrpcServerOptions options_;
  GrpcApi api_;
  CallsInFlight calls_in_flight_;  // outlives server_, which holds its interceptor
  std::mutex mutex_;
  bool stopped_ = false;
  std::unique_ptr<grpc::Server> server_;
  std::string local_address_;
  std::thread shutdown_thread_;
};

}  // namespace signalbox
