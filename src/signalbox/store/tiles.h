#pragma once

#include <cstdint>
#include <vector>

#include "signalbox/common/time.h"

namespace signalbox {

// State is kept per (user, signal) in time tiles: hour tiles for the recent past, day tiles
// for longer, and for signals without windows one base tile holding everything older than
// the day tiles kept. A window is answered by merging the whole tiles inside it and folding
// the raw events of its partial ends.
enum class TileKind : std::uint8_t { kBase = 0, kDay = 1, kHour = 2 };

// "base", "day" or "hour": how explain and the tools name a kind.
const char* tile_kind_name(TileKind kind);

inline constexpr TimeMs tile_length(TileKind kind) {
  return kind == TileKind::kDay ? kDayMs : kHourMs;
}

// A time before any event, day-aligned, far enough from the int64 limits to do arithmetic on.
inline constexpr TimeMs kBeginningOfTime = floor_day(-(TimeMs{1} << 62));

// The first hour tile expiry keeps of a state whose exact windows (those up to the retention)
// are at most `exact_window` long (0: none, as for a state only signals without windows use,
// whose history lives in a base tile), once raw events with ts <= `raw_through` are expired
// and raw events are kept for `raw_kept`: the day before the day of stream time
// (`raw_through + raw_kept`) minus that window. A query as of stream time reads those hours at
// its windows' left edges and in its own day; one as of an earlier time whose hours are gone
// reads their raw events instead, which the retention keeps (docs/architecture.md, "Expiry").
// The store's expiry and the query planner both call this, so neither drops what the other
// reads.
constexpr TimeMs hours_kept_from(TimeMs raw_through, TimeMs raw_kept, TimeMs exact_window) {
  return floor_day(raw_through + raw_kept - exact_window) - kDayMs;
}

// One part of a window's cover: either all tiles of one kind whose start lies in
// [from, to_exclusive), or the raw events with from <= ts <= to_inclusive.
struct CoverPiece {
  enum class Kind { kTiles, kRaw };
  Kind kind;
  TileKind tile = TileKind::kDay;
  TimeMs from = 0;
  TimeMs to = 0;  // exclusive for tiles, inclusive for raw
};

// Covers the closed interval [from, to] with as few pieces as possible: whole days as day
// tiles, whole hours of the partial days as hour tiles, and the partial hours at both ends
// as raw ranges. `from` may be kBeginningOfTime. Empty when from > to.
std::vector<CoverPiece> cover_interval(TimeMs from, TimeMs to);

}  // namespace signalbox
