#pragma once

// Invalid event texts for generated traffic, each breaking one rule of docs/events.md and told
// apart from the others by a serial. Which rule each breaks is for the reader: the tests'
// reference (event_rules.h) judges every text on its own.

#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "signalbox/common/time.h"

namespace signalbox::testing {

inline constexpr std::uint64_t kInvalidEventKinds = 8;

// The `kind % kInvalidEventKinds`-th kind of invalid event of `user` at `ts`.
inline std::string invalid_event_text(std::uint64_t user, TimeMs ts, std::size_t serial,
                                      std::uint64_t kind) {
  switch (kind % kInvalidEventKinds) {
    case 0:  // json: not JSON
      return fmt::format("not an event {} {{", serial);
    case 1:  // ts: required
      return fmt::format(R"({{"user_id": {}, "action": "click", "event_id": "bad{}"}})", user,
                         serial);
    case 2:  // action: must match [a-z0-9_]{{1,32}}
      return fmt::format(R"({{"user_id": {}, "ts": {}, "action": "Click!", "event_id": "bad{}"}})",
                         user, ts, serial);
    case 3:  // colour: unknown field
      return fmt::format(
          R"({{"user_id": {}, "ts": {}, "action": "save", "event_id": "bad{}", "colour": "red"}})",
          user, ts, serial);
    case 4:  // attrs.price: out of range
      return fmt::format(
          R"({{"user_id": {}, "ts": {}, "action": "purchase", "event_id": "bad{}", "attrs": {{"price": 1e200}}}})",
          user, ts, serial);
    case 5:  // user_id: must be an unsigned 64-bit integer
      return fmt::format(R"({{"user_id": -{}, "ts": {}, "action": "click", "event_id": "bad{}"}})",
                         user, ts, serial);
    case 6:  // item_id: must not be empty
      return fmt::format(
          R"({{"user_id": {}, "ts": {}, "action": "click", "event_id": "bad{}", "item_id": ""}})",
          user, ts, serial);
    default:  // ts: must be an integer
      return fmt::format(R"({{"user_id": {}, "ts": "{}", "action": "click", "event_id": "bad{}"}})",
                         user, ts, serial);
  }
}

}  // namespace signalbox::testing
