#pragma once

// A string as one word of a POSIX shell command line: in single quotes, each quote in it
// closed, escaped and reopened.

#include <string>

namespace signalbox::testing {

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace signalbox::testing
