// The query planner on its own, without any store: window starts, what the online state
// holds, each window's cover, coverage errors and merged raw ranges.

#include "signalbox/engine/query_planner.h"

#include <gtest/gtest.h>

#include <limits>

#include "signalbox/common/error.h"

namespace signalbox {
namespace {

constexpr TimeMs kT = 1704067200000 + 13 * kHourMs + 17 * kMinuteMs + 5 * kSecondMs;  // mid-day
constexpr TimeMs kRetention = 3 * kDayMs;
// Every state's tiles hold all of history (no state added since the first event).
constexpr TimeMs kCompleteFromTheStart = 0;

WindowConfig window(const char* text, TimeMs length) { return WindowConfig{text, length}; }

// A windowed signal whose state a window of the retention's length shares (so its hours are
// kept for the whole retention) unless `exact` says otherwise.
SignalRequest windowed(std::vector<WindowConfig> windows, TimeMs longest = 40 * kDayMs,
                       TimeMs exact = kRetention) {
  SignalRequest r;
  r.name = "counts";
  r.windowed = true;
  r.windows = std::move(windows);
  r.state_longest_window = longest;
  r.state_exact_window = exact;
  return r;
}

// The pieces of a plan, checked to cover [from, to] exactly once: every millisecond in one
// piece, in order, tiles aligned to their length.
void expect_exact_cover(const WindowPlan& plan, TimeMs from, TimeMs to) {
  ASSERT_FALSE(plan.pieces.empty());
  TimeMs next = from;
  for (const CoverPiece& p : plan.pieces) {
    EXPECT_EQ(p.from, next);
    if (p.kind == CoverPiece::Kind::kRaw) {
      next = p.to + 1;
    } else {
      EXPECT_EQ(p.from % tile_length(p.tile), 0);
      EXPECT_EQ(p.to % tile_length(p.tile), 0);
      next = p.to;
    }
  }
  EXPECT_EQ(next, to + 1);
}

TEST(QueryPlanner, WindowStartIsExactUpToTheRetentionAndDayAlignedBeyond) {
  EXPECT_EQ(window_start(kHourMs, kT, kRetention), kT - kHourMs + 1);
  EXPECT_EQ(window_start(kRetention, kT, kRetention), kT - kRetention + 1);
  EXPECT_EQ(window_start(10 * kDayMs, kT, kRetention), floor_day(kT - 10 * kDayMs));
  EXPECT_EQ(window_start(10 * kDayMs, kT, kRetention) % kDayMs, 0);
}

TEST(QueryPlanner, TheOnlineStateFollowsStreamTimeAndTheExpiryHorizon) {
  OnlineState empty =
      online_state(kBeginningOfTime, kBeginningOfTime, kRetention, kRetention + kHourMs);
  EXPECT_EQ(empty.raw_after, kBeginningOfTime);
  EXPECT_EQ(empty.hour_tiles_from, kBeginningOfTime);
  OnlineState s = online_state(kT, kBeginningOfTime, kRetention, kRetention + kHourMs);
  EXPECT_EQ(s.raw_after, kT - kRetention - kHourMs);
  EXPECT_EQ(s.hour_tiles_from, floor_day(s.raw_after) - kDayMs);
  // An expiry horizon beyond what the keep time says (a retention shortened since) wins.
  OnlineState later = online_state(kT, kT - kDayMs, kRetention, kRetention + kHourMs);
  EXPECT_EQ(later.raw_after, kT - kDayMs);
}

TEST(QueryPlanner, EachWindowIsCoveredExactlyOnceByTilesAndRawEnds) {
  OnlineState s = online_state(kT, kBeginningOfTime, kRetention, kRetention + kHourMs);
  SignalRequest r = windowed({window("1h", kHourMs), window("1d", kDayMs), window("3d", kRetention),
                              window("10d", 10 * kDayMs), window("40d", 40 * kDayMs)});
  std::vector<WindowPlan> plans = plan_signal(r, kT, s, std::nullopt, kCompleteFromTheStart);
  ASSERT_EQ(plans.size(), 5u);
  for (std::size_t i = 0; i < plans.size(); ++i) {
    EXPECT_EQ(plans[i].label, r.windows[i].text);
    EXPECT_FALSE(plans[i].base);
    expect_exact_cover(plans[i], window_start(r.windows[i].length, kT, kRetention), kT);
  }
  // The 1d window: a raw partial hour at each end, hour tiles between.
  const std::vector<CoverPiece>& day = plans[1].pieces;
  EXPECT_EQ(day.front().kind, CoverPiece::Kind::kRaw);
  EXPECT_EQ(day.back().kind, CoverPiece::Kind::kRaw);
  // The 40d window: whole days as day tiles.
  bool has_days = false;
  for (const CoverPiece& p : plans[4].pieces)
    has_days |= p.kind == CoverPiece::Kind::kTiles && p.tile == TileKind::kDay;
  EXPECT_TRUE(has_days);
}

TEST(QueryPlanner, OnlyTheWindowsAskedForArePlanned) {
  OnlineState s = online_state(kT, kBeginningOfTime, kRetention, kRetention + kHourMs);
  std::vector<WindowPlan> plans = plan_signal(windowed({window("10d", 10 * kDayMs)}), kT, s,
                                              std::nullopt, kCompleteFromTheStart);
  ASSERT_EQ(plans.size(), 1u);
  EXPECT_EQ(plans[0].label, "10d");
  EXPECT_EQ(tiles_needed_from(windowed({window("10d", 10 * kDayMs)}), kT, kRetention),
            floor_day(kT - 10 * kDayMs));
  EXPECT_EQ(tiles_needed_from(windowed({window("1h", kHourMs), window("10d", 10 * kDayMs)}), kT,
                              kRetention),
            floor_day(kT - 10 * kDayMs));
  EXPECT_EQ(tiles_needed_from(windowed({window("1h", kHourMs)}), kT, kRetention),
            floor_day(kT - kHourMs + 1));
}

TEST(QueryPlanner, AnAsOfTheOnlineStateNoLongerHoldsIsRefusedNamingSignalAndWindow) {
  OnlineState s = online_state(kT, kBeginningOfTime, kRetention, kRetention + kHourMs);
  SignalRequest r = windowed({window("1h", kHourMs)});
  try {
    plan_signal(r, kT - 5 * kDayMs, s, std::nullopt, kCompleteFromTheStart);
    FAIL() << "expected a QueryError";
  } catch (const QueryError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("too old"), std::string::npos) << m;
    EXPECT_NE(m.find("\"counts\" window 1h"), std::string::npos) << m;
    EXPECT_NE(m.find("signalbox backfill"), std::string::npos) << m;
  }
  // A long window is answered from day tiles as long as its state keeps them: for the
  // longest window of any signal sharing the state, behind the raw horizon.
  EXPECT_NO_THROW(plan_signal(windowed({window("40d", 40 * kDayMs)}, 40 * kDayMs), kT - 2 * kDayMs,
                              s, std::nullopt, kCompleteFromTheStart));
  EXPECT_THROW(plan_signal(windowed({window("40d", 40 * kDayMs)}, 10 * kDayMs), kT - 2 * kDayMs, s,
                           std::nullopt, kCompleteFromTheStart),
               QueryError);
}

TEST(QueryPlanner, ASignalWithoutWindowsStartsFromItsBase) {
  OnlineState s = online_state(kT, kBeginningOfTime, kRetention, kRetention + kHourMs);
  SignalRequest r;
  r.name = "affinity";
  const TimeMs base_through = floor_day(kT - 10 * kDayMs) - 1;
  std::vector<WindowPlan> plans = plan_signal(r, kT, s, base_through, kCompleteFromTheStart);
  ASSERT_EQ(plans.size(), 1u);
  EXPECT_TRUE(plans[0].base);
  EXPECT_EQ(plans[0].base_through, base_through);
  EXPECT_EQ(plans[0].label, "");
  expect_exact_cover(plans[0], base_through + 1, kT);
  // Without a base tile, from the beginning of time.
  std::vector<WindowPlan> fresh = plan_signal(r, kT, s, std::nullopt, kCompleteFromTheStart);
  EXPECT_FALSE(fresh[0].base);
  EXPECT_EQ(fresh[0].pieces.front().from, kBeginningOfTime);
  // Before the base: only its sum is kept.
  try {
    plan_signal(r, base_through - kDayMs, s, base_through, kCompleteFromTheStart);
    FAIL() << "expected a QueryError";
  } catch (const QueryError& e) {
    EXPECT_NE(std::string(e.what()).find("only kept in sum"), std::string::npos) << e.what();
  }
}

// A state only signals without windows use keeps hour tiles from the day before stream time's
// day on: as of that day or later a query reads hours; as of an earlier day, that day's raw
// events (the hours before the cut may be gone). A state a windowed signal shares keeps them.
TEST(QueryPlanner, ASignalWithoutWindowsReadsRawEventsForDaysBeforeItsHourTilesAreKept) {
  OnlineState s = online_state(kT, kBeginningOfTime, kRetention, kRetention + kHourMs);
  SignalRequest r;
  r.name = "affinity";
  const TimeMs cut = hour_tiles_kept_from(r, s);
  EXPECT_EQ(cut, floor_day(kT) - kDayMs);
  EXPECT_EQ(cut, hours_kept_from(s.raw_after, kRetention + kHourMs, 0));
  const TimeMs base_through = floor_day(kT - 10 * kDayMs) - 1;
  auto hours_of = [](const WindowPlan& plan) {
    std::size_t hours = 0;
    for (const CoverPiece& p : plan.pieces)
      hours += p.kind == CoverPiece::Kind::kTiles && p.tile == TileKind::kHour;
    return hours;
  };
  for (TimeMs as_of : {kT, kT - kDayMs, kT - 2 * kDayMs}) {
    const WindowPlan plan = plan_signal(r, as_of, s, base_through, kCompleteFromTheStart)[0];
    expect_exact_cover(plan, base_through + 1, as_of);
    const bool kept = as_of >= cut;
    EXPECT_EQ(hours_of(plan) > 0, kept) << "as of " << as_of;
    if (!kept) {
      // One raw range from the start of as_of's day on.
      ASSERT_EQ(plan.pieces.back().kind, CoverPiece::Kind::kRaw);
      EXPECT_EQ(plan.pieces.back().from, floor_day(as_of));
      EXPECT_EQ(plan.pieces.back().to, as_of);
    }
  }
  // Shared with a signal of a 1-day window: its hours are kept a day longer.
  r.state_longest_window = kDayMs;
  r.state_exact_window = kDayMs;
  EXPECT_GT(hours_of(plan_signal(r, kT - 2 * kDayMs, s, base_through, kCompleteFromTheStart)[0]),
            0u);
}

// A windowed state whose exact windows are a day long at most keeps its hours from the day
// before the day a day before stream time: a 1-day window as of an earlier time reads raw
// events for the hours before that cut, and hours after it; as of stream time it reads hours
// as a state of longer windows does.
TEST(QueryPlanner, AShortExactWindowReadsRawEventsForHoursBeforeItsStatesCut) {
  const OnlineState s = online_state(kT, kBeginningOfTime, kRetention, kRetention + kHourMs);
  const SignalRequest r =
      windowed({window("1d", kDayMs), window("30d", 30 * kDayMs)}, 30 * kDayMs, kDayMs);
  const TimeMs cut = hour_tiles_kept_from(r, s);
  EXPECT_EQ(cut, floor_day(kT) - 2 * kDayMs);
  EXPECT_GT(cut, s.hour_tiles_from);
  EXPECT_EQ(hour_tiles_kept_from(windowed({window("1d", kDayMs)}), s), s.hour_tiles_from);
  // The window starts after the cut as of the first two, before it as of the third.
  for (TimeMs as_of : {kT, kT - kDayMs - 5 * kHourMs, kT - 2 * kDayMs}) {
    const std::vector<WindowPlan> plans =
        plan_signal(r, as_of, s, std::nullopt, kCompleteFromTheStart);
    ASSERT_EQ(plans.size(), 2u);
    const TimeMs start = as_of - kDayMs + 1;
    expect_exact_cover(plans[0], start, as_of);
    std::size_t hours = 0;
    for (const CoverPiece& p : plans[0].pieces) {
      if (p.kind != CoverPiece::Kind::kTiles || p.tile != TileKind::kHour) continue;
      ++hours;
      EXPECT_GE(p.from, cut) << "an hour before the cut, as of " << as_of;
    }
    EXPECT_GT(hours, 0u) << "as of " << as_of;
    const CoverPiece& first = plans[0].pieces.front();
    ASSERT_EQ(first.kind, CoverPiece::Kind::kRaw) << "as of " << as_of;
    EXPECT_EQ(first.from, start);
    // Up to the cut when the window starts before it (its hours read raw), else the first
    // partial hour alone.
    EXPECT_EQ(first.to, start < cut ? cut - 1 : floor_hour(start) + kHourMs - 1)
        << "as of " << as_of;
  }
  // The 30-day window as of a day whose hours are gone reads them raw: refused when that day
  // began before the raw horizon.
  EXPECT_THROW(plan_signal(r, kT - 3 * kDayMs + kHourMs, s, std::nullopt, kCompleteFromTheStart),
               QueryError);
}

// The pieces of a plan, checked to cover [from, to] exactly once, but for the hour tile of
// to's hour, which ends the plan and reaches past `to` to the end of that hour.
void expect_cover_ending_in_hour_tile(const WindowPlan& plan, TimeMs from, TimeMs to) {
  ASSERT_FALSE(plan.pieces.empty());
  const CoverPiece& last = plan.pieces.back();
  ASSERT_EQ(last.kind, CoverPiece::Kind::kTiles);
  EXPECT_EQ(last.tile, TileKind::kHour);
  EXPECT_EQ(last.to, floor_hour(to) + kHourMs);
  expect_exact_cover(plan, from, floor_hour(to) + kHourMs - 1);
  for (const CoverPiece& p : plan.pieces) {
    if (p.kind == CoverPiece::Kind::kRaw) {
      EXPECT_LT(p.to, floor_hour(to)) << "a raw piece in the hour";
    }
  }
}

// Where no event lies after stream time, a query as of stream time or later reads its last
// hour's events from that hour's tile: one merge instead of a scan and a fold of each event.
TEST(QueryPlanner, AtStreamTimeTheLastHourIsReadFromItsTile) {
  OnlineState s = online_state(kT, kBeginningOfTime, kRetention, kRetention + kHourMs);
  s.no_event_after_stream_time = true;
  SignalRequest r =
      windowed({window("5m", 5 * kMinuteMs), window("30m", 30 * kMinuteMs), window("1d", kDayMs),
                window("3d", kRetention), window("40d", 40 * kDayMs)});
  for (TimeMs as_of : {kT, kT + 2 * kHourMs, floor_hour(kT) + kHourMs}) {
    SCOPED_TRACE(as_of);
    std::vector<WindowPlan> plans = plan_signal(r, as_of, s, std::nullopt, kCompleteFromTheStart);
    ASSERT_EQ(plans.size(), 5u);
    for (std::size_t i = 0; i < plans.size(); ++i) {
      SCOPED_TRACE(r.windows[i].text);
      const TimeMs from = window_start(r.windows[i].length, as_of, kRetention);
      if (from > floor_hour(as_of)) {
        // The window starts inside the hour, whose tile holds events before it.
        expect_exact_cover(plans[i], from, as_of);
        EXPECT_EQ(plans[i].pieces.back().kind, CoverPiece::Kind::kRaw);
      } else {
        expect_cover_ending_in_hour_tile(plans[i], from, as_of);
      }
    }
    // The day's hours and the last one are one run of hour tiles.
    const std::vector<CoverPiece>& day = plans[2].pieces;
    ASSERT_GE(day.size(), 2u);
    EXPECT_EQ(day.back().from, floor_day(as_of));
  }
  // A signal without windows, from its base tile on.
  SignalRequest all;
  all.name = "affinity";
  const TimeMs base_through = floor_day(kT - 10 * kDayMs) - 1;
  expect_cover_ending_in_hour_tile(plan_signal(all, kT, s, base_through, kCompleteFromTheStart)[0],
                                   base_through + 1, kT);
}

// The last hour stays raw where its tile may not hold exactly its events up to as_of.
TEST(QueryPlanner, TheLastHourStaysRawWhereItsTileMayDifferFromItsEvents) {
  const SignalRequest r = windowed({window("1d", kDayMs)});
  OnlineState s = online_state(kT, kBeginningOfTime, kRetention, kRetention + kHourMs);
  s.no_event_after_stream_time = true;
  auto last_is_raw = [&](TimeMs as_of, const OnlineState& state, TimeMs complete_from) {
    const WindowPlan plan = plan_signal(r, as_of, state, std::nullopt, complete_from)[0];
    const bool raw = plan.pieces.back().kind == CoverPiece::Kind::kRaw;
    if (raw) {
      expect_exact_cover(plan, window_start(kDayMs, as_of, kRetention), as_of);
    } else {
      expect_cover_ending_in_hour_tile(plan, window_start(kDayMs, as_of, kRetention), as_of);
    }
    return raw;
  };
  EXPECT_FALSE(last_is_raw(kT, s, kCompleteFromTheStart));
  // Before stream time: the hour's tile holds events after as_of.
  EXPECT_TRUE(last_is_raw(kT - 1, s, kCompleteFromTheStart));
  // A state complete only from later in the hour, or being built (INT64_MAX): its tile lacks
  // events its raw range holds.
  EXPECT_TRUE(last_is_raw(kT, s, floor_hour(kT) + 1));
  EXPECT_FALSE(last_is_raw(kT, s, floor_hour(kT)));
  EXPECT_TRUE(last_is_raw(kT, s, std::numeric_limits<TimeMs>::max()));
  // A store that may show events after its stream time.
  s.no_event_after_stream_time = false;
  EXPECT_TRUE(last_is_raw(kT, s, kCompleteFromTheStart));
}

// A plan of raw pieces only (and an hour tile, which is not scanned).
WindowPlan raw_plan(std::vector<std::pair<TimeMs, TimeMs>> raws) {
  WindowPlan p;
  for (auto [from, to] : raws)
    p.pieces.push_back({CoverPiece::Kind::kRaw, TileKind::kDay, from, to});
  p.pieces.push_back({CoverPiece::Kind::kTiles, TileKind::kHour, 0, kHourMs});
  return p;
}

constexpr TimeMs kNeverTold = std::numeric_limits<TimeMs>::max();

// raw_ranges_with_events() of plans given by value.
std::vector<std::pair<TimeMs, TimeMs>> raw_ranges_of(
    const std::vector<std::vector<WindowPlan>>& plans, const std::vector<TimeMs>& tiles_tell_from,
    const std::vector<TimeMs>& hour_tile_starts) {
  std::vector<const std::vector<WindowPlan>*> by_signal;
  for (const std::vector<WindowPlan>& p : plans) by_signal.push_back(&p);
  return raw_ranges_with_events(by_signal, tiles_tell_from, hour_tile_starts);
}

TEST(QueryPlanner, RawRangesAreMergedWhenTheyOverlapOrTouch) {
  std::vector<std::vector<WindowPlan>> plans = {
      {raw_plan({{10, 20}, {50, 60}})}, {}, {raw_plan({{21, 30}, {55, 70}, {100, 100}})}};
  std::vector<std::pair<TimeMs, TimeMs>> expected = {{10, 30}, {50, 70}, {100, 100}};
  EXPECT_EQ(raw_ranges_of(plans, {kNeverTold, kNeverTold, kNeverTold}, {}), expected);
  EXPECT_TRUE(raw_ranges_of({}, {}, {}).empty());
}

TEST(QueryPlanner, RangesOfTileStartsMergeWhenNoTileStartsBetweenThem) {
  using Ranges = std::vector<std::pair<TimeMs, TimeMs>>;
  const TimeMs h = floor_hour(kT);
  // The next hour's tile, a tile piece's last millisecond then the next hour, an overlap.
  EXPECT_EQ(merge_ranges({{h + kHourMs, h + kHourMs}, {h, h}}, kHourMs),
            (Ranges{{h, h + kHourMs}}));
  EXPECT_EQ(merge_ranges({{h - 3 * kHourMs, h - 1}, {h, h + 5}}, kHourMs),
            (Ranges{{h - 3 * kHourMs, h + 5}}));
  EXPECT_EQ(merge_ranges({{h, h + 2 * kHourMs}, {h + kHourMs, h + kHourMs}}, kHourMs),
            (Ranges{{h, h + 2 * kHourMs}}));
  // A tile starts between: kept apart (its tile would be read for nothing).
  EXPECT_EQ(merge_ranges({{h, h}, {h + 2 * kHourMs, h + 2 * kHourMs}}, kHourMs),
            (Ranges{{h, h}, {h + 2 * kHourMs, h + 2 * kHourMs}}));
  EXPECT_EQ(merge_ranges({{h, h + 17}, {h + 2 * kHourMs, h + 2 * kHourMs}}, kHourMs),
            (Ranges{{h, h + 17}, {h + 2 * kHourMs, h + 2 * kHourMs}}));
  EXPECT_TRUE(merge_ranges({}, kDayMs).empty());
}

TEST(QueryPlanner, HourTilesTellOfRawRangesOnlyWhereTheyAreKeptAndComplete) {
  const OnlineState s = online_state(kT, kBeginningOfTime, kRetention, kRetention + kHourMs);
  const SignalRequest counts = windowed({window("1d", kDayMs)});
  EXPECT_EQ(hour_tiles_tell_from(counts, s, kBeginningOfTime), s.hour_tiles_from);
  // A state complete only from a later time, or one still being built, tells from then on.
  EXPECT_EQ(hour_tiles_tell_from(counts, s, kT - kHourMs), kT - kHourMs);
  EXPECT_EQ(hour_tiles_tell_from(counts, s, kNeverTold), kNeverTold);
  // A state only signals without windows use keeps hour tiles from a later horizon; one shared
  // with a windowed signal keeps them as the windowed states do.
  SignalRequest base_only;
  base_only.name = "affinity";
  ASSERT_GT(hour_tiles_kept_from(base_only, s), s.hour_tiles_from);
  EXPECT_EQ(hour_tiles_tell_from(base_only, s, kBeginningOfTime),
            hour_tiles_kept_from(base_only, s));
  base_only.state_longest_window = kRetention;
  base_only.state_exact_window = kRetention;
  EXPECT_EQ(hour_tiles_tell_from(base_only, s, kBeginningOfTime), s.hour_tiles_from);
}

TEST(QueryPlanner, TheHoursOfRawPiecesAreSelectedFromTheirHorizonOn) {
  const TimeMs h = floor_hour(kT);
  WindowPlan plan;
  plan.pieces = {{CoverPiece::Kind::kRaw, TileKind::kHour, h - 2 * kHourMs + 5, h - kHourMs - 1},
                 {CoverPiece::Kind::kTiles, TileKind::kHour, h - kHourMs, h},
                 {CoverPiece::Kind::kRaw, TileKind::kHour, h + 7, h + kHourMs + 3}};
  std::vector<std::pair<TimeMs, TimeMs>> ranges;
  append_raw_piece_hours({plan}, kBeginningOfTime, ranges);
  const std::vector<std::pair<TimeMs, TimeMs>> both = {{h - 2 * kHourMs, h - 2 * kHourMs},
                                                       {h, h + kHourMs}};
  EXPECT_EQ(ranges, both);
  ranges.clear();
  append_raw_piece_hours({plan}, h - 2 * kHourMs + 6, ranges);  // the first starts before
  EXPECT_EQ(ranges, (std::vector<std::pair<TimeMs, TimeMs>>{{h, h + kHourMs}}));
}

TEST(QueryPlanner, ARawRangeNoHourTileOverlapsIsLeftOutWhereTheTilesTell) {
  using Ranges = std::vector<std::pair<TimeMs, TimeMs>>;
  const TimeMs h = floor_hour(kT);
  const Ranges ranges = {{h - 30 * kHourMs + 10, h - 29 * kHourMs - 1},  // in one hour
                         {h - 3 * kHourMs + 10, h - 2 * kHourMs + 99},   // across two hours
                         {h + 10, h + 20}};
  const std::vector<std::vector<WindowPlan>> plans = {{raw_plan(ranges)}};
  auto kept = [&](std::vector<TimeMs> tiles, TimeMs tell_from) {
    return raw_ranges_of(plans, {tell_from}, tiles);
  };
  EXPECT_EQ(kept({}, kBeginningOfTime), Ranges{});
  EXPECT_EQ(kept({}, h - 3 * kHourMs), (Ranges{ranges[0]}));  // before the horizon: scanned
  EXPECT_EQ(kept({}, kNeverTold), ranges);
  // A tile of the range's hour keeps it; tiles of the hours either side do not.
  EXPECT_EQ(kept({h - 30 * kHourMs}, kBeginningOfTime), (Ranges{ranges[0]}));
  EXPECT_EQ(kept({h - 31 * kHourMs, h - 29 * kHourMs, h - 4 * kHourMs, h - kHourMs, h + kHourMs},
                 kBeginningOfTime),
            Ranges{});
  EXPECT_EQ(kept({h - 2 * kHourMs}, kBeginningOfTime), (Ranges{ranges[1]}));  // its second hour
  EXPECT_EQ(kept({h - 3 * kHourMs}, kBeginningOfTime), (Ranges{ranges[1]}));  // its first
  EXPECT_EQ(kept({h}, kBeginningOfTime), (Ranges{ranges[2]}));
  // Merged with a piece of a signal whose tiles do not tell, a range is scanned.
  const std::vector<std::vector<WindowPlan>> two = {{raw_plan({ranges[2]})},
                                                    {raw_plan({{h + 15, h + 30}})}};
  EXPECT_EQ(raw_ranges_of(two, {kBeginningOfTime, kNeverTold}, {}), (Ranges{{h + 10, h + 30}}));
  EXPECT_EQ(raw_ranges_of(two, {kBeginningOfTime, kBeginningOfTime}, {}), Ranges{});
}

}  // namespace
}  // namespace signalbox
