#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "signalbox/common/time.h"
#include "signalbox/config/config.h"
#include "signalbox/store/tiles.h"

namespace signalbox {

// The query planner: from the window rule (docs/signals.md) and what the online state holds,
// which stored tiles and which raw event ranges answer each window of a query. It reads
// nothing and keeps nothing; every function is pure and thread-safe. The engine reads what a
// plan names and folds it (see Engine::query).

// The first millisecond a window of `length` holds as of `as_of`: `as_of - length + 1` for a
// window up to the retention (exact to the millisecond), the start of its oldest UTC day,
// `floor_day(as_of - length)`, for a longer one (answered from whole day tiles).
TimeMs window_start(TimeMs length, TimeMs as_of, TimeMs retention);

// What one snapshot of the online state holds.
struct OnlineState {
  TimeMs stream_time = kBeginningOfTime;  // for messages
  TimeMs retention = 0;                   // event_store.retention
  TimeMs raw_after = kBeginningOfTime;    // every raw event with ts > this is present
  TimeMs hour_tiles_from =
      kBeginningOfTime;  // every hour tile starting at or after this is present
  // How long raw events are kept (retention plus the allowed clock skew): with raw_after, where
  // each state's hours are kept from (hours_kept_from, hour_tiles_kept_from()).
  TimeMs raw_kept = 0;
  // No event the snapshot shows has ts > stream_time (StoreSnapshot::
  // shows_no_event_after_high_water): the hour tile of a query's last hour then holds exactly
  // that hour's events up to any as_of at or after stream time.
  bool no_event_after_stream_time = false;

  friend bool operator==(const OnlineState&, const OnlineState&) = default;
};

// The OnlineState of a snapshot with stream time `high_water` and expiry horizon
// `expired_through`, in a store that keeps raw events for `raw_kept` (retention plus the
// allowed clock skew), hour tiles from the day before the raw horizon on, and those of each
// state from hours_kept_from on (store/tiles.h).
OnlineState online_state(TimeMs high_water, TimeMs expired_through, TimeMs retention,
                         TimeMs raw_kept);

// One signal of a query: the windows asked for (a view of one window asks for that one only)
// and what its state keeps.
struct SignalRequest {
  std::string name;
  bool windowed = false;              // false: one answer over all history (a base tile)
  std::vector<WindowConfig> windows;  // asked for, in answer order; empty when not windowed
  TimeMs state_longest_window = 0;    // the longest window of any signal sharing the state
  TimeMs state_exact_window = 0;      // ... of those up to the retention (StatePolicy)
};

// The first hour tile of `request`'s state that `state` holds: older ones may have been
// dropped by expiry (StatePolicy::hours_from), and a plan reads their raw events instead.
TimeMs hour_tiles_kept_from(const SignalRequest& request, const OnlineState& state);

// The earliest tile start the windows of `request` can use as of `as_of`: a day boundary, or
// kBeginningOfTime for a signal without windows.
TimeMs tiles_needed_from(const SignalRequest& request, TimeMs as_of, TimeMs retention);

// How one window is answered: the base tile first when `base` (with the day tiles it spans
// that were not yet folded into it, see docs/architecture.md), then every piece of `pieces`.
struct WindowPlan {
  std::string label;         // the window as written; empty for a signal without windows
  bool all_history = false;  // a signal without windows: from its base tile (or the first day)
  bool base = false;
  TimeMs base_through = kBeginningOfTime;  // with `base`: the base tile holds every ts <= this
  std::vector<CoverPiece> pieces;
};

// Plans every window of `request` as of `as_of`. `base_covered_through` is the stored base
// tile's covered-through time for a signal without windows (absent when the user has none).
// Throws QueryError naming the signal and window when some piece lies where the online state
// no longer holds it (an as_of too old for it), pointing to `signalbox backfill`.
//
// A window's raw events of as_of's hour are planned as that hour's tile instead (one merge in
// place of a scan and a fold of each event: a third of a heavy user's query) when the tile
// holds exactly them (head_hour_from_tile).
std::vector<WindowPlan> plan_signal(const SignalRequest& request, TimeMs as_of,
                                    const OnlineState& state,
                                    std::optional<TimeMs> base_covered_through,
                                    TimeMs states_complete_from);

// Whether the hour tile of as_of's hour holds exactly the events of that hour up to `as_of`
// of every state read: no event after stream time is shown (`state`), as_of is at or after
// it, and every state's tiles hold each stored event from that hour on
// (`states_complete_from`, as for hour_tiles_tell_from).
bool head_hour_from_tile(TimeMs as_of, const OnlineState& state, TimeMs states_complete_from);

// `ranges` of tile starts (closed [from, to], each `from` a multiple of `tile_length`) as few
// as select the same tiles, ascending: a range is merged into the one before when it starts
// no later than `tile_length` after that one's end (no tile starts in between), so that one
// pass over each reads everything once.
std::vector<std::pair<TimeMs, TimeMs>> merge_ranges(std::vector<std::pair<TimeMs, TimeMs>> ranges,
                                                    TimeMs tile_length);

// A window's run of whole days: the one day-tile piece of `plan` (cover_interval gives a
// window at most one), or null when it has none.
const CoverPiece* day_piece(const WindowPlan& plan);

// Appends to `ranges` the starts of the hour tiles `plans` fold, as closed [first, last]
// ranges (one per hour-tile piece, not merged).
void append_hour_tile_ranges(const std::vector<WindowPlan>& plans,
                             std::vector<std::pair<TimeMs, TimeMs>>& ranges);

// Whether a raw range can be answered from the hour tiles instead: a state's hour tile exists
// exactly when the user has an event in that hour the state takes, so where every hour tile is
// kept and holds everything, a raw range no hour tile overlaps holds no event any window folds,
// and its scan (a seek of the event store, most of what a light user's query reads) is skipped.
//
// The first time from which the hour tiles of `request`'s state say so: its hour tiles are kept
// from there on in `state` (for a state only signals without windows use, from its own, later
// horizon), and every state's tiles hold each stored event it takes with ts at or after
// `states_complete_from` (the latest complete_since of the states read; INT64_MAX while one of
// them is being built from history, as its tiles then lack some users' events).
TimeMs hour_tiles_tell_from(const SignalRequest& request, const OnlineState& state,
                            TimeMs states_complete_from);

// Appends to `ranges` the starts of the hour tiles that overlap the raw pieces of `plans` that
// start at or after `from`, as closed [first, last] ranges (not merged): the tiles
// raw_ranges_with_events() needs read.
void append_raw_piece_hours(const std::vector<WindowPlan>& plans, TimeMs from,
                            std::vector<std::pair<TimeMs, TimeMs>>& ranges);

// The raw event ranges of `plans` (by signal index) to scan, as few closed [from, to] ranges
// as possible, ascending: ranges that overlap or touch are merged, so one scan reads each raw
// event once. A merged range is left out when each of its pieces starts at or after its own
// signal's `tiles_tell_from` (same index) and no hour tile starting at one of
// `hour_tile_starts` (ascending: the hour tiles read of the states asked for) overlaps it.
std::vector<std::pair<TimeMs, TimeMs>> raw_ranges_with_events(
    const std::vector<const std::vector<WindowPlan>*>& plans,
    const std::vector<TimeMs>& tiles_tell_from, const std::vector<TimeMs>& hour_tile_starts);

}  // namespace signalbox
