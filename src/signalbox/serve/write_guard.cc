#include "signalbox/serve/write_guard.h"

#include <cctype>

#include <fmt/format.h>

namespace signalbox {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// host[:port] of an origin "scheme://host[:port]", with the scheme's default port dropped.
std::string origin_authority(std::string_view origin) {
  std::size_t scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos) return {};
  std::string scheme = lower(origin.substr(0, scheme_end));
  std::string authority = lower(origin.substr(scheme_end + 3));
  if (!authority.empty() && authority.back() == '/') authority.pop_back();
  if (scheme == "http" && authority.ends_with(":80")) authority.resize(authority.size() - 3);
  if (scheme == "https" && authority.ends_with(":443")) authority.resize(authority.size() - 4);
  return authority;
}

// Clients write it both ways.
std::string host_authority(std::string_view host) {
  std::string authority = lower(trim(host));
  if (authority.ends_with(":80")) authority.resize(authority.size() - 3);
  return authority;
}

}  // namespace

std::optional<std::string> cross_origin_problem(std::string_view origin, std::string_view host) {
  origin = trim(origin);
  if (origin.empty()) return std::nullopt;
  std::string from = origin_authority(origin);
  if (!from.empty() && from == host_authority(host)) return std::nullopt;
  constexpr std::size_t kMaxShown = 200;
  return fmt::format(
      "origin: cross-origin writes are refused (Origin \"{}\" is not this server's host \"{}\"; "
      "configure server.auth tokens to accept writes from other origins)",
      origin.substr(0, kMaxShown), trim(host).substr(0, kMaxShown));
}

std::optional<std::string> ingest_content_type_problem(std::string_view content_type) {
  std::string type = lower(trim(content_type.substr(0, content_type.find(';'))));
  if (type == "application/json" || type == "application/x-ndjson" ||
      (type.starts_with("application/") && type.ends_with("+json"))) {
    return std::nullopt;
  }
  constexpr std::size_t kMaxShown = 200;
  return fmt::format(
      "content-type: {} is not taken for events (use application/json or "
      "application/x-ndjson)",
      type.empty() ? std::string("none given") : fmt::format("\"{}\"", type.substr(0, kMaxShown)));
}

}  // namespace signalbox
