// compare_values and SignalTally: what counts as the same value, how far off numbers are, and
// the error distribution a verify report prints.

#include <gtest/gtest.h>

#include "signalbox/verify/signal_tally.h"
#include "signalbox/verify/value_difference.h"

namespace signalbox {
namespace {

Value map(std::initializer_list<std::pair<const char*, Value>> fields) {
  Value::Object o;
  for (const auto& [key, value] : fields) o.emplace_back(key, value);
  return Value(std::move(o));
}

TEST(CompareValues, NumbersOfEveryKindAreEqualByValue) {
  EXPECT_TRUE(compare_values(Value(3), Value(3.0)).exact);
  EXPECT_TRUE(compare_values(Value(std::uint64_t{7}), Value(std::int64_t{7})).exact);
  EXPECT_FALSE(compare_values(Value(3), Value(3.5)).exact);
}

TEST(CompareValues, ObjectsAreEqualWhateverTheOrderOfTheirKeys) {
  EXPECT_TRUE(compare_values(map({{"a", Value(1)}, {"b", Value(2)}}),
                             map({{"b", Value(2)}, {"a", Value(1)}}))
                  .exact);
}

TEST(CompareValues, ANumberMissingFromAMapStandsAgainstZero) {
  ValueDifference d =
      compare_values(map({{"a", Value(1)}, {"b", Value(4)}}), map({{"a", Value(1)}}));
  EXPECT_FALSE(d.exact);
  EXPECT_TRUE(d.numeric());
  EXPECT_DOUBLE_EQ(d.max_abs_error, 4);
  EXPECT_DOUBLE_EQ(d.max_rel_error, 1);
  EXPECT_TRUE(compare_values(map({{"a", Value(0)}}), map({})).exact);
}

TEST(CompareValues, NumericErrorsAreTheLargestOverAllNumbers) {
  // 10 vs 11: abs 1, rel 1/11; 100 vs 90: abs 10, rel 0.1.
  ValueDifference d = compare_values(Value(Value::Array{Value(10), Value(100)}),
                                     Value(Value::Array{Value(11), Value(90)}));
  EXPECT_TRUE(d.numeric());
  EXPECT_DOUBLE_EQ(d.max_abs_error, 10);
  EXPECT_DOUBLE_EQ(d.max_rel_error, 0.1);
}

TEST(CompareValues, DifferencesOtherThanNumbersAreStructural) {
  EXPECT_TRUE(compare_values(Value("p1"), Value("p2")).structural);
  EXPECT_TRUE(compare_values(Value(Value::Array{Value(1)}), Value(Value::Array{Value(1), Value(2)}))
                  .structural);
  EXPECT_TRUE(compare_values(Value(), Value(Value::Array{Value(0.5)})).structural);
  EXPECT_TRUE(compare_values(map({{"a", Value("x")}}), map({})).structural);
  EXPECT_TRUE(compare_values(Value(1), Value("1")).structural);
  // A list entry that differs in its text and its number: structural wins.
  ValueDifference d =
      compare_values(Value(Value::Array{map({{"value", Value("p1")}, {"ts", Value(5)}})}),
                     Value(Value::Array{map({{"value", Value("p2")}, {"ts", Value(6)}})}));
  EXPECT_TRUE(d.structural);
  EXPECT_FALSE(d.numeric());
}

TEST(CompareValues, NullsAndEqualTextsAreExact) {
  EXPECT_TRUE(compare_values(Value(), Value()).exact);
  EXPECT_TRUE(compare_values(Value("p1"), Value("p1")).exact);
}

TEST(SignalTally, CountsExactAndMismatchedValuesAndKeepsTheFirstMismatch) {
  SignalTally tally("saves", "7d", 0.0);
  tally.add(1, 100, Value(3), Value(3));
  tally.add(2, 200, Value(4), Value(3));
  tally.add(3, 300, Value("x"), Value("y"));
  tally.add(4, 400, Value(10), Value(8));
  EXPECT_EQ(tally.compared(), 4u);
  EXPECT_EQ(tally.exact(), 1u);
  EXPECT_DOUBLE_EQ(tally.exact_rate(), 0.25);
  EXPECT_EQ(tally.numeric_mismatches(), 2u);
  EXPECT_EQ(tally.other_mismatches(), 1u);
  EXPECT_DOUBLE_EQ(*tally.max_abs_error(), 2);
  ASSERT_TRUE(tally.first_mismatch());
  EXPECT_EQ(tally.first_mismatch()->user_id, 2u);
  EXPECT_EQ(tally.first_mismatch()->as_of, 200);
  EXPECT_EQ(tally.first_mismatch()->served, Value(4));
}

TEST(SignalTally, RelativeErrorQuantilesAreByNearestRank) {
  SignalTally tally("s", "", 0.0);
  // Relative errors 0.01, 0.02, ..., 1.00 (x vs 100 with x = 99 .. 0).
  for (int i = 1; i <= 100; ++i)
    tally.add(static_cast<std::uint64_t>(i), 0, Value(100 - i), Value(100));
  EXPECT_DOUBLE_EQ(*tally.relative_error_quantile(0.5), 0.50);
  EXPECT_DOUBLE_EQ(*tally.relative_error_quantile(0.99), 0.99);
  EXPECT_DOUBLE_EQ(*tally.relative_error_quantile(1.0), 1.00);
}

TEST(SignalTally, NumbersWithinTheToleranceMatchWithoutBeingExact) {
  SignalTally tally("affinity", "", 1e-9);
  tally.add(1, 0, Value(1.0 + 1e-15), Value(1.0));
  tally.add(2, 0, Value(1.0 + 1e-6), Value(1.0));
  tally.add(3, 0, Value(2.0), Value(2.0));
  EXPECT_EQ(tally.exact(), 1u);
  EXPECT_EQ(tally.within_tolerance(), 1u);
  EXPECT_EQ(tally.numeric_mismatches(), 1u);
  EXPECT_DOUBLE_EQ(tally.match_rate(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(tally.exact_rate(), 1.0 / 3.0);
  // The errors cover both values that differ; the example is the one that does not match.
  EXPECT_NEAR(*tally.max_abs_error(), 1e-6, 1e-12);
  EXPECT_LT(*tally.relative_error_quantile(0.5), 1e-14);
  EXPECT_EQ(tally.first_mismatch()->user_id, 2u);
}

TEST(SignalTally, WithoutNumericMismatchesThereIsNoErrorDistribution) {
  SignalTally tally("s", "", 0.0);
  tally.add(1, 0, Value(1), Value(1));
  EXPECT_FALSE(tally.max_abs_error());
  EXPECT_FALSE(tally.relative_error_quantile(0.5));
  EXPECT_DOUBLE_EQ(tally.exact_rate(), 1.0);
}

}  // namespace
}  // namespace signalbox
