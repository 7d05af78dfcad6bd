#include "signalbox/serve/server_options.h"

#include "signalbox/serve/tls_context.h"

namespace signalbox {

HttpServerOptions http_server_options(const Config& config) {
  const ServerConfig& server = config.server;
  HttpServerOptions options;
  options.address = server.http;
  options.max_body_bytes = server.max_body_bytes;
  options.idle_timeout = std::chrono::milliseconds(server.idle_timeout);
  options.request_timeout = std::chrono::milliseconds(server.request_timeout);
  options.query_timeout = std::chrono::milliseconds(server.query_timeout);
  options.drain_timeout = std::chrono::milliseconds(server.shutdown_timeout);
  options.max_connections = server.max_connections;
  options.max_inflight_bytes = server.max_inflight_bytes;
  options.max_queued_requests = server.max_queued_requests;
  options.inline_query_budget = std::chrono::milliseconds(server.inline_query_budget);
  options.query_threads = static_cast<unsigned>(server.query_threads);
  options.ingest = ingests_over_http(config);
  if (server.auth.any()) options.access = std::make_shared<AccessControl>(server.auth);
  if (server.tls) options.tls = make_tls_context(server.tls->cert, server.tls->key);
  return options;
}

}  // namespace signalbox
