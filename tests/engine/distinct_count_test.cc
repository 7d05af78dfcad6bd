// distinct_count's exact sets against a plain reference: tiles of very different sizes merged
// in any order (a few values into many, as an hour tile onto a window's days, and sets of like
// size), through the stored bytes or not, count every distinct value once and store the same
// bytes as one state that folded every event. And a sketch's bytes checked when decoded.

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "signalbox/aggregate/aggregator.h"
#include "signalbox/aggregate/hyperloglog.h"
#include "signalbox/aggregate/signal.h"
#include "signalbox/common/error.h"

namespace signalbox {
// Named, since the test sources of a target are compiled as one unit.
namespace distinct_count_test {
namespace {

Signal distinct_signal() {
  SignalConfig c;
  c.name = "distinct";
  c.aggregator = "distinct_count";
  c.value = "tags";
  c.where = {"cfg.yaml", 2, "signals[0]"};
  return Signal(c, FeatureNames({"tags"}));
}

MaterializedEvent event(std::vector<std::string> tags) {
  MaterializedEvent e;
  e.event.user_id = 1;
  e.event.ts = 1;
  e.event.action = "view";
  e.event.event_id = "e";
  e.features.emplace_back(std::move(tags));
  return e;
}

std::string encode(const Aggregator& agg, const State& state) {
  std::string bytes;
  agg.encode(state, bytes);
  return bytes;
}

TEST(DistinctCount, TilesOfAnySizesMergedInAnyOrderCountEachValueOnce) {
  const Signal signal = distinct_signal();
  const Aggregator& agg = signal.aggregator();
  for (std::uint64_t seed = 0; seed < 400; ++seed) {
    std::mt19937_64 rng(seed);
    // Values drawn from a pool small enough that tiles share many, and at most 900 distinct in
    // all, so that the set stays exact (sketches begin past 1000).
    const std::size_t pool = 1 + rng() % 900;
    auto value = [&] { return "v" + std::to_string(rng() % pool); };
    // One large tile and many small ones, or tiles of like sizes.
    const bool skewed = seed % 2 == 0;
    const std::size_t tiles = 2 + rng() % 30;
    std::vector<std::vector<MaterializedEvent>> parts(tiles);
    std::set<std::string> distinct;
    for (std::size_t t = 0; t < tiles; ++t) {
      const std::size_t n = skewed ? (t == 0 ? 300 + rng() % 600 : rng() % 12) : rng() % 80;
      for (std::size_t i = 0; i < n; ++i) {
        std::vector<std::string> tags(1 + rng() % 3);
        for (std::string& tag : tags) {
          tag = value();
          distinct.insert(tag);
        }
        parts[t].push_back(event(std::move(tags)));
      }
    }
    std::vector<std::unique_ptr<State>> states;
    std::unique_ptr<State> folded_all = agg.make_state();
    for (const auto& part : parts) {
      std::unique_ptr<State> state = agg.make_state();
      for (const MaterializedEvent& e : part) {
        agg.fold(*state, e, 1);
        agg.fold(*folded_all, e, 1);
      }
      if (rng() % 2 == 0) state = agg.decode(encode(agg, *state));  // as tiles are read
      states.push_back(std::move(state));
    }
    // The large tile first (as a window's days before its hours), or any order.
    if (!skewed || rng() % 2 == 0) std::shuffle(states.begin(), states.end(), rng);
    std::unique_ptr<State> total = agg.make_state();
    for (const auto& state : states) agg.merge(*total, *state);

    ASSERT_EQ(agg.result(*total, 0), Value(static_cast<std::uint64_t>(distinct.size())))
        << "seed " << seed;
    ASSERT_EQ(encode(agg, *total), encode(agg, *folded_all)) << "seed " << seed;
  }
}

TEST(DistinctCount, ASketchStateOfTheWrongSizeOrRankIsRefused) {
  const Signal signal = distinct_signal();
  const Aggregator& agg = signal.aggregator();
  std::unique_ptr<State> state = agg.make_state();
  for (int i = 0; i < 2000; ++i) agg.fold(*state, event({"pin-" + std::to_string(i)}), 1);
  const std::string bytes = encode(agg, *state);
  ASSERT_EQ(bytes.size(), 1 + HyperLogLog::kRegisters);  // past 1 000 values: the sketch
  EXPECT_EQ(encode(agg, *agg.decode(bytes)), bytes);
  EXPECT_THROW(agg.decode(bytes.substr(0, bytes.size() - 1)), CorruptionError);
  EXPECT_THROW(agg.decode(bytes + '\x01'), CorruptionError);
  std::string past = bytes;
  past[100] = static_cast<char>(HyperLogLog::kMaxRank + 1);
  EXPECT_THROW(agg.decode(past), CorruptionError);
}

}  // namespace
}  // namespace distinct_count_test
}  // namespace signalbox
