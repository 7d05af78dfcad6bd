#pragma once

#include <string_view>

#include "signalbox/common/value.h"

namespace signalbox {

// Parses JSON text into a Value (objects keep their order; integers stay integers). Throws
// std::runtime_error for text that is not JSON. Thread-safe (one parser per thread).
Value parse_json_value(std::string_view text);

}  // namespace signalbox
