#pragma once

// Whether a program is on the PATH: a test that needs one fails, naming its Debian package,
// when it is missing.

#include <cstdlib>
#include <string>

#include "shell_quote.h"

namespace signalbox::testing {

inline bool have_program(const std::string& name) {
  return std::system(("command -v " + shell_quote(name) + " >/dev/null 2>&1").c_str()) == 0;
}

}  // namespace signalbox::testing
