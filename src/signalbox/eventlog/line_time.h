#pragma once

#include <limits>
#include <memory>
#include <string_view>

#include "signalbox/common/time.h"

namespace signalbox {

// The order key of a line whose ts cannot be read: before every time, so that such lines come
// first. The event decoder rejects them later, wherever they are.
inline constexpr TimeMs kNoTime = std::numeric_limits<TimeMs>::min();

// Reads the top-level "ts" of one NDJSON line without decoding the rest of the event
// (simdjson On-Demand: the other fields are skipped, not parsed). Not thread-safe: use one
// reader per thread.
class LineTimeReader {
 public:
  LineTimeReader();
  ~LineTimeReader();
  LineTimeReader(const LineTimeReader&) = delete;
  LineTimeReader& operator=(const LineTimeReader&) = delete;

  // The line's ts, or kNoTime when the line is not a JSON object or has no top-level "ts"
  // that is a 64-bit integer. Only the first "ts" field counts; the decoder rejects a line
  // that repeats it. Never throws on bad input.
  TimeMs read(std::string_view line);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace signalbox
