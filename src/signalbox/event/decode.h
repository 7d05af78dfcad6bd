#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "signalbox/common/time.h"
#include "signalbox/event/event.h"
#include "signalbox/event/reject_reason.h"

namespace signalbox {

// Limits applied while decoding, beyond the fixed bounds of event.h.
struct DecodeOptions {
  // Events with ts > now + max_future_skew are rejected. Default: 1h (docs/config.md).
  TimeMs max_future_skew = kHourMs;
  // The wall clock used for that check; tests pin it.
  std::function<TimeMs()> now = wall_clock_ms;
};

// Decodes JSON events (docs/events.md) with simdjson and validates every rule. A rejected event
// yields a Rejection: its reason, and a message that starts with the field at fault ("ts: must
// be an integer"); decoding never throws on bad input. Not thread-safe: use one decoder per
// thread.
class EventDecoder {
 public:
  explicit EventDecoder(DecodeOptions options = {});
  ~EventDecoder();
  EventDecoder(const EventDecoder&) = delete;
  EventDecoder& operator=(const EventDecoder&) = delete;

  // Decodes one JSON object. Returns true and fills *event, or returns false and sets *error.
  bool decode(std::string_view json, Event* event, Rejection* error);

  // Decodes a request body or file chunk: either a JSON array of objects or NDJSON (one
  // object per line; blank lines skipped). For the i-th event (0-based, counting rejected
  // ones, not blank lines) calls on_event(i, event) or on_error(i, message). A body that is
  // neither (e.g. a truncated array) reports one error at the index where it broke.
  void decode_batch(std::string_view body,
                    const std::function<void(std::size_t, Event&&)>& on_event,
                    const std::function<void(std::size_t, Rejection&&)>& on_error);

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace signalbox
