#include "signalbox/serve/server_options.h"

#include <algorithm>
#include <thread>

#include "signalbox/serve/tls_context.h"

namespace signalbox {

namespace {

// Whether a query waits on the network for the store (Redis) rather than reading cached blocks.
bool store_over_network(const Config& config) { return config.storage.kind == "redis"; }

// The query pool's size when the config leaves it out. A query on the embedded store is CPU
// work on cached blocks: one thread per core (HttpServer's default). A query on Redis waits
// on the network for most of its time, so it wants threads to wait in: two per core, at
// least 4 (with one per core, light users' queries on Redis fell from 10.1 k to 5.8-7.3 k
// requests/s in bench/run.sh, docs/performance.md).
unsigned default_query_threads(const Config& config) {
  if (!store_over_network(config)) return 0;
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return std::max(4u, 2 * cores);
}

}  // namespace

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
  options.inline_answers_block = store_over_network(config);
  options.io_threads = static_cast<unsigned>(server.io_threads);
  options.query_threads = server.query_threads > 0 ? static_cast<unsigned>(server.query_threads)
                                                   : default_query_threads(config);
  options.ingest = ingests_over_http(config);
  if (server.auth.any()) options.access = std::make_shared<AccessControl>(server.auth);
  if (server.tls) options.tls = make_tls_context(server.tls->cert, server.tls->key);
  return options;
}

}  // namespace signalbox
