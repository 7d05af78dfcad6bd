#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

namespace signalbox {

// One non-blank line of a set of event logs, with where it came from so that a rejection can
// name "file:line" however the lines were reordered.
struct LogRecord {
  std::uint32_t file = 0;  // index into the list of files given
  std::uint64_t line = 0;  // 1-based line number in that file; blank lines count
  std::string_view text;   // without the line end; valid only during the call it is given to
};

// Takes records one at a time; returns false to stop reading (nothing more is handed out).
using LogRecordConsumer = std::function<bool(const LogRecord&)>;

}  // namespace signalbox
