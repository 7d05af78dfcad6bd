#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace signalbox {

// Helpers for request targets ("/v1/users/42/signals?names=a,b"). Plain functions of their
// arguments: safe from any thread.

// Decodes %XX escapes (either case of hex digit); with `plus_is_space`, as in query strings,
// also '+' to a space. Returns nullopt when a '%' is not followed by two hex digits.
std::optional<std::string> url_decode(std::string_view text, bool plus_is_space);

// A request target split at its first '?': the path and the raw (still encoded) query.
struct Target {
  std::string_view path;
  std::string_view query;
};
Target split_target(std::string_view target);

// Splits a path into its '/'-separated segments, each URL-decoded ('+' stays '+'), dropping
// the leading '/': "/v1/users/42" gives {"v1", "users", "42"}; "/" gives {""}. Returns nullopt
// on a malformed escape.
std::optional<std::vector<std::string>> split_path(std::string_view path);

// One decoded name=value pair of a query string, in the order written.
using QueryParam = std::pair<std::string, std::string>;

// Parses "a=1&b=x%20y" into decoded pairs; empty pieces ("a=1&&b=2") are skipped and a piece
// without '=' has an empty value. On a malformed escape returns nullopt and sets *bad to the
// piece at fault.
std::optional<std::vector<QueryParam>> parse_query(std::string_view query, std::string* bad);

// A decimal unsigned 64-bit integer: digits only, no sign, no spaces, no overflow.
std::optional<std::uint64_t> parse_uint64(std::string_view text);
// A decimal signed 64-bit integer: an optional '-', then digits; no overflow.
std::optional<std::int64_t> parse_int64(std::string_view text);

}  // namespace signalbox
