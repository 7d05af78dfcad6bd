#pragma once

#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "signalbox/common/error.h"

namespace signalbox::testing {

// The message of the ConfigError `fn` throws; a test failure when it throws none.
inline std::string config_error(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ConfigError thrown";
  return "";
}

}  // namespace signalbox::testing
