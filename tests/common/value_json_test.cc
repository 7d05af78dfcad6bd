// Value::to_json() and append_json_string(): numbers in fmt's shortest round-trip form,
// strings escaped (control characters, quote, backslash) with invalid UTF-8 replaced, and
// containers in order. The number cases compare against fmt::format("{}") directly, the form
// the API has always printed.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include <fmt/format.h>

#include "signalbox/common/value.h"

namespace signalbox {
namespace {

TEST(ValueJson, DoublesPrintAsFmtShortestForm) {
  for (double d : {0.0, -0.0, 3.0, 0.1, 1e21, 1e15, 1e16, 1e-5, 1e-4, 123456.789, -2.5,
                   std::numeric_limits<double>::min(), std::numeric_limits<double>::max(),
                   std::numeric_limits<double>::denorm_min(), -2.2250738585072014e-308})
    EXPECT_EQ(Value(d).to_json(), fmt::format("{}", d)) << d;
  std::mt19937_64 random(7);
  std::uniform_real_distribution<double> mantissa(-10, 10);
  std::uniform_int_distribution<int> exponent(-320, 300);
  for (int i = 0; i < 20000; ++i) {
    double d = std::ldexp(mantissa(random), exponent(random) / 3) *
               std::pow(10.0, static_cast<double>(exponent(random) % 20));
    if (!std::isfinite(d)) continue;
    ASSERT_EQ(Value(d).to_json(), fmt::format("{}", d)) << d;
  }
  EXPECT_EQ(Value(std::numeric_limits<double>::infinity()).to_json(), "null");
  EXPECT_EQ(Value(std::nan("")).to_json(), "null");
}

// Doubles of every bit pattern, and those next to each power of ten, where the form switches
// between fixed and exponent notation and the digit count changes.
TEST(ValueJson, DoublesOfEveryExponentPrintAsFmtShortestForm) {
  std::mt19937_64 random(13);
  for (int i = 0; i < 300000; ++i) {
    double d;
    const std::uint64_t bits = random();
    std::memcpy(&d, &bits, sizeof d);
    if (!std::isfinite(d)) continue;
    ASSERT_EQ(Value(d).to_json(), fmt::format("{}", d)) << bits;
  }
  for (int k = -325; k <= 309; ++k) {
    const double power = std::pow(10.0, k);
    if (!std::isfinite(power)) continue;
    double near = power;
    for (int step = 0; step < 3; ++step) near = std::nextafter(near, 0.0);
    for (int step = 0; step < 7; ++step, near = std::nextafter(near, HUGE_VAL)) {
      for (double d : {near, -near, 1.5 * near, 0.999 * near, 123.456 * near}) {
        if (!std::isfinite(d)) continue;
        ASSERT_EQ(Value(d).to_json(), fmt::format("{}", d)) << k;
      }
    }
  }
}

// Whole numbers take a shorter path than other doubles; the text must not change, at the
// edges of that path either (-0, 1e15 and beyond print as fmt writes them).
TEST(ValueJson, WholeDoublesPrintAsFmtShortestForm) {
  for (double d : {0.0, -0.0, 1.0, -1.0, 999999999999999.0, -999999999999999.0, 1e15, -1e15,
                   1e15 + 1, 9007199254740992.0, 1e16, 0.5, -0.5, 999999999999999.5})
    EXPECT_EQ(Value(d).to_json(), fmt::format("{}", d)) << d;
  std::mt19937_64 random(11);
  for (int i = 0; i < 100000; ++i) {
    const double magnitude =
        std::ldexp(static_cast<double>(random() >> 11), -static_cast<int>(random() % 64));
    const double d = (random() & 1 ? 1 : -1) * std::trunc(magnitude);
    ASSERT_EQ(Value(d).to_json(), fmt::format("{}", d)) << d;
  }
}

TEST(ValueJson, IntegersPrintInFull) {
  for (std::int64_t i :
       {std::int64_t{0}, std::int64_t{-1}, std::int64_t{42},
        std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()})
    EXPECT_EQ(Value(i).to_json(), fmt::format("{}", i));
  EXPECT_EQ(Value(std::numeric_limits<std::uint64_t>::max()).to_json(), "18446744073709551615");
  EXPECT_EQ(Value(7).to_json(), "7");
  // Every length, and each side of every power of ten.
  std::uint64_t power = 1;
  for (int digits = 1; digits <= 20; ++digits, power *= 10) {
    for (std::uint64_t u : {power - 1, power, power + 1, power * 3 + 7}) {
      ASSERT_EQ(Value(u).to_json(), fmt::format("{}", u));
      const auto i = static_cast<std::int64_t>(u);
      ASSERT_EQ(Value(i).to_json(), fmt::format("{}", i));
      ASSERT_EQ(Value(-i).to_json(), fmt::format("{}", -i));
    }
  }
  std::mt19937_64 random(17);
  for (int n = 0; n < 100000; ++n) {
    const std::uint64_t u = random() >> (random() % 64);
    ASSERT_EQ(Value(u).to_json(), fmt::format("{}", u));
    ASSERT_EQ(Value(static_cast<std::int64_t>(u)).to_json(),
              fmt::format("{}", static_cast<std::int64_t>(u)));
  }
}

TEST(ValueJson, StringsAreEscapedAndInvalidUtf8Replaced) {
  EXPECT_EQ(Value("plain text").to_json(), R"("plain text")");
  EXPECT_EQ(Value("").to_json(), R"("")");
  EXPECT_EQ(Value("a\"b\\c\nd\re\tf").to_json(), R"("a\"b\\c\nd\re\tf")");
  EXPECT_EQ(Value(std::string("x\x01y\x1f", 4)).to_json(), R"("x\u0001y\u001f")");
  EXPECT_EQ(Value(std::string("\0", 1)).to_json(), R"("\u0000")");
  EXPECT_EQ(Value("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80").to_json(),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  // A lone continuation byte, a truncated sequence, an overlong form and a surrogate.
  EXPECT_EQ(Value(std::string("a\x80") + "b").to_json(), std::string("\"a\xef\xbf\xbd") + "b\"");
  EXPECT_EQ(Value("a\xc3").to_json(), "\"a\xef\xbf\xbd\"");
  EXPECT_EQ(Value("\xc0\xaf").to_json(), "\"\xef\xbf\xbd\xef\xbf\xbd\"");
  EXPECT_EQ(Value("\xed\xa0\x80").to_json(), "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
  std::string out = "prefix:";
  append_json_string(out, "q\"");
  EXPECT_EQ(out, R"(prefix:"q\"")");
}

// Every byte value, at every place of strings long and short (plain bytes are looked at eight
// at a time): a byte that needs escaping is escaped wherever it lies, as a key and as a value.
TEST(ValueJson, EveryByteIsEscapedWhereverItLies) {
  auto escaped = [](unsigned char c) -> std::string {
    switch (c) {
      case '"':
        return "\\\"";
      case '\\':
        return "\\\\";
      case '\n':
        return "\\n";
      case '\r':
        return "\\r";
      case '\t':
        return "\\t";
      default:
        break;
    }
    if (c < 0x20) return fmt::format("\\u{:04x}", c);
    if (c >= 0x80) return "\xef\xbf\xbd";  // a lone byte of a multi-byte sequence
    return std::string(1, static_cast<char>(c));
  };
  for (int c = 0; c < 256; ++c) {
    for (std::size_t length : {1, 7, 8, 9, 16, 23, 24, 40}) {
      for (std::size_t at = 0; at < length; ++at) {
        std::string s(length, 'a');
        s[at] = static_cast<char>(c);
        const std::string expected =
            "\"" + std::string(at, 'a') + escaped(c) + std::string(length - at - 1, 'a') + "\"";
        ASSERT_EQ(Value(s).to_json(), expected) << "byte " << c << " at " << at << " of " << length;
        ASSERT_EQ(Value(Value::Object{{s, Value(1)}}).to_json(), "{" + expected + ":1}")
            << "byte " << c << " at " << at << " of " << length << ", as a key";
      }
    }
  }
}

TEST(ValueJson, ContainersKeepTheirOrder) {
  Value v(Value::Object{{"b", Value(1)},
                        {"a", Value(Value::Array{Value(), Value(true), Value(false), Value(0.5)})},
                        {"k\"ey", Value(Value::Object{})}});
  EXPECT_EQ(v.to_json(), R"({"b":1,"a":[null,true,false,0.5],"k\"ey":{}})");
  std::string out = "[";
  v.append_json(out);
  EXPECT_EQ(out, R"([{"b":1,"a":[null,true,false,0.5],"k\"ey":{}})");
}

// A document far larger than the first room made for it, appended after text already there:
// every piece lands in order across the growths.
TEST(ValueJson, ALargeDocumentIsWrittenWholeAfterWhatTheStringHeld) {
  Value::Array items;
  std::string expected = "head[";
  for (int i = 0; i < 20000; ++i) {
    const std::string key = "k" + std::to_string(i);
    items.push_back(
        Value(Value::Object{{key, Value(i * 0.25)}, {"s", Value(std::string(i % 40, 'x'))}}));
    expected += fmt::format("{}{{\"{}\":{},\"s\":\"{}\"}}", i ? "," : "", key, i * 0.25,
                            std::string(i % 40, 'x'));
  }
  expected += "]";
  std::string out = "head";
  Value(std::move(items)).append_json(out);
  EXPECT_EQ(out.size(), expected.size());
  EXPECT_TRUE(out == expected);
}

}  // namespace
}  // namespace signalbox
