#include "signalbox/serve/http_api.h"

#include <chrono>
#include <exception>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "signalbox/common/error.h"
#include "signalbox/common/logging.h"
#include "signalbox/metrics/ingest_metrics.h"
#include "signalbox/serve/api_refusals.h"
#include "signalbox/serve/api_request.h"
#include "signalbox/serve/url.h"
#include "signalbox/serve/web_routes.h"

namespace signalbox {

namespace http = boost::beast::http;

HttpResponse json_response(http::status status, unsigned version, std::string body) {
  HttpResponse response(status, version);
  response.set(http::field::content_type, "application/json");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

namespace {

using Clock = std::chrono::steady_clock;

// A request whose deadline passed before it was answered: 503, it may be sent again.
class DeadlineExceeded : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string json_quoted(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

std::string_view view(boost::beast::string_view s) { return {s.data(), s.size()}; }

HttpResponse error_json(http::status status, unsigned version, std::string_view message) {
  std::string body = "{\"error\":";
  append_json_string(body, message);
  body += "}";
  return json_response(status, version, std::move(body));
}

// What a path names: its route and the methods it takes, or nothing (404).
struct Match {
  Route route = Route::kUnmatched;
  std::string_view allow;    // for the Allow header of a 405
  std::string_view user_id;  // the {user_id} segment, decoded (a view into the PathSegments)
  std::string asset;         // the file of kWebPage, as find_web_asset() takes it
};

constexpr std::string_view kGetMethods = "GET, HEAD";
constexpr std::string_view kPostMethods = "POST";

// Routes on decoded path segments, so that "/v1/signals%3AbatchGet" is batchGet as well.
Match match_path(const PathSegments& s) {
  if (s.size() == 2 && s[0] == "v1") {
    if (s[1] == "events") return {Route::kEvents, kPostMethods, {}};
    if (s[1] == "signals") return {Route::kSignals, kGetMethods, {}};
    if (s[1] == "signals:batchGet") return {Route::kBatchGet, kPostMethods, {}};
  }
  if (s.size() == 1 && s[0] == "healthz") return {Route::kHealthz, kGetMethods, {}};
  if (s.size() == 1 && s[0] == "readyz") return {Route::kReadyz, kGetMethods, {}};
  if (s.size() == 1 && s[0] == "metrics") return {Route::kMetrics, kGetMethods, {}};
  if (s.size() == 2 && s[0] == "v1" && s[1] == "users") return {Route::kUsers, kGetMethods, {}};
  if (s.size() == 1) {
    std::string asset = "/" + std::string(s[0]);
    if (find_web_asset(asset)) return {Route::kWebPage, kGetMethods, {}, std::move(asset)};
  }
  if (s.size() == 4 && s[0] == "v1" && s[1] == "users" && s[3] == "signals")
    return {Route::kUserSignals, kGetMethods, s[2]};
  if (s.size() == 4 && s[0] == "v1" && s[1] == "users" && s[3] == "explain")
    return {Route::kExplain, kGetMethods, s[2]};
  if (s.size() == 4 && s[0] == "v1" && s[1] == "users" && s[3] == "reach")
    return {Route::kUserReach, kGetMethods, s[2]};
  return {};
}

// Whether answering `route` reads or writes the store, so that its success ends an outage.
bool touches_store(Route route) {
  return route == Route::kEvents || route == Route::kUserSignals || route == Route::kBatchGet ||
         route == Route::kReadyz || route == Route::kUsers || route == Route::kExplain ||
         route == Route::kUserReach;
}

bool method_allowed(http::verb method, std::string_view allow) {
  if (allow == kPostMethods) return method == http::verb::post;
  return method == http::verb::get || method == http::verb::head;
}

}  // namespace

HttpApi::HttpApi(Engine& engine, HttpApiOptions options)
    : engine_(engine),
      options_(options),
      own_registry_(options.metrics ? nullptr : std::make_unique<MetricsRegistry>()),
      registry_(options.metrics ? *options.metrics : *own_registry_),
      metrics_(registry_),
      engine_metrics_(engine) {
  registry_.add_collectable(engine_metrics_);
  registry_.add_collectable(process_metrics_);
}

HttpApi::~HttpApi() {
  registry_.remove_collectable(process_metrics_);
  registry_.remove_collectable(engine_metrics_);
}

Route HttpApi::route_of(std::string_view target) {
  const PathSegments segments(split_target(target).path);
  return segments.well_formed() ? match_path(segments).route : Route::kUnmatched;
}

HttpResponse HttpApi::error_response(http::status status, unsigned version, Route route,
                                     std::string_view message) {
  metrics_.count_request(route, static_cast<unsigned>(status));
  return error_json(status, version, message);
}

HttpResponse HttpApi::handle(const HttpRequest& request, Clock::time_point received,
                             Clock::time_point deadline) {
  Route route = Route::kUnmatched;
  HttpResponse response;
  Clock::time_point start = Clock::now();
  try {
    response = dispatch(request, received, deadline, &route);
  } catch (const DeadlineExceeded& e) {
    response = error_json(http::status::service_unavailable, request.version(), e.what());
    response.set(http::field::retry_after, "1");
  } catch (const BadRequest& e) {
    response = error_json(http::status::bad_request, request.version(), e.what());
  } catch (const QueryError& e) {
    response = error_json(http::status::bad_request, request.version(), e.what());
  } catch (const StorageError& e) {
    // The store is unreachable or refused the write for now (a shared store's server down, a
    // concurrent writer): nothing was half-applied per user, and the same request can come again.
    storage_outage_.failed(e.what());
    response = error_json(http::status::service_unavailable, request.version(),
                          fmt::format("storage unavailable: {}", e.what()));
    response.set(http::field::retry_after, "1");
  } catch (const std::exception& e) {
    spdlog::error("{} {}: {}", view(request.method_string()), view(request.target()), e.what());
    response = error_json(http::status::internal_server_error, request.version(),
                          fmt::format("internal error: {}", e.what()));
  }
  if (touches_store(route) && response.result_int() < 500) storage_outage_.succeeded();
  metrics_.count_request(route, response.result_int());
  std::int64_t slow_ms = slow_query_ms_.load(std::memory_order_relaxed);
  auto took = Clock::now() - start;
  if (route != Route::kEvents && slow_ms > 0 && took >= std::chrono::milliseconds(slow_ms)) {
    // The target is the client's text: bounded, so that one line stays a sane size.
    constexpr std::size_t kMaxTarget = 300;
    std::string_view target = view(request.target()).substr(0, kMaxTarget);
    log_event(spdlog::level::warn, "slow query",
              {{"route", route_label(route)},
               {"target", target},
               {"status", response.result_int()},
               {"seconds", std::chrono::duration<double>(took).count()}});
  }
  if (request.method() == http::verb::head) {
    // The headers a GET would have had, without its body.
    std::size_t length = response.body().size();
    response.body().clear();
    response.content_length(length);
  }
  return response;
}

HttpResponse HttpApi::dispatch(const HttpRequest& request, Clock::time_point received,
                               Clock::time_point deadline, Route* route) {
  Target target = split_target(view(request.target()));
  const PathSegments segments(target.path);
  if (!segments.well_formed()) {
    throw BadRequest(fmt::format("path: bad percent-encoding in {}", json_quoted(target.path)));
  }
  Match match = match_path(segments);
  *route = match.route;
  if (match.route == Route::kUnmatched) {
    return error_json(http::status::not_found, request.version(),
                      fmt::format("no route for {} {} (see docs/http-api.md)",
                                  view(request.method_string()), target.path));
  }
  if (!method_allowed(request.method(), match.allow)) {
    HttpResponse response = error_json(
        http::status::method_not_allowed, request.version(),
        fmt::format("method {} is not allowed on {} (allowed: {})", view(request.method_string()),
                    route_label(match.route), match.allow));
    response.set(http::field::allow,
                 boost::beast::string_view(match.allow.data(), match.allow.size()));
    return response;
  }

  switch (match.route) {
    case Route::kEvents:
      return post_events(request, received);
    case Route::kUserSignals: {
      Clock::time_point start = Clock::now();
      HttpResponse response = get_user_signals(request, match.user_id, target.query);
      metrics_.observe_query(Route::kUserSignals, Clock::now() - start);
      return response;
    }
    case Route::kExplain: {
      ExplainRequest parsed = parse_explain_request(match.user_id, target.query);
      return json_response(http::status::ok, request.version(),
                           engine_
                               .explain(parsed.user_id, parsed.name, parsed.window, parsed.as_of,
                                        {.max_events = parsed.max_events})
                               .to_json());
    }
    case Route::kBatchGet: {
      Clock::time_point start = Clock::now();
      HttpResponse response = batch_get(request, deadline);
      metrics_.observe_query(Route::kBatchGet, Clock::now() - start);
      return response;
    }
    case Route::kSignals:
      return json_response(http::status::ok, request.version(), engine_.describe().to_json());
    case Route::kHealthz:
      return json_response(http::status::ok, request.version(), R"({"status":"ok"})");
    case Route::kReadyz:
      engine_.check_ready();  // a StorageError answers 503, as for any request
      return readiness_response(request.version());
    case Route::kMetrics:
      return get_metrics(request);
    case Route::kUsers:
      return users_response(engine_, target.query, request.version());
    case Route::kUserReach:
      return reach_response(engine_, parse_reach_request(match.user_id, target.query),
                            request.version());
    case Route::kWebPage:
      return web_asset_response(*find_web_asset(match.asset), request.version());
    case Route::kUnmatched:
      break;
  }
  throw std::logic_error("unrouted request");
}

HttpResponse HttpApi::post_events(const HttpRequest& request, Clock::time_point received) {
  if (!options_.ingest)
    return error_json(http::status::not_found, request.version(), ingest_off_message());
  // The errors listed in one answer; the count of rejected events is always complete.
  constexpr std::size_t kMaxErrorsListed = 100;
  Clock::time_point start = Clock::now();
  IngestResult result = engine_.ingest_json(request.body());
  Clock::time_point visible = Clock::now();
  metrics_.observe_ingest(visible - start);
  registry_.ingest().count(IngestSource::kHttp, result.accepted, result.duplicates,
                           result.rejected);
  if (result.accepted > 0)
    registry_.ingest().observe_freshness(IngestSource::kHttp, visible - received);
  reject_log_.note(IngestSource::kHttp, result.accepted + result.rejected.size(), result.rejected);

  std::string body = fmt::format(R"({{"accepted":{},"rejected":{},"errors":[)", result.accepted,
                                 result.rejected.size());
  std::size_t listed = std::min(result.rejected.size(), kMaxErrorsListed);
  for (std::size_t i = 0; i < listed; ++i) {
    if (i > 0) body += ',';
    fmt::format_to(std::back_inserter(body), R"({{"index":{},"error":)", result.rejected[i].index);
    append_json_string(body, result.rejected[i].message);
    body += '}';
  }
  fmt::format_to(std::back_inserter(body), R"(],"duplicates":{}}})", result.duplicates);
  return json_response(http::status::ok, request.version(), std::move(body));
}

HttpResponse HttpApi::get_user_signals(const HttpRequest& request, std::string_view user_text,
                                       std::string_view query) {
  SignalsRequest parsed = parse_signals_request(user_text, query);
  std::string body;
  engine_.query_json(parsed.user_id, parsed.names, parsed.as_of, Engine::Seen::kReport, body);
  return json_response(http::status::ok, request.version(), std::move(body));
}

HttpResponse HttpApi::batch_get(const HttpRequest& request, Clock::time_point deadline) {
  BatchRequest batch = parse_batch_request(request.body(), options_.max_batch_users);
  // One as_of for the whole batch, so that its answers are mutually consistent.
  TimeMs as_of = batch.as_of ? *batch.as_of : wall_clock_ms();
  std::string body = R"({"results":[)";
  for (std::size_t i = 0; i < batch.user_ids.size(); ++i) {
    if (i > 0) body += ',';
    if (Clock::now() >= deadline) {
      throw DeadlineExceeded(fmt::format(
          "deadline: the query deadline passed after {} of {} users (server.query_timeout or "
          "X-Request-Timeout-Ms); retry later or ask for fewer users",
          i, batch.user_ids.size()));
    }
    engine_.query_json(batch.user_ids[i], batch.names, as_of, Engine::Seen::kReport, body);
  }
  body += "]}";
  return json_response(http::status::ok, request.version(), std::move(body));
}

HttpResponse HttpApi::readiness_response(unsigned version) const {
  Value::Array building;
  const Value described = engine_.describe();
  for (const Value& signal : described.find("signals")->array())
    if (const Value* b = signal.find("bootstrapping"); b && *b == Value(true))
      building.push_back(*signal.find("name"));
  if (building.empty()) return json_response(http::status::ok, version, R"({"status":"ready"})");
  // Not ready until every signal is built from history (a load balancer sends traffic to a
  // complete replica first); the server still answers, marking what is incomplete, and ingests.
  Value::Object out{{"status", Value("bootstrapping")},
                    {"bootstrapping", Value(std::move(building))}};
  HttpResponse response =
      json_response(http::status::service_unavailable, version, Value(std::move(out)).to_json());
  response.set(http::field::retry_after, "5");
  return response;
}

HttpResponse HttpApi::get_metrics(const HttpRequest& request) {
  std::string body = registry_.expose();
  HttpResponse response(http::status::ok, request.version());
  response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

}  // namespace signalbox
