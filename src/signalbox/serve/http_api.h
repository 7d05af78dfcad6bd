#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "signalbox/common/beast.h"
#include "signalbox/common/outage_log.h"
#include "signalbox/engine/engine.h"
#include "signalbox/metrics/engine_metrics.h"
#include "signalbox/metrics/process_metrics.h"
#include "signalbox/metrics/registry.h"
#include "signalbox/serve/http_metrics.h"
#include "signalbox/serve/reject_log.h"
#include "signalbox/serve/route.h"

namespace signalbox {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

// A response of `status` whose body is `body`, a JSON text: its content type and length set.
HttpResponse json_response(boost::beast::http::status status, unsigned version, std::string body);

struct HttpApiOptions {
  // Most user ids one POST /v1/signals:batchGet may ask for; more is a 400.
  std::size_t max_batch_users = 1000;
  // Whether POST /v1/events takes events; false (see ingests_over_http()): it is answered 404,
  // saying that ingest over HTTP is not configured.
  bool ingest = true;
  // The process's metrics, which GET /metrics exposes and where this API registers its own
  // (HttpMetrics, the engine's, the process's); must outlive the HttpApi. Null: the HttpApi
  // keeps a registry of its own.
  MetricsRegistry* metrics = nullptr;
};

// The HTTP API of docs/http-api.md over one Engine, apart from any socket: turns a complete request
// into its complete response and keeps the serving metrics. Thread-safe. handle() blocks on the
// engine (RocksDB reads, the ingest lock), so servers call it off their I/O threads.
//
// Routes: POST /v1/events, GET /v1/users/{user_id}/signals, GET /v1/users/{user_id}/explain,
// POST /v1/signals:batchGet,
// GET /v1/signals, GET /healthz, GET /readyz, GET /metrics, GET /v1/users and the web page at /
// (HEAD too for each GET). Answers are JSON with Content-Type application/json, except /metrics
// (Prometheus text) and the page's files. Errors are {"error": "..."} whose message starts
// with the parameter at fault.
class HttpApi {
 public:
  HttpApi(Engine& engine, HttpApiOptions options = {});
  ~HttpApi();
  HttpApi(const HttpApi&) = delete;
  HttpApi& operator=(const HttpApi&) = delete;

  // The answer to `request`; never throws for anything a client sends (engine failures become
  // 500s). Keep-alive is left for the caller to decide; the version is the request's.
  // `received` is when the request was read in full: ingest freshness is measured from it.
  // `deadline`: a batchGet still running then stops and is answered 503 (Retry-After: 1).
  HttpResponse handle(const HttpRequest& request, std::chrono::steady_clock::time_point received,
                      std::chrono::steady_clock::time_point deadline);
  HttpResponse handle(const HttpRequest& request, std::chrono::steady_clock::time_point received) {
    return handle(request, received, std::chrono::steady_clock::time_point::max());
  }
  HttpResponse handle(const HttpRequest& request) {
    return handle(request, std::chrono::steady_clock::now());
  }

  // Requests other than POST /v1/events slower than `threshold` are logged (warn) with their
  // target and time; zero logs none. Default one second (log.slow_query).
  void set_slow_query_threshold(std::chrono::milliseconds threshold) {
    slow_query_ms_.store(threshold.count(), std::memory_order_relaxed);
  }

  // An error answer the server makes before a request reaches handle() (body over the limit,
  // headers too large, bad framing), counted in the metrics under `route`.
  HttpResponse error_response(boost::beast::http::status status, unsigned version, Route route,
                              std::string_view message);

  // The route a request target would take, for counting requests that fail before handle().
  static Route route_of(std::string_view target);

  HttpMetrics& metrics() { return metrics_; }
  // The registry GET /metrics exposes (HttpApiOptions::metrics, or the HttpApi's own).
  MetricsRegistry& registry() { return registry_; }

 private:
  HttpResponse dispatch(const HttpRequest& request, std::chrono::steady_clock::time_point received,
                        std::chrono::steady_clock::time_point deadline, Route* route);
  HttpResponse post_events(const HttpRequest& request,
                           std::chrono::steady_clock::time_point received);
  HttpResponse get_user_signals(const HttpRequest& request, std::string_view user_id,
                                std::string_view query);
  HttpResponse batch_get(const HttpRequest& request,
                         std::chrono::steady_clock::time_point deadline);
  HttpResponse get_metrics(const HttpRequest& request);
  // The /readyz answer once the store is reachable: 200 ready, or 503 naming the signals still
  // being built from history.
  HttpResponse readiness_response(unsigned version) const;

  Engine& engine_;
  HttpApiOptions options_;
  std::unique_ptr<MetricsRegistry> own_registry_;  // when options_.metrics is null
  MetricsRegistry& registry_;
  HttpMetrics metrics_;
  EngineMetrics engine_metrics_;
  ProcessMetrics process_metrics_;
  RejectLog reject_log_;
  std::atomic<std::int64_t> slow_query_ms_{1000};
  OutageLog storage_outage_{"storage"};
};

}  // namespace signalbox
