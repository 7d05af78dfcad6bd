#pragma once

// The decoder options of the event tests: a clock pinned at kPinnedNow, so that "future"
// events are decided the same on every run.

#include "signalbox/common/time.h"
#include "signalbox/event/decode.h"

namespace signalbox::testing {

inline constexpr TimeMs kPinnedNow = 1'700'000'000'000;

inline DecodeOptions pinned_options() {
  DecodeOptions options;
  options.now = [] { return kPinnedNow; };
  return options;
}

}  // namespace signalbox::testing
