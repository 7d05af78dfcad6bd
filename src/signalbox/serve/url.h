#pragma once

#include <array>
#include <cstddef>
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

// A path's '/'-separated segments, each URL-decoded ('+' stays '+'), without the leading '/':
// "/v1/users/42" has "v1", "users", "42"; "/" has "". Every request is routed on these, so
// nothing is copied or allocated for a path without escapes: a plain segment is a view into
// the path, which must outlive this; a segment with escapes is decoded into room of its own.
// The first kStored segments are kept (no route has more); size() counts them all.
// Not copyable or movable (its views may point into itself).
class PathSegments {
 public:
  static constexpr std::size_t kStored = 6;

  explicit PathSegments(std::string_view path);
  PathSegments(const PathSegments&) = delete;
  PathSegments& operator=(const PathSegments&) = delete;

  // False when a '%' of the path is not followed by two hex digits.
  bool well_formed() const { return well_formed_; }
  std::size_t size() const { return size_; }
  // Segment `i`, for i < min(size(), kStored).
  std::string_view operator[](std::size_t i) const { return segments_[i]; }

 private:
  std::array<std::string_view, kStored> segments_{};
  std::array<std::string, kStored> decoded_;
  std::size_t size_ = 0;
  bool well_formed_ = true;
};

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
