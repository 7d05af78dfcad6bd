#include "signalbox/serve/web_routes.h"

#include <algorithm>

#include <fmt/format.h>

#include "signalbox/common/error.h"
#include "signalbox/common/value.h"
#include "signalbox/serve/url.h"

namespace signalbox {

namespace http = boost::beast::http;

namespace {

constexpr std::size_t kDefaultUsers = 100;
constexpr std::size_t kMaxUsers = 1000;

std::string json_text(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

// A count parameter (`limit`, `recent`) from 1 to `most`.
std::size_t parse_count(std::string_view name, std::string_view text, std::size_t most) {
  std::optional<std::uint64_t> count = parse_uint64(text);
  if (!count || *count < 1 || *count > most) {
    throw QueryError(
        fmt::format("{}: {} is not an integer from 1 to {}", name, json_text(text), most));
  }
  return static_cast<std::size_t>(*count);
}

// Which users GET /v1/users lists: a sample (recent, then stored) or only the recent ones.
struct UsersQuery {
  std::optional<std::size_t> limit;
  std::optional<std::size_t> recent;
};

UsersQuery parse_users_query(std::string_view query) {
  std::string bad;
  std::optional<std::vector<QueryParam>> params = parse_query(query, &bad);
  if (!params) throw QueryError(fmt::format("query: bad percent-encoding in {}", json_text(bad)));
  UsersQuery parsed;
  for (const auto& [name, value] : *params) {
    std::optional<std::size_t>* slot = name == "limit"    ? &parsed.limit
                                       : name == "recent" ? &parsed.recent
                                                          : nullptr;
    if (!slot)
      throw QueryError(
          fmt::format("unknown query parameter {} (known: limit, recent)", json_text(name)));
    if (*slot) throw QueryError(fmt::format("{}: given more than once", name));
    *slot = parse_count(name, value, name == "recent" ? Engine::kRecentUsers : kMaxUsers);
  }
  if (parsed.limit && parsed.recent)
    throw QueryError(
        "recent: lists the recent users only and takes no limit; give one of limit and recent");
  return parsed;
}

}  // namespace

http::response<http::string_body> users_response(Engine& engine, std::string_view query,
                                                 unsigned version) {
  const UsersQuery parsed = parse_users_query(query);
  const std::vector<std::uint64_t> users =
      parsed.recent ? engine.recent_users(*parsed.recent)
                    : engine.sample_users(parsed.limit.value_or(kDefaultUsers));
  std::string body = R"({"users":[)";
  bool first = true;
  for (std::uint64_t user : users) {
    if (!first) body += ',';
    first = false;
    fmt::format_to(std::back_inserter(body), "\"{}\"", user);
  }
  body += "]}";
  http::response<http::string_body> response(http::status::ok, version);
  response.set(http::field::content_type, "application/json");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

http::response<http::string_body> reach_response(Engine& engine, const ReachRequest& request,
                                                 unsigned version) {
  const TimeMs precision = std::max<TimeMs>(kMinuteMs, (request.to - request.from) / 200);
  const std::optional<TimeMs> earliest = engine.earliest_answerable(
      request.user_id, request.names, request.from, request.to, precision);
  std::string body =
      fmt::format(R"({{"user_id":"{}","from":{},"to":{},"earliest":{}}})", request.user_id,
                  request.from, request.to, earliest ? std::to_string(*earliest) : "null");
  http::response<http::string_body> response(http::status::ok, version);
  response.set(http::field::content_type, "application/json");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

http::response<http::string_body> web_asset_response(const WebAsset& asset, unsigned version) {
  http::response<http::string_body> response(http::status::ok, version);
  response.set(http::field::content_type,
               boost::beast::string_view(asset.content_type.data(), asset.content_type.size()));
  // The page is part of the binary: revalidate so an upgraded server is seen at once.
  response.set(http::field::cache_control, "no-cache");
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Content-Security-Policy",
               "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
               "frame-ancestors 'none'");
  response.body().assign(asset.bytes.data(), asset.bytes.size());
  response.prepare_payload();
  return response;
}

}  // namespace signalbox
