#include "signalbox/common/json_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/compile.h>
#include <fmt/format.h>

#include "signalbox/common/value.h"

namespace signalbox {

namespace {

// "00" to "99": two digits a step.
constexpr std::array<char, 200> kDigitPairs = [] {
  std::array<char, 200> pairs{};
  for (int i = 0; i < 100; ++i) {
    pairs[static_cast<std::size_t>(2 * i)] = static_cast<char>('0' + i / 10);
    pairs[static_cast<std::size_t>(2 * i + 1)] = static_cast<char>('0' + i % 10);
  }
  return pairs;
}();

// `v` (below 10^8) as exactly eight digits, leading zeros kept.
void write_eight_digits(char* p, std::uint32_t v) {
  const std::uint32_t high = v / 10000, low = v % 10000;
  std::memcpy(p, &kDigitPairs[2 * (high / 100)], 2);
  std::memcpy(p + 2, &kDigitPairs[2 * (high % 100)], 2);
  std::memcpy(p + 4, &kDigitPairs[2 * (low / 100)], 2);
  std::memcpy(p + 6, &kDigitPairs[2 * (low % 100)], 2);
}

}  // namespace

// The decimal digits of `v` at `p` (room for 20), returning the end. In groups of eight:
// std::to_chars and fmt's own writer spend some 130-220 instructions on the 13-digit times
// and 17-digit significands an answer is full of, this about a third of that.
char* write_decimal(char* p, std::uint64_t v) {
  constexpr std::uint64_t kEight = 100'000'000;
  if (v < kEight) return std::to_chars(p, p + 8, static_cast<std::uint32_t>(v)).ptr;
  const std::uint64_t high = v / kEight;
  if (high < kEight) {
    p = std::to_chars(p, p + 8, static_cast<std::uint32_t>(high)).ptr;
  } else {
    p = std::to_chars(p, p + 4, static_cast<std::uint32_t>(high / kEight)).ptr;
    write_eight_digits(p, static_cast<std::uint32_t>(high % kEight));
    p += 8;
  }
  write_eight_digits(p, static_cast<std::uint32_t>(v % kEight));
  return p + 8;
}

// A finite, nonzero `d` at `p` as fmt::format("{}", d) writes it, returning the end: the
// shortest digits that read back as `d`, in fixed notation when the first digit's decimal
// exponent is in [-4, 16), else as d[.ddd]e±XX. The digits are fmt's own: its Dragonbox, the
// function fmt::format calls (fmt::detail, so tied to the fmt this is built with; the tests
// compare every layout with fmt::format). Only the layout is written here: fmt's general
// writer, with its grouping, locale and padding steps, cost more than the digits, some
// 250 instructions a number in answers that hold dozens (docs/performance.md).
char* write_shortest(char* p, double d) {
  const auto decimal = fmt::detail::dragonbox::to_decimal(d);
  if (std::signbit(d)) *p++ = '-';
  char digits[24];
  const int count = static_cast<int>(write_decimal(digits, decimal.significand) - digits);
  const int first_exponent = decimal.exponent + count - 1;  // of the first digit
  auto copy = [&p](const char* from, int n) {
    std::memcpy(p, from, static_cast<std::size_t>(n));
    p += n;
  };
  if (first_exponent < -4 || first_exponent >= 16) {
    *p++ = digits[0];
    if (count > 1) {
      *p++ = '.';
      copy(digits + 1, count - 1);
    }
    *p++ = 'e';
    int e = first_exponent;
    *p++ = e < 0 ? '-' : '+';
    if (e < 0) e = -e;
    if (e >= 100) {
      *p++ = static_cast<char>('0' + e / 100);
      e %= 100;
    }
    *p++ = static_cast<char>('0' + e / 10);
    *p++ = static_cast<char>('0' + e % 10);
  } else if (decimal.exponent >= 0) {  // a whole number: its digits, then zeros
    copy(digits, count);
    std::memset(p, '0', static_cast<std::size_t>(decimal.exponent));
    p += decimal.exponent;
  } else if (first_exponent >= 0) {  // the point among the digits
    copy(digits, first_exponent + 1);
    *p++ = '.';
    copy(digits + first_exponent + 1, count - first_exponent - 1);
  } else {  // 0.000ddd
    *p++ = '0';
    *p++ = '.';
    std::memset(p, '0', static_cast<std::size_t>(-first_exponent - 1));
    p += -first_exponent - 1;
    copy(digits, count);
  }
  return p;
}

void JsonWriter::fraction(double d) {
  if (!std::isfinite(d)) return null();
  // fmt's shortest round-trip form (a double prints in at most 24 characters, e.g.
  // -2.2250738585072014e-308).
  char* p = room(32);
  if (d == 0) return advance_to(fmt::format_to(p, FMT_COMPILE("{}"), d));  // -0
  advance_to(write_shortest(p, d));
}

void JsonWriter::grow(std::size_t n) {
  const std::size_t used = static_cast<std::size_t>(pos_ - out_.data());
  out_.resize(std::max({out_.capacity(), out_.size() * 2, used + n + 256}));
  pos_ = out_.data() + used;
  end_ = out_.data() + out_.size();
}

void JsonWriter::quoted_with_escapes(char before, std::string_view s, char after) {
  if (before) put(before);
  std::string escaped;
  append_json_string(escaped, s);
  put(escaped);
  if (after) put(after);
}

}  // namespace signalbox
