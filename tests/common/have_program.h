#pragma once

// Whether a program is on the PATH: a test that needs one fails, naming its Debian package,
// when it is missing.

#include <cstdlib>
#include <string>

namespace signalbox::testing {

inline bool have_program(const std::string& name) {
  std::string quoted = "'";
  for (char c : name) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return std::system(("command -v " + quoted + "' >/dev/null 2>&1").c_str()) == 0;
}

}  // namespace signalbox::testing
