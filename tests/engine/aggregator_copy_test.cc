// Aggregator::copy, which the span cache hands each query a merge it keeps through: the copy
// encodes to the same bytes as the original, and folding into either leaves the other as it
// was; for a built-in of every kind of state, and for an aggregator that leaves copy() to its
// default (through its encoding).

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "signalbox/aggregate/aggregator.h"
#include "signalbox/aggregate/signal.h"
#include "signalbox/common/bytes.h"

namespace signalbox {
// Named, since the test sources of a target are compiled as one unit.
namespace aggregator_copy_test {
namespace {

const FeatureNames kFeatures({"tags", "emb", "price"});

Signal signal_of(const std::string& aggregator, const std::string& value,
                 const std::string& group_by,
                 const std::vector<std::pair<std::string, std::string>>& params) {
  SignalConfig c;
  c.name = "s";
  c.aggregator = aggregator;
  c.value = value;
  c.group_by = group_by;
  c.where = {"cfg.yaml", 2, "signals[0]"};
  int line = 3;
  for (const auto& [key, text] : params)
    c.params[key] = ConfigParam{text, {"cfg.yaml", line++, "signals[0]"}};
  return Signal(c, kFeatures);
}

MaterializedEvent event(TimeMs ts, int i) {
  MaterializedEvent e;
  e.event.user_id = 1;
  e.event.ts = ts;
  e.event.action = "view";
  e.event.event_id = "e" + std::to_string(i);
  e.features.emplace_back(
      std::vector<std::string>{"tag" + std::to_string(i % 5), "tag" + std::to_string(i % 3)});
  e.features.emplace_back(std::vector<float>{0.5f * static_cast<float>(i), -1.25f, 3.0f});
  e.features.emplace_back(1.5 * i);
  return e;
}

std::string encoding(const Aggregator& aggregator, const State& state) {
  std::string bytes;
  aggregator.encode(state, bytes);
  return bytes;
}

void expect_copies_equal_and_apart(const Aggregator& aggregator) {
  std::unique_ptr<State> original = aggregator.make_state();
  for (int i = 0; i < 40; ++i) aggregator.fold(*original, event(1000 * i, i), 1.0);
  const std::string before = encoding(aggregator, *original);

  std::unique_ptr<State> copy = aggregator.copy(*original);
  EXPECT_EQ(encoding(aggregator, *copy), before);
  EXPECT_EQ(aggregator.result(*copy, 100000), aggregator.result(*original, 100000));

  // Folded into the copy: the original is as it was.
  for (int i = 40; i < 50; ++i) aggregator.fold(*copy, event(1000 * i, i), 2.0);
  EXPECT_EQ(encoding(aggregator, *original), before);
  // And the other way round.
  std::unique_ptr<State> second = aggregator.copy(*original);
  std::unique_ptr<State> more = aggregator.make_state();
  aggregator.fold(*more, event(99000, 99), 1.0);
  aggregator.merge(*original, *more);
  EXPECT_EQ(encoding(aggregator, *second), before);
}

TEST(AggregatorCopy, ABuiltInsCopyIsEqualAndApart) {
  auto check = [](const Signal& signal) {
    SCOPED_TRACE(signal.config().aggregator);
    expect_copies_equal_and_apart(signal.aggregator());
  };
  check(signal_of("count", "", "tags", {}));
  check(signal_of("sum", "price", "", {}));
  check(signal_of("decayed_count", "", "tags", {{"half_life", "1h"}}));
  check(signal_of("last_k", "tags", "", {{"k", "3"}}));
  check(signal_of("distinct_count", "tags", "", {}));
  check(signal_of("mean", "emb", "", {}));
  check(signal_of("top_frequent", "tags", "", {{"k", "2"}}));
}

// An aggregator written against Aggregator itself, not AggregatorOf: copy() through its
// encoding.
struct Tally : State {
  std::vector<TimeMs> seen;
};

class TallyAggregator final : public Aggregator {
 public:
  std::unique_ptr<State> make_state() const override { return std::make_unique<Tally>(); }
  void fold(State& state, const MaterializedEvent& event, double) const override {
    static_cast<Tally&>(state).seen.push_back(event.event.ts);
  }
  void merge(State& into, const State& from) const override {
    const auto& seen = static_cast<const Tally&>(from).seen;
    auto& to = static_cast<Tally&>(into).seen;
    to.insert(to.end(), seen.begin(), seen.end());
  }
  Value result(const State& state, TimeMs) const override {
    return Value(static_cast<double>(static_cast<const Tally&>(state).seen.size()));
  }
  void encode(const State& state, std::string& out) const override {
    ByteWriter writer(out);
    const auto& seen = static_cast<const Tally&>(state).seen;
    writer.varint(seen.size());
    for (TimeMs ts : seen) writer.svarint(ts);
  }
  std::unique_ptr<State> decode(std::string_view bytes) const override {
    auto state = std::make_unique<Tally>();
    ByteReader reader(bytes);
    const std::uint64_t n = reader.count(1);
    for (std::uint64_t i = 0; i < n; ++i) state->seen.push_back(reader.svarint());
    return state;
  }
};

TEST(AggregatorCopy, WithoutACopyOfItsOwnAnAggregatorCopiesThroughItsEncoding) {
  expect_copies_equal_and_apart(TallyAggregator());
}

}  // namespace
}  // namespace aggregator_copy_test
}  // namespace signalbox
