// last_k folded and merged in random orders and tile splits against a plain reference (sort
// every occurrence newest first, keep each value's first, take k); and its bytes against the
// encoding stores already hold.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "signalbox/aggregate/aggregator.h"
#include "signalbox/aggregate/signal.h"
#include "signalbox/common/bytes.h"

namespace signalbox {
// Named, since the test sources of a target are compiled as one unit.
namespace last_k_test {
namespace {

// A last_k signal over the strings feature `tags`, so one event may carry several values
// (and the same one twice).
Signal last_k_signal(std::int64_t k) {
  SignalConfig c;
  c.name = "recent";
  c.aggregator = "last_k";
  c.value = "tags";
  c.where = {"cfg.yaml", 2, "signals[0]"};
  c.params["k"] = ConfigParam{std::to_string(k), {"cfg.yaml", 3, "signals[0]"}};
  return Signal(c, FeatureNames({"tags"}));
}

MaterializedEvent event(TimeMs ts, std::string event_id, std::vector<std::string> tags) {
  MaterializedEvent e;
  e.event.user_id = 1;
  e.event.ts = ts;
  e.event.action = "view";
  e.event.event_id = std::move(event_id);
  e.features.emplace_back(std::move(tags));
  return e;
}

struct Occurrence {
  std::string value;
  TimeMs ts;
  std::string event_id;
};

// docs/signals.md: newer ts first, then the larger event id, then the smaller value.
bool newer(const Occurrence& a, const Occurrence& b) {
  return std::tie(b.ts, b.event_id, a.value) < std::tie(a.ts, a.event_id, b.value);
}

std::vector<Occurrence> reference(const std::vector<MaterializedEvent>& events, std::size_t k) {
  std::vector<Occurrence> all;
  for (const auto& e : events)
    for (const auto& tag : std::get<std::vector<std::string>>(e.features[0]))
      all.push_back({tag, e.event.ts, e.event.event_id});
  std::sort(all.begin(), all.end(), newer);
  std::vector<Occurrence> kept;
  for (const auto& o : all) {
    if (kept.size() == k) break;
    if (std::none_of(kept.begin(), kept.end(), [&](const auto& x) { return x.value == o.value; }))
      kept.push_back(o);
  }
  return kept;
}

// The bytes stores hold: a count, then per entry newest first str(value), svarint(ts),
// str(event_id).
std::string encoded(const std::vector<Occurrence>& entries) {
  std::string bytes;
  ByteWriter out(bytes);
  out.varint(entries.size());
  for (const auto& o : entries) {
    out.str(o.value);
    out.svarint(o.ts);
    out.str(o.event_id);
  }
  return bytes;
}

Value result_of(const std::vector<Occurrence>& entries) {
  Value::Array list;
  for (const auto& o : entries)
    list.emplace_back(Value::Object{{"value", Value(o.value)}, {"ts", Value(o.ts)}});
  return Value(std::move(list));
}

std::string encode(const Aggregator& agg, const State& state) {
  std::string bytes;
  agg.encode(state, bytes);
  return bytes;
}

std::string draw(std::mt19937_64& rng, std::size_t pool) {
  // Short strings and long ones sharing prefixes, and bytes past 0x7f, so order is by bytes.
  static const char* const kStrings[] = {"a",
                                         "b",
                                         "ab",
                                         "p1",
                                         "p10",
                                         "p2",
                                         "\xc3\xa9t\xc3\xa9",
                                         "z",
                                         "a long item id well past the small string buffer 1",
                                         "a long item id well past the small string buffer 2",
                                         "",
                                         "p100"};
  return kStrings[rng() % std::min(pool, std::size(kStrings))];
}

// Few values (most repeat) or, when `many`, hundreds of them, for a k past what a merge scans.
std::vector<MaterializedEvent> draw_events(std::mt19937_64& rng, bool many) {
  const std::size_t values = many ? 100 + rng() % 200 : 1 + rng() % 12;
  const std::size_t ids = 1 + rng() % 6;
  const TimeMs span = 1 + static_cast<TimeMs>(rng() % (many ? 100 : 12));  // equal ts are common
  std::vector<MaterializedEvent> events(rng() % (many ? 400 : 60));
  for (auto& e : events) {
    std::vector<std::string> tags(rng() % 4);
    for (auto& t : tags) t = many ? "v" + std::to_string(rng() % values) : draw(rng, values);
    e = event(static_cast<TimeMs>(rng() % span) - 3, draw(rng, ids), std::move(tags));
  }
  // Mostly oldest first, as replays deliver them; sometimes any order.
  if (rng() % 3 != 0)
    std::stable_sort(events.begin(), events.end(),
                     [](const auto& a, const auto& b) { return a.event.ts < b.event.ts; });
  return events;
}

// Sometimes through the bytes, as tiles are stored and read.
std::unique_ptr<State> maybe_stored(const Aggregator& agg, std::unique_ptr<State> s,
                                    std::mt19937_64& rng) {
  if (rng() % 2 == 0) return s;
  return agg.decode(encode(agg, *s));
}

TEST(LastK, FoldAndMergeMatchAReferenceOverRandomTilesAndOrders) {
  for (std::uint64_t seed = 0; seed < 3000; ++seed) {
    std::mt19937_64 rng(seed);
    const bool many = seed % 10 == 0;
    const std::size_t k = many ? 1 + rng() % 200 : rng() % 4 == 0 ? 1 + rng() % 40 : 1 + rng() % 6;
    const Signal signal = last_k_signal(static_cast<std::int64_t>(k));
    const Aggregator& agg = signal.aggregator();
    const std::vector<MaterializedEvent> events = draw_events(rng, many);

    // Split into tiles, each folded on its own (some events of a tile out of order); the
    // last part is folded into the merged state at the end, as a query folds the events at
    // a window's edges.
    const std::size_t tiles = 1 + rng() % 5;
    std::vector<std::vector<const MaterializedEvent*>> parts(tiles + 1);
    for (const auto& e : events) parts[rng() % parts.size()].push_back(&e);
    std::vector<std::unique_ptr<State>> states;
    for (std::size_t t = 0; t < tiles; ++t) {
      if (rng() % 4 == 0) std::shuffle(parts[t].begin(), parts[t].end(), rng);
      auto state = agg.make_state();
      for (const MaterializedEvent* e : parts[t]) agg.fold(*state, *e, 1);
      states.push_back(maybe_stored(agg, std::move(state), rng));
    }
    std::shuffle(states.begin(), states.end(), rng);
    // Merged into an empty state (as a query does) or into one of the tiles.
    std::unique_ptr<State> total = agg.make_state();
    if (rng() % 2 == 0) {
      total = std::move(states.back());
      states.pop_back();
    }
    for (const auto& state : states) {
      agg.merge(*total, *state);
      total = maybe_stored(agg, std::move(total), rng);
    }
    for (const MaterializedEvent* e : parts[tiles]) agg.fold(*total, *e, 1);

    const std::vector<Occurrence> expected = reference(events, k);
    ASSERT_EQ(agg.result(*total, 100), result_of(expected)) << "seed " << seed << " k " << k;
    ASSERT_EQ(encode(agg, *total), encoded(expected)) << "seed " << seed << " k " << k;
  }
}

TEST(LastK, FoldingManyEventsKeepsTheNewestK) {
  // Long runs, oldest first and newest first, over many values: the folded state drops its
  // oldest entries in batches, which must never lose one of the newest k.
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    std::mt19937_64 rng(seed);
    const std::size_t k = 1 + rng() % 50;
    const Signal signal = last_k_signal(static_cast<std::int64_t>(k));
    const Aggregator& agg = signal.aggregator();
    std::vector<MaterializedEvent> events;
    for (int i = 0; i < 2000; ++i)
      events.push_back(event(i / 3, "e" + std::to_string(rng() % 1000),
                             {"v" + std::to_string(rng() % (2 * k + 5))}));
    if (seed % 2 == 1) std::reverse(events.begin(), events.end());
    auto state = agg.make_state();
    for (const auto& e : events) agg.fold(*state, e, 1);
    ASSERT_EQ(encode(agg, *state), encoded(reference(events, k))) << "seed " << seed;
  }
}

TEST(LastK, EncodesAsStoresHoldIt) {
  const Signal signal = last_k_signal(3);
  const Aggregator& agg = signal.aggregator();

  auto empty = agg.make_state();
  EXPECT_EQ(encode(agg, *empty), std::string(1, '\0'));

  // Folded oldest first, newest first, and as merged tiles: the same newest-first bytes.
  const std::vector<MaterializedEvent> events = {
      event(-5, "e1", {"pin-a"}), event(10, "e2", {"pin-b", "pin-c"}), event(10, "e3", {"pin-a"}),
      event(300, "e4", {"pin-d"})};
  std::string expected;
  ByteWriter out(expected);
  out.varint(3);
  out.str("pin-d");
  out.svarint(300);
  out.str("e4");
  out.str("pin-a");
  out.svarint(10);
  out.str("e3");
  out.str("pin-b");
  out.svarint(10);
  out.str("e2");
  // As bytes, for the record: count 3, then "pin-d" (length 5), ts 300 zigzagged, "e4", ...
  EXPECT_EQ(expected.substr(0, 7), std::string("\x03\x05pin-d", 7));

  auto forward = agg.make_state();
  for (const auto& e : events) agg.fold(*forward, e, 1);
  EXPECT_EQ(encode(agg, *forward), expected);

  auto backward = agg.make_state();
  for (auto e = events.rbegin(); e != events.rend(); ++e) agg.fold(*backward, *e, 1);
  EXPECT_EQ(encode(agg, *backward), expected);

  auto older = agg.make_state(), newer_tile = agg.make_state();
  agg.fold(*older, events[0], 1);
  agg.fold(*older, events[1], 1);
  agg.fold(*newer_tile, events[2], 1);
  agg.fold(*newer_tile, events[3], 1);
  auto merged = agg.decode(encode(agg, *newer_tile));
  agg.merge(*merged, *agg.decode(encode(agg, *older)));
  EXPECT_EQ(encode(agg, *merged), expected);
  EXPECT_EQ(encode(agg, *agg.decode(expected)), expected);
}

}  // namespace
}  // namespace last_k_test
}  // namespace signalbox
