#include "signalbox/serve/web_routes.h"

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

std::size_t parse_limit(std::string_view text) {
  std::optional<std::uint64_t> limit = parse_uint64(text);
  if (!limit || *limit < 1 || *limit > kMaxUsers) {
    throw QueryError(fmt::format("limit: {} is not an integer from 1 to {}", json_text(text),
                                 kMaxUsers));
  }
  return static_cast<std::size_t>(*limit);
}

}  // namespace

http::response<http::string_body> users_response(Engine& engine, std::string_view query,
                                                 unsigned version) {
  std::string bad;
  std::optional<std::vector<QueryParam>> params = parse_query(query, &bad);
  if (!params) throw QueryError(fmt::format("query: bad percent-encoding in {}", json_text(bad)));
  std::optional<std::size_t> limit;
  for (const auto& [name, value] : *params) {
    if (name != "limit")
      throw QueryError(fmt::format("unknown query parameter {} (known: limit)", json_text(name)));
    if (limit) throw QueryError("limit: given more than once");
    limit = parse_limit(value);
  }
  std::string body = R"({"users":[)";
  bool first = true;
  for (std::uint64_t user : engine.sample_users(limit.value_or(kDefaultUsers))) {
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
