// fold_window's raw pieces, folded a clock hour at a time, and its runs of hour tiles: every
// window gets exactly the events and tiles of its range, in one state, whether the pieces'
// states are shared between the windows of a query (SharedPieces) or made for each window
// (explain, which is told of every tile and event); and shared, each hour of raw events and
// each run of tiles is folded once however many windows hold it.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "signalbox/aggregate/aggregator.h"
#include "signalbox/aggregate/signal.h"
#include "signalbox/engine/window_fold.h"

namespace signalbox {
// Named, since the test sources of a target are compiled as one unit.
namespace shared_pieces_test {
namespace {

// Every fold and every merge of the aggregator below, counted.
std::size_t folds = 0;
std::size_t merges = 0;

// Keeps the timestamps it folds: what a window was made of.
class FoldedTimes final : public AggregatorOf<std::vector<TimeMs>> {
 public:
  void fold(std::vector<TimeMs>& s, const MaterializedEvent& e, double) const override {
    ++folds;
    s.push_back(e.event.ts);
  }
  void merge(std::vector<TimeMs>& into, const std::vector<TimeMs>& from) const override {
    ++merges;
    into.insert(into.end(), from.begin(), from.end());
  }
  Value result(const std::vector<TimeMs>& s, TimeMs) const override {
    std::vector<TimeMs> sorted = s;
    std::sort(sorted.begin(), sorted.end());
    Value::Array out;
    for (TimeMs t : sorted) out.emplace_back(static_cast<std::int64_t>(t));
    return Value(std::move(out));
  }
  void encode(const std::vector<TimeMs>& s, ByteWriter& out) const override {
    out.varint(s.size());
    for (TimeMs t : s) out.svarint(t);
  }
  std::vector<TimeMs> decode(ByteReader& in) const override {
    std::vector<TimeMs> s(in.count(1));
    for (TimeMs& t : s) t = in.svarint();
    return s;
  }
};

Signal folded_times_signal() {
  register_aggregator("test_folded_times",
                      [](const AggregatorContext&) -> std::unique_ptr<Aggregator> {
                        return std::make_unique<FoldedTimes>();
                      },
                      {});
  SignalConfig c;
  c.name = "times";
  c.aggregator = "test_folded_times";
  c.actions = {{"view", 1.0}, {"save", 2.0}};  // clicks are not counted
  c.where = {"cfg.yaml", 2, "signals[0]"};
  return Signal(c, FeatureNames());
}

// Tells of each tile merged and each event folded, in order.
class SeenEvents final : public FoldObserver {
 public:
  void on_tile(const StoredTile& tile, const State&) override { tiles.push_back(tile.start); }
  void on_event(const MaterializedEvent& e, double) override { seen.push_back(e.event.ts); }
  std::vector<TimeMs> seen;
  std::vector<TimeMs> tiles;
};

TEST(RawHours, EveryWindowFoldsExactlyItsEventsAndEachSharedHourIsFoldedOnce) {
  const Signal signal = folded_times_signal();
  const std::vector<StoredTile> no_tiles;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    std::mt19937_64 rng(seed);
    const TimeMs as_of = 1'767'225'588'737 - static_cast<TimeMs>(rng() % (3 * kDayMs));
    const TimeMs hour = floor_hour(as_of);
    // Events over the last 30 hours, some at hour edges and at as_of, some after it.
    std::vector<MaterializedEvent> events(static_cast<std::size_t>(rng() % 120));
    const char* actions[] = {"view", "save", "click"};
    for (MaterializedEvent& e : events) {
      switch (rng() % 4) {
        case 0:
          e.event.ts = hour - static_cast<TimeMs>(rng() % 30) * kHourMs - (rng() % 2);
          break;
        case 1:
          e.event.ts = as_of + static_cast<TimeMs>(rng() % 3) - 1;
          break;
        default:
          e.event.ts = as_of - static_cast<TimeMs>(rng() % (30 * kHourMs));
      }
      e.event.action = actions[rng() % 3];
    }
    std::sort(events.begin(), events.end(),
              [](const MaterializedEvent& a, const MaterializedEvent& b) {
                return a.event.ts < b.event.ts;
              });
    // Windows of one raw piece each (as a state without hour tiles reads them), from hour
    // boundaries and from inside hours, all ending at as_of, as every window of a query does.
    std::vector<WindowPlan> plans;
    for (TimeMs from : {as_of - kHourMs + 1, hour, hour - 5 * kHourMs, hour - 26 * kHourMs,
                        as_of - static_cast<TimeMs>(rng() % (28 * kHourMs))}) {
      WindowPlan plan;
      plan.label = std::to_string(from);
      plan.pieces = {CoverPiece{CoverPiece::Kind::kRaw, TileKind::kHour, from, as_of}};
      plans.push_back(plan);
    }
    // The events of [from, to] the signal weighs (clicks it does not), as the test reads the
    // config.
    auto expected = [&](TimeMs from, TimeMs to) {
      std::vector<TimeMs> out;
      for (const MaterializedEvent& e : events) {
        if (e.event.ts < from || e.event.ts > to || e.event.action == "click") continue;
        out.push_back(e.event.ts);
      }
      return out;
    };
    auto as_value = [](const std::vector<TimeMs>& times) {
      Value::Array out;
      for (TimeMs t : times) out.emplace_back(static_cast<std::int64_t>(t));
      return Value(std::move(out));
    };

    folds = 0;
    DecodedTiles tiles(signal.aggregator(), no_tiles);
    SharedPieces shared(signal);
    for (const WindowPlan& plan : plans) {
      const CoverPiece& piece = plan.pieces[0];
      const Value want = as_value(expected(piece.from, piece.to));
      std::unique_ptr<State> state =
          fold_window(signal, plan, tiles, events, nullptr, nullptr, nullptr, &shared);
      ASSERT_EQ(signal.aggregator().result(*state, as_of), want)
          << "seed " << seed << ", window from " << plan.label;

      // Alone, telling an observer: the same state, every event told once and in order.
      SeenEvents seen;
      const std::size_t before = folds;
      std::unique_ptr<State> alone = fold_window(signal, plan, tiles, events, &seen);
      folds = before;  // only the shared folds are counted below
      std::string shared_bytes;
      std::string alone_bytes;
      signal.aggregator().encode(*state, shared_bytes);
      signal.aggregator().encode(*alone, alone_bytes);
      EXPECT_EQ(alone_bytes, shared_bytes) << "seed " << seed << ", window from " << plan.label;
      EXPECT_EQ(seen.seen, expected(piece.from, piece.to))
          << "seed " << seed << ", window from " << plan.label;
      // An observer is told of every event even where kept states could answer.
      SeenEvents seen_with_kept;
      fold_window(signal, plan, tiles, events, &seen_with_kept, nullptr, nullptr, &shared);
      folds = before;
      EXPECT_EQ(seen_with_kept.seen, expected(piece.from, piece.to))
          << "seed " << seed << ", window from " << plan.label;
    }
    // Shared, each part of a clock hour some window spans is folded once, however many
    // windows span the same part: the current hour up to as_of (every window's), the whole
    // hours, and each window's own first part of an hour.
    std::set<std::pair<TimeMs, TimeMs>> parts;
    for (const WindowPlan& plan : plans) {
      const CoverPiece& piece = plan.pieces[0];
      for (TimeMs h = floor_hour(piece.from); h <= piece.to; h += kHourMs)
        parts.emplace(std::max(piece.from, h), std::min(piece.to, h + kHourMs - 1));
    }
    std::size_t once_each = 0;
    for (const auto& [from, to] : parts) once_each += expected(from, to).size();
    EXPECT_EQ(folds, once_each) << "seed " << seed;
  }
}

TEST(SharedPieces, EveryWindowMergesExactlyItsHourTilesAndEachSharedRunOnce) {
  const Signal signal = folded_times_signal();
  const Aggregator& aggregator = signal.aggregator();
  const std::vector<MaterializedEvent> no_events;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    std::mt19937_64 rng(seed);
    const TimeMs day = floor_day(1'767'225'588'737) - static_cast<TimeMs>(rng() % 5) * kDayMs;
    // Hour tiles of one day, some hours without one; each holds its hour's start, once per
    // event, as a tile of the aggregator holds what it folded.
    std::vector<std::string> bytes;
    std::vector<TimeMs> starts;
    for (TimeMs h = 0; h < 24; ++h) {
      if (rng() % 3 == 0) continue;
      const TimeMs start = day + h * kHourMs;
      std::unique_ptr<State> tile = aggregator.make_state();
      const std::size_t events = 1 + rng() % 3;
      MaterializedEvent e;
      e.event.ts = start;
      e.event.action = "view";
      for (std::size_t i = 0; i < events; ++i) aggregator.fold(*tile, e, 1);
      bytes.emplace_back();
      aggregator.encode(*tile, bytes.back());
      starts.push_back(start);
    }
    std::vector<StoredTile> stored;
    for (std::size_t i = 0; i < starts.size(); ++i) {
      StoredTile t;
      t.kind = TileKind::kHour;
      t.start = starts[i];
      t.state = bytes[i];
      stored.push_back(t);
    }
    // Windows of one hour-tile piece each, all ending at the same hour (as every window of a
    // query of a day or more ends in the current day's hours), some starting at the same one.
    const TimeMs end = day + static_cast<TimeMs>(1 + rng() % 24) * kHourMs;
    std::vector<CoverPiece> pieces;
    for (int w = 0; w < 5; ++w) {
      const TimeMs from = w < 2 ? day : day + static_cast<TimeMs>(rng() % 24) * kHourMs;
      if (from < end) pieces.push_back({CoverPiece::Kind::kTiles, TileKind::kHour, from, end});
    }
    auto tiles_in = [&](const CoverPiece& piece) {
      std::vector<TimeMs> out;
      for (TimeMs start : starts)
        if (start >= piece.from && start < piece.to) out.push_back(start);
      return out;
    };
    auto expected = [&](const CoverPiece& piece) {
      Value::Array out;
      for (std::size_t i = 0; i < starts.size(); ++i) {
        if (starts[i] < piece.from || starts[i] >= piece.to) continue;
        std::unique_ptr<State> tile = aggregator.decode(bytes[i]);
        const Value times = aggregator.result(*tile, 0);
        for (const Value& t : times.array()) out.push_back(t);
      }
      return Value(std::move(out));
    };

    DecodedTiles tiles(aggregator, stored);
    SharedPieces shared(signal);
    merges = 0;
    std::size_t alone_merges = 0;
    for (const CoverPiece& piece : pieces) {
      WindowPlan plan;
      plan.label = std::to_string(piece.from);
      plan.pieces = {piece};
      std::unique_ptr<State> state =
          fold_window(signal, plan, tiles, no_events, nullptr, nullptr, nullptr, &shared);
      ASSERT_EQ(aggregator.result(*state, 0), expected(piece))
          << "seed " << seed << ", window from " << plan.label;

      SeenEvents seen;
      const std::size_t before = merges;
      std::unique_ptr<State> alone = fold_window(signal, plan, tiles, no_events, &seen);
      alone_merges += merges - before;
      std::string shared_bytes;
      std::string alone_bytes;
      aggregator.encode(*state, shared_bytes);
      aggregator.encode(*alone, alone_bytes);
      EXPECT_EQ(alone_bytes, shared_bytes) << "seed " << seed << ", window from " << plan.label;
      EXPECT_EQ(seen.tiles, tiles_in(piece)) << "seed " << seed << ", window from " << plan.label;
    }
    // Shared, the tiles of a piece of two or more are merged once into its own state, and that
    // state once into each window that has the piece; one tile is merged straight in.
    std::set<std::pair<TimeMs, TimeMs>> distinct;
    std::size_t want = 0;
    for (const CoverPiece& piece : pieces) {
      const std::size_t n = tiles_in(piece).size();
      if (n < 2) {
        want += n;
        continue;
      }
      want += 1;
      if (distinct.emplace(piece.from, piece.to).second) want += n;
    }
    EXPECT_EQ(merges - alone_merges, want) << "seed " << seed;
  }
}

}  // namespace
}  // namespace shared_pieces_test
}  // namespace signalbox
