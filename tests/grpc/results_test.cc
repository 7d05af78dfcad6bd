// Engine answers (JSON-shaped Values) become typed gRPC results: each built-in shape typed,
// empty lists typed by what the config says the name answers, anything else as JSON text.

#include <gtest/gtest.h>

#include "signalbox/grpc/results.h"

namespace signalbox {
namespace {

using Shape = ResultTranslator::Shape;

v1::Result translate(const Value& v, Shape shape) {
  v1::Result out;
  ResultTranslator::result(v, shape, &out);
  return out;
}

Value recent(std::string value, TimeMs ts) {
  return Value(Value::Object{{"value", Value(std::move(value))}, {"ts", Value(ts)}});
}

TEST(Results, EachShapeTyped) {
  EXPECT_EQ(translate(Value(3.5), Shape::kNumberOrMap).number(), 3.5);
  EXPECT_EQ(translate(Value(std::uint64_t{7}), Shape::kNumberOrMap).number(), 7);
  EXPECT_EQ(translate(Value(), Shape::kVector).kind_case(), v1::Result::KIND_NOT_SET);

  v1::Result map = translate(Value(Value::Object{{"a", Value(1.0)}, {"b", Value(2)}}), Shape::kNumberOrMap);
  ASSERT_TRUE(map.has_map());
  EXPECT_EQ(map.map().entries().at("a"), 1.0);
  EXPECT_EQ(map.map().entries().at("b"), 2.0);
  EXPECT_TRUE(translate(Value(Value::Object{}), Shape::kNumberOrMap).has_map());

  v1::Result list = translate(Value(Value::Array{recent("p2", 20), recent("p1", 10)}), Shape::kRecent);
  ASSERT_TRUE(list.has_recent());
  ASSERT_EQ(list.recent().items_size(), 2);
  EXPECT_EQ(list.recent().items(0).value(), "p2");
  EXPECT_EQ(list.recent().items(0).ts(), 20);

  v1::Result ranked = translate(
      Value(Value::Array{Value(Value::Object{{"key", Value("x")}, {"value", Value(4.0)}})}),
      Shape::kRanked);
  ASSERT_TRUE(ranked.has_ranked());
  EXPECT_EQ(ranked.ranked().items(0).key(), "x");
  EXPECT_EQ(ranked.ranked().items(0).value(), 4.0);

  v1::Result vector = translate(Value(Value::Array{Value(0.5), Value(-1.0)}), Shape::kVector);
  ASSERT_TRUE(vector.has_vector());
  EXPECT_EQ(vector.vector().values_size(), 2);
}

TEST(Results, EmptyListsTakeTheExpectedShape) {
  EXPECT_TRUE(translate(Value(Value::Array{}), Shape::kRecent).has_recent());
  EXPECT_TRUE(translate(Value(Value::Array{}), Shape::kRanked).has_ranked());
  EXPECT_TRUE(translate(Value(Value::Array{}), Shape::kVector).has_vector());
  // Unknown (custom) and empty: no way to tell, so JSON text.
  EXPECT_EQ(translate(Value(Value::Array{}), Shape::kAuto).json(), "[]");
}

TEST(Results, CustomShapesAreGuessedOrSentAsJson) {
  EXPECT_TRUE(translate(Value(Value::Array{recent("a", 1)}), Shape::kAuto).has_recent());
  EXPECT_TRUE(translate(Value(Value::Array{Value(1.0)}), Shape::kAuto).has_vector());
  Value odd(Value::Object{{"ratio", Value(0.5)}, {"label", Value("hot")}});
  EXPECT_EQ(translate(odd, Shape::kAuto).json(), R"({"ratio":0.5,"label":"hot"})");
  EXPECT_EQ(translate(Value("text"), Shape::kAuto).json(), R"("text")");
  // A list that is not what the config promises is still carried, as JSON.
  EXPECT_EQ(translate(Value(Value::Array{Value("s")}), Shape::kRecent).json(), R"(["s"])");
}

TEST(Results, WindowedSignalsAndViewsFromTheConfig) {
  Config config;
  config.signals.push_back(SignalConfig{"counts", "count", "pin.categories", "", std::nullopt,
                                        {WindowConfig{"1d", kDayMs}}, {}, {}});
  config.signals.push_back(SignalConfig{"by_cat", "decayed_count", "pin.categories", "",
                                        std::nullopt, {}, {}, {}});
  config.signals.push_back(SignalConfig{"recent", "last_k", "", "item_id", std::nullopt, {}, {}, {}});
  config.views.push_back(ViewConfig{"top", "counts", "1d", "top_k", {}, {}});
  ResultTranslator translator(config);
  Value answer(Value::Object{
      {"user_id", Value(std::uint64_t{18446744073709551615ull})},
      {"as_of", Value(std::int64_t{1700000000000})},
      {"signals", Value(Value::Object{
                      {"counts", Value(Value::Object{{"1d", Value(Value::Object{})}})},
                      {"by_cat", Value(Value::Object{{"art", Value(1.5)}})},
                      {"recent", Value(Value::Array{})},
                      {"top", Value(Value::Array{})}})}});
  v1::UserSignals out;
  translator.user_signals(18446744073709551615ull, answer, &out);
  EXPECT_EQ(out.user_id(), 18446744073709551615ull);
  EXPECT_EQ(out.as_of(), 1700000000000);
  ASSERT_EQ(out.signals_size(), 4);
  ASSERT_TRUE(out.signals(0).has_windowed());
  EXPECT_EQ(out.signals(0).windowed().windows(0).window(), "1d");
  EXPECT_TRUE(out.signals(0).windowed().windows(0).result().has_map());
  // A grouped signal without windows is one map, not windows named "art".
  ASSERT_TRUE(out.signals(1).has_result());
  EXPECT_EQ(out.signals(1).result().map().entries().at("art"), 1.5);
  EXPECT_TRUE(out.signals(2).result().has_recent());
  EXPECT_TRUE(out.signals(3).result().has_ranked());
}

}  // namespace
}  // namespace signalbox
