// A view's written result against its built one: for random inputs of every shape, what each
// built-in view writes through write_with() must be the Value transform_with() returns, both
// as JSON (JsonResultWriter against to_json()) and as a Value (ValueBuilder).

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "built_views.h"
#include "signalbox/aggregate/signal.h"
#include "signalbox/common/json_result_writer.h"
#include "signalbox/common/value.h"
#include "signalbox/common/value_builder.h"
#include "signalbox/config/config.h"
#include "signalbox/view/view.h"

namespace signalbox {
namespace {

const FeatureNames kViewFeatures({"pin.categories"});

// Every built-in view (top_k with two values of k).
BuiltViews views_under_test() {
  return build_views(R"(signals:
  - { name: counts, aggregator: count, group_by: attrs.category, windows: [1d, 30d] }
  - { name: recent, aggregator: last_k, value: item_id, k: 20 }
views:
  - { name: top, signal: counts, window: 1d, transform: top_k, k: 3 }
  - { name: top_one, signal: counts, window: 1d, transform: top_k, k: 1 }
  - { name: mix, signal: counts, window: 1d, transform: normalize }
  - { name: session, signal: recent, transform: last_session, gap: 30m }
  - { name: level, signal: counts, window: 1d, transform: bucketize, boundaries: [1, 5] }
  - { name: rising, signal: counts, transform: ratio, numerator: 1d, denominator: 30d }
)",
                     "views.yaml", kViewFeatures);
}

// A random map of counts: repeated values (ties for top_k), zeros, negatives, fractions, and
// now and then one that sums to zero.
Value random_map(std::mt19937_64& random) {
  Value::Object members;
  const std::size_t n = random() % 7;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(static_cast<int>(random() % 7) - 1) / (1 + random() % 3);
    members.emplace_back("k" + std::to_string(i), Value(v));
  }
  if (n == 2 && random() % 2) members[1].second = Value(-members[0].second.number());
  return Value(std::move(members));
}

// A random newest-first {value, ts} list, with pauses around the session gap and now and then
// an entry without a ts.
Value random_list(std::mt19937_64& random) {
  Value::Array entries;
  std::int64_t ts = 1'767'225'600'000;
  const std::size_t n = random() % 8;
  for (std::size_t i = 0; i < n; ++i) {
    Value::Object entry{{"value", Value("p" + std::to_string(random() % 100))}};
    if (random() % 10) entry.emplace_back("ts", Value(ts));
    entries.emplace_back(std::move(entry));
    ts -= static_cast<std::int64_t>(random() % 3) * 15 * 60 * 1000;  // 0, 15 or 30 minutes
  }
  return Value(std::move(entries));
}

// Any input at all: the views' other shapes (a number, null, a string) included.
Value random_input(std::mt19937_64& random) {
  switch (random() % 6) {
    case 0:
      return Value();
    case 1:
      return Value(3.5);
    case 2:
      return Value("text");
    case 3:
      return random_list(random);
    default:
      return random_map(random);
  }
}

TEST(ViewWriting, EachViewWritesWhatItsTransformReturns) {
  const BuiltViews built = views_under_test();
  ASSERT_EQ(built.views.size(), 6u);
  std::mt19937_64 random(7);
  for (int round = 0; round < 2000; ++round) {
    const Value input = random_input(random);
    const Value operand_a = random_map(random), operand_b = random_map(random);
    for (std::size_t v = 0; v < built.views.size(); ++v) {
      const View& view = *built.views[v];
      std::vector<const Value*> operands;
      for (std::size_t i = 0; i < view.operands().size(); ++i)
        operands.push_back(i == 0 ? &operand_a : &operand_b);
      const Value expected = view.transform_with(input, operands);
      std::string json = "[";
      {
        JsonResultWriter writer(json);
        view.write_with(input, operands, writer);
      }
      ValueBuilder builder;
      view.write_with(input, operands, builder);
      ASSERT_EQ(json, "[" + expected.to_json())
          << built.names[v] << ", round " << round << ", input " << input.to_json();
      ASSERT_EQ(builder.take(), expected) << built.names[v] << ", round " << round;
    }
  }
}

// Value::write_to, which last_session writes its entries with, gives every kind of value.
TEST(ViewWriting, AValueWrittenTokenByTokenIsTheSameValue) {
  const Value v(Value::Object{
      {"a", Value(Value::Array{Value(), Value(true), Value(0.25), Value(std::int64_t{-3}),
                               Value(std::uint64_t{18'446'744'073'709'551'615u}), Value("s\"\n")})},
      {"b", Value(Value::Object{})},
      {"c", Value(Value::Array{})}});
  std::string json;
  {
    JsonResultWriter writer(json);
    v.write_to(writer);
  }
  EXPECT_EQ(json, v.to_json());
  ValueBuilder builder;
  v.write_to(builder);
  EXPECT_EQ(builder.take(), v);
}

}  // namespace
}  // namespace signalbox
