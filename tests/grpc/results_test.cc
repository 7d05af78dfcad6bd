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

  v1::Result map =
      translate(Value(Value::Object{{"a", Value(1.0)}, {"b", Value(2)}}), Shape::kNumberOrMap);
  ASSERT_TRUE(map.has_map());
  EXPECT_EQ(map.map().entries().at("a"), 1.0);
  EXPECT_EQ(map.map().entries().at("b"), 2.0);
  EXPECT_TRUE(translate(Value(Value::Object{}), Shape::kNumberOrMap).has_map());

  v1::Result list =
      translate(Value(Value::Array{recent("p2", 20), recent("p1", 10)}), Shape::kRecent);
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
  config.signals.push_back(SignalConfig{
      "counts", "count", "pin.categories", "", std::nullopt, {WindowConfig{"1d", kDayMs}}, {}, {}});
  config.signals.push_back(
      SignalConfig{"by_cat", "decayed_count", "pin.categories", "", std::nullopt, {}, {}, {}});
  config.signals.push_back(
      SignalConfig{"recent", "last_k", "", "item_id", std::nullopt, {}, {}, {}});
  config.views.push_back(ViewConfig{"top", "counts", "1d", "top_k", {}, {}});
  ResultTranslator translator(config);
  Value answer(Value::Object{
      {"user_id", Value(std::uint64_t{18446744073709551615ull})},
      {"as_of", Value(std::int64_t{1700000000000})},
      {"signals",
       Value(Value::Object{{"counts", Value(Value::Object{{"1d", Value(Value::Object{})}})},
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

TEST(Results, CompleteSinceAndIncompleteWindowsAreCarried) {
  Config config;
  config.signals.push_back(
      SignalConfig{"counts",
                   "count",
                   "",
                   "",
                   std::nullopt,
                   {WindowConfig{"1d", kDayMs}, WindowConfig{"30d", 30 * kDayMs}},
                   {},
                   {}});
  config.signals.push_back(
      SignalConfig{"recent", "last_k", "", "item_id", std::nullopt, {}, {}, {}});
  config.signals.push_back(SignalConfig{"old", "count", "", "", std::nullopt, {}, {}, {}});
  ResultTranslator translator(config);
  Value answer(Value::Object{
      {"user_id", Value(std::uint64_t{7})},
      {"as_of", Value(std::int64_t{1700000000000})},
      {"signals", Value(Value::Object{
                      {"counts", Value(Value::Object{{"1d", Value(2.0)}, {"30d", Value(5.0)}})},
                      {"recent", Value(Value::Array{})},
                      {"old", Value(3.0)}})},
      {"complete_since", Value(Value::Object{{"counts", Value(std::int64_t{1699000000000})},
                                             {"recent", Value(std::int64_t{1699000000000})}})},
      {"incomplete", Value(Value::Object{{"counts", Value(Value::Array{Value("30d")})},
                                         {"recent", Value(Value::Array{})}})}});
  v1::UserSignals out;
  translator.user_signals(7, answer, &out);
  ASSERT_EQ(out.signals_size(), 3);
  EXPECT_EQ(out.signals(0).complete_since(), 1699000000000);
  EXPECT_FALSE(out.signals(0).windowed().windows(0).incomplete());
  EXPECT_TRUE(out.signals(0).windowed().windows(1).incomplete());
  EXPECT_TRUE(out.signals(1).has_complete_since());
  EXPECT_TRUE(out.signals(1).incomplete());
  EXPECT_FALSE(out.signals(2).has_complete_since()) << "complete for all of history";
  EXPECT_FALSE(out.signals(2).incomplete());
}

TEST(Results, SequencesAreTypedFieldByField) {
  Config config;
  SignalConfig history{"history", "sequence", "", "", std::nullopt, {WindowConfig{"1d", kDayMs}},
                       {},        {}};
  ConfigParam fields;
  fields.scalar = false;
  fields.list = true;
  fields.items = {"ts", "item_id", "attrs.price", "pin.categories", "pin.embedding"};
  history.params["fields"] = fields;
  config.signals.push_back(history);
  ResultTranslator translator(config);
  Value newest(Value::Object{{"ts", Value(std::int64_t{1700000000123})},
                             {"item_id", Value("p9")},
                             {"attrs.price", Value(2.5)},
                             {"pin.categories", Value(Value::Array{Value("art"), Value("diy")})},
                             {"pin.embedding", Value(Value::Array{Value(0.25), Value(-1.5)})}});
  Value older(Value::Object{{"ts", Value(std::int64_t{1700000000000})},
                            {"item_id", Value()},
                            {"attrs.price", Value()},
                            {"pin.categories", Value(Value::Array{})},
                            {"pin.embedding", Value()}});
  Value answer(Value::Object{
      {"signals",
       Value(Value::Object{
           {"history", Value(Value::Object{{"1d", Value(Value::Array{newest, older})}})}})}});
  v1::UserSignals out;
  translator.user_signals(1, answer, &out);
  const v1::Result& result = out.signals(0).windowed().windows(0).result();
  ASSERT_TRUE(result.has_sequence()) << result.DebugString();
  const v1::SequenceList& list = result.sequence();
  ASSERT_EQ(list.fields_size(), 5);
  EXPECT_EQ(list.fields(3), "pin.categories");
  ASSERT_EQ(list.entries_size(), 2);
  const v1::SequenceEntry& first = list.entries(0);
  ASSERT_EQ(first.values_size(), 5);
  EXPECT_EQ(first.values(0).integer(), 1700000000123);
  EXPECT_EQ(first.values(1).text(), "p9");
  EXPECT_EQ(first.values(2).number(), 2.5);
  ASSERT_EQ(first.values(3).strings().values_size(), 2);
  EXPECT_EQ(first.values(3).strings().values(1), "diy");
  ASSERT_EQ(first.values(4).vector().values_size(), 2);
  EXPECT_EQ(first.values(4).vector().values(1), -1.5f);
  const v1::SequenceEntry& second = list.entries(1);
  EXPECT_EQ(second.values(1).kind_case(), v1::SequenceValue::KIND_NOT_SET);
  EXPECT_TRUE(second.values(3).has_strings());
  EXPECT_EQ(second.values(3).strings().values_size(), 0);
  EXPECT_EQ(second.values(4).kind_case(), v1::SequenceValue::KIND_NOT_SET);
  // An empty sequence is still a sequence, with its fields.
  v1::Result empty;
  ResultTranslator::result(Value(Value::Array{}), Shape::kSequence, &empty, {"ts"});
  ASSERT_TRUE(empty.has_sequence());
  EXPECT_EQ(empty.sequence().fields_size(), 1);
}

TEST(Results, QuantilesAndLabels) {
  v1::Result q =
      translate(Value(Value::Object{{"0.5", Value(3.0)}, {"0.9", Value(8.0)}}), Shape::kQuantiles);
  ASSERT_TRUE(q.has_map());
  EXPECT_EQ(q.map().entries().at("0.9"), 8.0);
  // No event: null quantiles are left out of the map.
  v1::Result none = translate(Value(Value::Object{{"0.5", Value()}}), Shape::kQuantiles);
  ASSERT_TRUE(none.has_map());
  EXPECT_EQ(none.map().entries_size(), 0);
  EXPECT_EQ(translate(Value("high"), Shape::kLabel).label(), "high");
  EXPECT_EQ(translate(Value(std::uint64_t{2}), Shape::kLabel).number(), 2);
  // Labels per group have no typed shape: JSON.
  EXPECT_EQ(translate(Value(Value::Object{{"art", Value("high")}}), Shape::kLabel).json(),
            R"({"art":"high"})");
}

}  // namespace
}  // namespace signalbox
