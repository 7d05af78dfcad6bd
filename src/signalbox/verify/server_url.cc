#include "signalbox/verify/server_url.h"

#include <charconv>

namespace signalbox {

namespace {

bool valid_port(std::string_view port) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  return ec == std::errc() && end == port.data() + port.size() && value >= 1 && value <= 65535;
}

}  // namespace

std::optional<ServerUrl> parse_server_url(std::string_view text, std::string* problem) {
  constexpr std::string_view kScheme = "http://";
  if (text.rfind("https://", 0) == 0) {
    *problem =
        "uses https, which verify does not speak: point it at an http:// address of the server";
    return std::nullopt;
  }
  if (text.rfind(kScheme, 0) != 0) {
    *problem = "is not an http:// URL (e.g. http://127.0.0.1:8080)";
    return std::nullopt;
  }
  std::string_view rest = text.substr(kScheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) {
    *problem = "has a query or fragment; give the server's address only";
    return std::nullopt;
  }
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (authority.find('@') != std::string_view::npos) {
    *problem = "holds credentials; tokens come from the config's server.auth";
    return std::nullopt;
  }
  ServerUrl url;
  std::optional<std::string_view> port;  // what follows the host's ':', when there is one
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      *problem = "has an IPv6 address without its closing ]";
      return std::nullopt;
    }
    url.host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') {
      *problem = "has something other than :PORT after the IPv6 address";
      return std::nullopt;
    }
    if (!after.empty()) port = after.substr(1);
  } else {
    const std::size_t colon = authority.find(':');
    url.host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (url.host.empty()) {
    *problem = "names no host";
    return std::nullopt;
  }
  if (port && !valid_port(*port)) {
    *problem = "has a bad port (use 1-65535)";
    return std::nullopt;
  }
  url.port = port ? std::string(*port) : "80";
  url.prefix = path;
  return url;
}

}  // namespace signalbox
