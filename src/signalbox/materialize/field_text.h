#pragma once

#include <charconv>
#include <cmath>
#include <string_view>
#include <system_error>

#include "signalbox/config/config.h"

namespace signalbox {

// How a feature type is spelled in config and in messages.
inline const char* feature_type_name(FeatureType type) {
  switch (type) {
    case FeatureType::kStrings:
      return "strings";
    case FeatureType::kVector:
      return "vector";
    case FeatureType::kNumber:
      return "number";
  }
  return "?";
}

inline std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Parses the whole of `s` (spaces around it allowed) as a finite number, as sources read
// feature values from text. Non-finite values are refused because one NaN would poison every
// mean and sum it reaches.
template <typename T>
bool parse_finite(std::string_view s, T& out) {
  s = trim_spaces(s);
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && std::isfinite(out);
}

}  // namespace signalbox
