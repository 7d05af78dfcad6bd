// The fixture runner's pieces: value comparison with tolerances and its diff lines, and UTC
// times both ways.

#include "signalbox/fixture/fixture.h"

#include <gtest/gtest.h>

namespace signalbox {
namespace {

std::string differences(const Value& expected, const Value* actual, Tolerance tolerance = {}) {
  std::string out;
  compare_values(expected, actual, tolerance, "s", out);
  return out;
}

TEST(CompareValues, NumbersWithinTheToleranceAreEqual) {
  Value close(1.0 + 1e-12);
  EXPECT_EQ(differences(Value(1.0), &close), "");
  Value actual(100.5);
  EXPECT_EQ(differences(Value(100), &actual, {0, 0.01}), "");
  EXPECT_NE(differences(Value(100), &actual, {0, 0.001}), "");
  EXPECT_EQ(differences(Value(100), &actual, {0.5, 0}), "");
  Value integer(std::int64_t{3});
  EXPECT_EQ(differences(Value(3.0), &integer), "") << "3 and 3.0 are the same number";
}

TEST(CompareValues, ObjectsCompareByKeysInAnyOrder) {
  Value expected(Value::Object{{"b", Value(2)}, {"a", Value(1)}});
  Value same(Value::Object{{"a", Value(1)}, {"b", Value(2)}});
  EXPECT_EQ(differences(expected, &same), "");

  Value other(Value::Object{{"a", Value(1)}, {"c", Value(3)}});
  std::string d = differences(expected, &other);
  EXPECT_NE(d.find("s.b: expected 2, got nothing"), std::string::npos) << d;
  EXPECT_NE(d.find("s.c: not expected, got 3"), std::string::npos) << d;
}

TEST(CompareValues, ArraysCompareInOrderAndNameTheIndex) {
  Value expected(Value::Array{Value(1), Value("x")});
  Value swapped(Value::Array{Value("x"), Value(1)});
  std::string d = differences(expected, &swapped);
  EXPECT_NE(d.find("s[0]: expected 1, got \"x\""), std::string::npos) << d;
  Value longer(Value::Array{Value(1), Value("x"), Value()});
  EXPECT_NE(differences(expected, &longer).find("expected 2 elements, got 3"), std::string::npos);
}

TEST(CompareValues, NullStringsAndBooleansCompareExactly) {
  Value null_value;
  EXPECT_EQ(differences(Value(), &null_value), "");
  Value zero(0);
  EXPECT_NE(differences(Value(), &zero), "") << "null is not 0";
  Value yes(true);
  EXPECT_EQ(differences(Value(true), &yes), "");
  Value text("7");
  EXPECT_NE(differences(Value(7), &text), "") << "7 is not \"7\"";
}

TEST(UtcTime, ParsesAndFormatsBothWays) {
  EXPECT_EQ(parse_utc_time("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_utc_time("2026-03-01T11:30:00Z"), 1772364600000);
  EXPECT_EQ(parse_utc_time("2024-02-29T23:59:59.999Z"), 1709251199999);
  EXPECT_EQ(format_utc_time(1709251199999), "2024-02-29T23:59:59.999Z");
  EXPECT_EQ(format_utc_time(1772364600000), "2026-03-01T11:30:00.000Z");
  for (const char* bad : {"2026-03-01", "2026-03-01T11:30:00", "2026-13-01T00:00:00Z",
                          "2026-03-01T11:30:00+01:00", "2026-03-01 11:30:00Z", ""})
    EXPECT_FALSE(parse_utc_time(bad)) << bad;
}

}  // namespace
}  // namespace signalbox
