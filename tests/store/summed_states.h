#pragma once

// Two states for store tests of folds into base tiles: one kept in a base tile (a signal
// without windows) and one of a 30-day window only, whose values are decimal numbers merged by
// adding. Whole numbers: the grouping of merges (which differs with compaction timing) cannot
// change a byte, so tiles can be compared as text.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "signalbox/common/time.h"
#include "signalbox/store/store.h"

namespace signalbox::testing {

inline constexpr std::uint64_t kBaseState = 1;    // a signal without windows: folded into the base
inline constexpr std::uint64_t kWindowState = 2;  // a 30-day window only: stays in its day tiles

class SumMerger final : public TileMerger {
 public:
  std::string merge(std::uint64_t, std::span<const std::string_view> operands) const override {
    long total = 0;
    for (std::string_view op : operands) total += std::stol(std::string(op));
    return std::to_string(total);
  }
};

// Raw events kept 7 days, late ones accepted up to 30 days back, and the two states above.
inline RetentionPolicy summed_states_policy() {
  RetentionPolicy p;
  p.retention = 7 * kDayMs;
  p.late_horizon = 30 * kDayMs;
  p.states[kBaseState] = StatePolicy{0, true};
  p.states[kWindowState] = StatePolicy{30 * kDayMs, false};
  return p;
}

// Adds `amount` to both states in `user`'s day tile of `ts`, and to the base-kept one in its
// hour tile.
inline void add_summed_value(CommitBatch& batch, std::uint64_t user, TimeMs ts,
                             const std::string& amount) {
  batch.tiles.push_back(
      TileDelta{TileKey{user, TileKind::kDay, floor_day(ts)},
                {StateDelta{kBaseState, amount}, StateDelta{kWindowState, amount}}});
  batch.tiles.push_back(
      TileDelta{TileKey{user, TileKind::kHour, floor_hour(ts)}, {StateDelta{kBaseState, amount}}});
}

}  // namespace signalbox::testing
