#pragma once

#include <string>
#include <string_view>

#include "signalbox/common/time.h"
#include "signalbox/store/store.h"

namespace signalbox {

// One day tile split for expire()'s fold into the base tile: signals without windows keep
// everything older than the day tiles kept in one base tile per user.
struct DayTileFold {
  // A base tile operand of the parts of base-keeping states, each prefixed by the time the
  // day covers through (its last millisecond); empty when the tile holds none.
  std::string to_base;
  // The day tile's value without those parts, in the same order; empty when nothing is left
  // (the tile is then deleted).
  std::string kept;
};

// Splits the value of the day tile starting at `day_start` by `policy`: the parts of states
// the policy marks keep_base go to the base, every other part (window-only states, states the
// policy does not know) stays. Pure and thread-safe; throws CorruptionError for a value that
// is not a tile value.
DayTileFold fold_day_tile(TimeMs day_start, std::string_view value, const RetentionPolicy& policy);

}  // namespace signalbox
