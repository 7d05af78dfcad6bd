#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace signalbox {

// Where a running `signalbox serve` answers: "http://HOST[:PORT][/PREFIX]".
struct ServerUrl {
  std::string host;    // a name, an IPv4 address, or an IPv6 address without its brackets
  std::string port;    // "80" when not given
  std::string prefix;  // "" or a path without its trailing '/', put before every route
};

// Parses `text` as a server URL; nullopt with `*problem` set to a phrase that follows the
// quoted text in an error message when it is not one (https, a query string, a bad port).
// Pure: safe from any thread.
std::optional<ServerUrl> parse_server_url(std::string_view text, std::string* problem);

}  // namespace signalbox
