#include "signalbox/engine/query_planner.h"

#include <algorithm>

#include <fmt/format.h>

#include "signalbox/common/error.h"

namespace signalbox {

TimeMs window_start(TimeMs length, TimeMs as_of, TimeMs retention) {
  return length <= retention ? as_of - length + 1 : floor_day(as_of - length);
}

OnlineState online_state(TimeMs high_water, TimeMs expired_through, TimeMs retention,
                         TimeMs raw_kept) {
  OnlineState state;
  state.stream_time = high_water;
  state.retention = retention;
  state.raw_after = std::max(
      high_water == kBeginningOfTime ? kBeginningOfTime : high_water - raw_kept, expired_through);
  state.hour_tiles_from =
      state.raw_after == kBeginningOfTime ? kBeginningOfTime : floor_day(state.raw_after) - kDayMs;
  state.raw_kept = raw_kept;
  return state;
}

TimeMs hour_tiles_kept_from(const SignalRequest& request, const OnlineState& state) {
  // From the snapshot's raw horizon, never older than the expiry horizon any compaction used
  // for it (raw_after >= expired_through), so no hour the planner counts on was dropped.
  if (state.raw_after == kBeginningOfTime) return kBeginningOfTime;
  return std::max(state.hour_tiles_from,
                  hours_kept_from(state.raw_after, state.raw_kept, request.state_exact_window));
}

TimeMs tiles_needed_from(const SignalRequest& request, TimeMs as_of, TimeMs retention) {
  if (!request.windowed) return kBeginningOfTime;
  TimeMs from = as_of;
  for (const WindowConfig& w : request.windows)
    from = std::min(from, window_start(w.length, as_of, retention));
  return floor_day(from);
}

namespace {

// Whether the online state still holds `piece` of a window of `request`.
bool holds(const CoverPiece& piece, const SignalRequest& request, const OnlineState& state,
           bool base) {
  if (piece.kind == CoverPiece::Kind::kRaw) return piece.from > state.raw_after;
  if (piece.tile == TileKind::kHour) return piece.from >= state.hour_tiles_from;
  // Day tiles of a windowed state are kept for its longest window behind the raw horizon;
  // those of a state without windows are folded into its base, never dropped.
  if (base || !request.windowed || state.raw_after == kBeginningOfTime) return true;
  return piece.from >= floor_day(state.raw_after - request.state_longest_window) - kDayMs;
}

// `pieces` with every hour-tile piece that starts before `hours_from` read as raw events
// instead, adjacent raw ranges joined.
std::vector<CoverPiece> raw_before(std::vector<CoverPiece> pieces, TimeMs hours_from) {
  // As of stream time no window reads an hour before its state's cut: nothing to build.
  if (std::none_of(pieces.begin(), pieces.end(), [&](const CoverPiece& piece) {
        return piece.kind == CoverPiece::Kind::kTiles && piece.tile == TileKind::kHour &&
               piece.from < hours_from;
      }))
    return pieces;
  std::vector<CoverPiece> out;
  out.reserve(pieces.size());
  for (CoverPiece piece : pieces) {
    if (piece.kind == CoverPiece::Kind::kTiles && piece.tile == TileKind::kHour &&
        piece.from < hours_from)
      piece = CoverPiece{CoverPiece::Kind::kRaw, TileKind::kDay, piece.from, piece.to - 1};
    if (piece.kind == CoverPiece::Kind::kRaw && !out.empty() &&
        out.back().kind == CoverPiece::Kind::kRaw && out.back().to + 1 == piece.from)
      out.back().to = piece.to;
    else
      out.push_back(piece);
  }
  return out;
}

// `pieces` (a cover ending at `as_of`) with the raw events of as_of's hour read from that
// hour's tile: the last raw piece ends before the hour, or is replaced by the tile, which
// joins an hour-tile piece ending where it starts.
void head_hour_as_tile(std::vector<CoverPiece>& pieces, TimeMs as_of) {
  const TimeMs hour = floor_hour(as_of);
  if (pieces.empty() || pieces.back().kind != CoverPiece::Kind::kRaw || pieces.back().from > hour)
    return;  // the window starts inside the hour: the tile holds events before it
  CoverPiece& raw = pieces.back();
  if (raw.from < hour) {
    raw.to = hour - 1;
  } else {
    pieces.pop_back();
    CoverPiece* before = pieces.empty() ? nullptr : &pieces.back();
    if (before && before->kind == CoverPiece::Kind::kTiles && before->tile == TileKind::kHour &&
        before->to == hour) {
      before->to = hour + kHourMs;
      return;
    }
  }
  pieces.push_back({CoverPiece::Kind::kTiles, TileKind::kHour, hour, hour + kHourMs});
}

WindowPlan plan_window(const SignalRequest& request, std::string label, TimeMs from, TimeMs as_of,
                       const OnlineState& state, std::optional<TimeMs> base_through,
                       bool head_from_tile) {
  WindowPlan plan;
  plan.label = std::move(label);
  plan.base = base_through.has_value();
  if (base_through) plan.base_through = *base_through;
  plan.pieces = raw_before(cover_interval(from, as_of), hour_tiles_kept_from(request, state));
  if (head_from_tile) head_hour_as_tile(plan.pieces, as_of);
  for (const CoverPiece& piece : plan.pieces) {
    if (holds(piece, request, state, plan.base)) continue;
    throw QueryError(fmt::format(
        "as_of: {} is too old for signal \"{}\"{}: the online state holds raw events only after {} "
        "(stream time {} minus retention and max_future_skew); use `signalbox backfill` for older "
        "points",
        as_of, request.name, plan.label.empty() ? "" : " window " + plan.label, state.raw_after,
        state.stream_time));
  }
  return plan;
}

// Sorts `ranges` (closed [first, second] pairs, or classes derived from them) and merges each
// into the one before when it starts no later than `gap` after that one's end, calling
// join(kept, merged) for each range merged into the kept one.
template <typename Range, typename Join>
void merge_in_place(std::vector<Range>& ranges, TimeMs gap, Join&& join) {
  std::sort(ranges.begin(), ranges.end());
  std::size_t kept = 0;  // merged in place: the first `kept` are done
  for (const Range& r : ranges) {
    if (kept > 0 && r.first <= ranges[kept - 1].second + gap) {
      Range& last = ranges[kept - 1];
      last.second = std::max(last.second, r.second);
      join(last, r);
    } else {
      ranges[kept++] = r;
    }
  }
  ranges.resize(kept);
}

}  // namespace

bool head_hour_from_tile(TimeMs as_of, const OnlineState& state, TimeMs states_complete_from) {
  return state.no_event_after_stream_time && as_of >= state.stream_time &&
         floor_hour(as_of) >= states_complete_from;
}

std::vector<WindowPlan> plan_signal(const SignalRequest& request, TimeMs as_of,
                                    const OnlineState& state,
                                    std::optional<TimeMs> base_covered_through,
                                    TimeMs states_complete_from) {
  const bool head_from_tile = head_hour_from_tile(as_of, state, states_complete_from);
  std::vector<WindowPlan> plans;
  if (request.windowed) {
    plans.reserve(request.windows.size());
    for (const WindowConfig& w : request.windows)
      plans.push_back(plan_window(request, w.text, window_start(w.length, as_of, state.retention),
                                  as_of, state, std::nullopt, head_from_tile));
    return plans;
  }
  if (base_covered_through && *base_covered_through > as_of) {
    throw QueryError(fmt::format(
        "as_of: {} is too old for signal \"{}\": its state before {} is only kept in sum; use "
        "`signalbox backfill` for older points",
        as_of, request.name, *base_covered_through + 1));
  }
  const TimeMs from = base_covered_through ? *base_covered_through + 1 : kBeginningOfTime;
  plans.push_back(
      plan_window(request, "", from, as_of, state, base_covered_through, head_from_tile));
  plans.back().all_history = true;
  return plans;
}

TimeMs hour_tiles_tell_from(const SignalRequest& request, const OnlineState& state,
                            TimeMs states_complete_from) {
  return std::max(hour_tiles_kept_from(request, state), states_complete_from);
}

void append_raw_piece_hours(const std::vector<WindowPlan>& plans, TimeMs from,
                            std::vector<std::pair<TimeMs, TimeMs>>& ranges) {
  for (const WindowPlan& plan : plans)
    for (const CoverPiece& piece : plan.pieces)
      if (piece.kind == CoverPiece::Kind::kRaw && piece.from >= from)
        ranges.emplace_back(floor_hour(piece.from), floor_hour(piece.to));
}

std::vector<std::pair<TimeMs, TimeMs>> raw_ranges_with_events(
    const std::vector<const std::vector<WindowPlan>*>& plans,
    const std::vector<TimeMs>& tiles_tell_from, const std::vector<TimeMs>& hour_tile_starts) {
  struct Range : std::pair<TimeMs, TimeMs> {
    bool told = false;  // the hour tiles tell whether it holds an event
  };
  std::vector<Range> ranges;
  ranges.reserve(64);  // a few per window: one allocation for the usual query
  for (std::size_t s = 0; s < plans.size(); ++s)
    for (const WindowPlan& plan : *plans[s])
      for (const CoverPiece& piece : plan.pieces)
        if (piece.kind == CoverPiece::Kind::kRaw)
          ranges.push_back({{piece.from, piece.to}, piece.from >= tiles_tell_from[s]});
  // Raw ranges are of milliseconds: merged when they overlap or touch.
  merge_in_place(ranges, 1,
                 [](Range& kept, const Range& merged) { kept.told = kept.told && merged.told; });
  auto holds_no_event = [&](const Range& range) {
    if (!range.told) return false;
    auto tile =
        std::lower_bound(hour_tile_starts.begin(), hour_tile_starts.end(), floor_hour(range.first));
    return tile == hour_tile_starts.end() || *tile > range.second;
  };
  std::vector<std::pair<TimeMs, TimeMs>> out;
  out.reserve(ranges.size());
  for (const Range& r : ranges)
    if (!holds_no_event(r)) out.push_back(r);
  return out;
}

const CoverPiece* day_piece(const WindowPlan& plan) {
  for (const CoverPiece& piece : plan.pieces)
    if (piece.kind == CoverPiece::Kind::kTiles && piece.tile == TileKind::kDay) return &piece;
  return nullptr;
}

void append_hour_tile_ranges(const std::vector<WindowPlan>& plans,
                             std::vector<std::pair<TimeMs, TimeMs>>& ranges) {
  for (const WindowPlan& plan : plans)
    for (const CoverPiece& piece : plan.pieces)
      if (piece.kind == CoverPiece::Kind::kTiles && piece.tile == TileKind::kHour)
        ranges.emplace_back(piece.from, piece.to - 1);  // a tile piece's `to` is exclusive
}

std::vector<std::pair<TimeMs, TimeMs>> merge_ranges(std::vector<std::pair<TimeMs, TimeMs>> ranges,
                                                    TimeMs tile_length) {
  merge_in_place(ranges, tile_length, [](auto&, const auto&) {});
  return ranges;
}

}  // namespace signalbox
