#include "signalbox/common/value.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

#include <fmt/compile.h>
#include <fmt/format.h>

namespace signalbox {

double Value::number() const {
  if (auto* d = std::get_if<double>(&data_)) return *d;
  if (auto* i = std::get_if<std::int64_t>(&data_)) return static_cast<double>(*i);
  if (auto* u = std::get_if<std::uint64_t>(&data_)) return static_cast<double>(*u);
  return 0;
}

const Value* Value::find(std::string_view key) const {
  auto* obj = std::get_if<Object>(&data_);
  if (!obj) return nullptr;
  for (const auto& [k, v] : *obj)
    if (k == key) return &v;
  return nullptr;
}

std::string Value::to_json() const {
  std::string out;
  // Most answers are a few hundred bytes to a few KiB: start past the first doublings.
  out.reserve(512);
  append_json(out);
  return out;
}

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not valid.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  std::size_t n;
  std::uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0)
    n = 2, cp = c & 0x1f;
  else if ((c & 0xf0) == 0xe0)
    n = 3, cp = c & 0x0f;
  else if ((c & 0xf8) == 0xf0)
    n = 4, cp = c & 0x07;
  else
    return 0;
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

// Whether byte `c` stands for itself inside a JSON string: printable ASCII other than the
// quote and the backslash.
constexpr bool plain_json_byte(unsigned char c) {
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

// plain_json_byte() of every byte: one load and test a byte where the answer's keys and
// strings are copied.
constexpr std::array<bool, 256> kPlainJsonByte = [] {
  std::array<bool, 256> table{};
  for (unsigned c = 0; c < 256; ++c) table[c] = plain_json_byte(static_cast<unsigned char>(c));
  return table;
}();

// Whether `d` is a whole number that fmt's shortest form writes in plain digits, with no
// exponent: below 1e15 in magnitude and not -0 (written "-0").
bool is_small_integer(double d) {
  return d > -1e15 && d < 1e15 && d == std::trunc(d) && !(d == 0 && std::signbit(d));
}

// How many leading bytes of `s` need no escaping.
std::size_t plain_prefix(std::string_view s) {
  std::size_t n = 0;
  while (n < s.size() && kPlainJsonByte[static_cast<unsigned char>(s[n])]) ++n;
  return n;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  std::size_t i = plain_prefix(s);
  if (i == s.size()) {
    // Needs no escaping (the common case: names, groups, ids): grown once for the quotes
    // and the bytes, where appending piece by piece would cost a call each.
    const std::size_t at = out.size();
    out.resize(at + s.size() + 2);
    char* p = out.data() + at;
    *p = '"';
    std::memcpy(p + 1, s.data(), s.size());
    p[s.size() + 1] = '"';
    return;
  }
  out.push_back('"');
  out.append(s.data(), i);
  while (i < s.size()) {
    // Runs of bytes that need no escaping (nearly all of them) are copied whole.
    if (std::size_t plain = plain_prefix(s.substr(i))) {
      out.append(s.data() + i, plain);
      i += plain;
      if (i == s.size()) break;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        ++i;
        continue;
      case '\\':
        out += "\\\\";
        ++i;
        continue;
      case '\n':
        out += "\\n";
        ++i;
        continue;
      case '\r':
        out += "\\r";
        ++i;
        continue;
      case '\t':
        out += "\\t";
        ++i;
        continue;
      default:
        break;
    }
    if (c < 0x20) {
      out += fmt::format("\\u{:04x}", c);
      ++i;
      continue;
    }
    std::size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      out += "\xef\xbf\xbd";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  out.push_back('"');
}

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

// Writes into a string through a raw pointer, growing it in large steps: an answer is
// thousands of small pieces, and std::string's append checks, sets the length and terminates
// the string at each. What it wrote is the string's once the writer is gone.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out)
      : out_(out), pos_(out.data() + out.size()), end_(out.data() + out.size()) {}
  ~JsonWriter() { out_.resize(static_cast<std::size_t>(pos_ - out_.data())); }
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  // Room for `n` more bytes at the end: write them, then advance_to() past them.
  char* room(std::size_t n) {
    if (static_cast<std::size_t>(end_ - pos_) < n) [[unlikely]]
      grow(n);
    return pos_;
  }
  void advance_to(char* end) { pos_ = end; }
  void put(char c) {
    char* p = room(1);
    *p = c;
    pos_ = p + 1;
  }
  void put(std::string_view s) {
    char* p = room(s.size());
    std::memcpy(p, s.data(), s.size());
    pos_ = p + s.size();
  }
  // `before` (unless '\0'), `s` as a JSON string, then `after` (unless '\0').
  void quoted(char before, std::string_view s, char after) {
    // Each byte is tested and copied in one pass (the keys and strings of an answer are
    // short: a call of memcpy costs more than their bytes); what was written counts only once
    // advance_to() is called, so a byte that needs escaping starts over on the escaping path.
    char* p = room(s.size() + 4);
    if (before) *p++ = before;
    *p++ = '"';
    for (char c : s) {
      if (!kPlainJsonByte[static_cast<unsigned char>(c)]) [[unlikely]]
        return quoted_with_escapes(before, s, after);
      *p++ = c;
    }
    *p++ = '"';
    if (after) *p++ = after;
    advance_to(p);
  }
  [[gnu::noinline]] void quoted_with_escapes(char before, std::string_view s, char after) {
    if (before) put(before);
    std::string escaped;
    append_json_string(escaped, s);
    put(escaped);
    if (after) put(after);
  }
  void integer(std::uint64_t u) { advance_to(write_decimal(room(24), u)); }
  void integer(std::int64_t i) {
    char* p = room(24);
    if (i >= 0) return advance_to(write_decimal(p, static_cast<std::uint64_t>(i)));
    *p = '-';
    // Negated as unsigned: -INT64_MIN does not fit an int64.
    advance_to(write_decimal(p + 1, std::uint64_t{0} - static_cast<std::uint64_t>(i)));
  }
  void number(double d) {
    if (!std::isfinite(d)) return put(std::string_view("null", 4));
    // Most numbers of an answer are counts: written as the integer they are, the same text as
    // the shortest form below gives, without its digit search.
    if (is_small_integer(d)) return integer(static_cast<std::int64_t>(d));
    // fmt's shortest round-trip form (a double prints in at most 24 characters, e.g.
    // -2.2250738585072014e-308).
    char* p = room(32);
    if (d == 0) return advance_to(fmt::format_to(p, FMT_COMPILE("{}"), d));  // -0
    advance_to(write_shortest(p, d));
  }

 private:
  [[gnu::noinline]] void grow(std::size_t n) {
    const std::size_t used = static_cast<std::size_t>(pos_ - out_.data());
    out_.resize(std::max({out_.capacity(), out_.size() * 2, used + n + 256}));
    pos_ = out_.data() + used;
    end_ = out_.data() + out_.size();
  }

  // out_'s bytes up to pos_ are written, those from pos_ to end_ are room. Kept as pointers:
  // the string's own size and data, reached through the reference, would be loaded again
  // after every byte written (a char store may alias them).
  std::string& out_;
  char* pos_;
  char* end_;
};

}  // namespace

void Value::append_json(std::string& out) const {
  // A local class: it may read data_ as this member function may.
  struct Render {
    static void value(const Value& v, JsonWriter& out) {
      switch (v.data_.index()) {
        case 0:
          return out.put(std::string_view("null", 4));
        case 1:
          return out.put(std::get<bool>(v.data_) ? std::string_view("true", 4)
                                                 : std::string_view("false", 5));
        case 2:
          return out.number(*std::get_if<double>(&v.data_));
        case 3:
          return out.integer(*std::get_if<std::int64_t>(&v.data_));
        case 4:
          return out.integer(*std::get_if<std::uint64_t>(&v.data_));
        case 5:
          return out.quoted(0, *std::get_if<std::string>(&v.data_), 0);
        case 6: {
          const Array& a = *std::get_if<Array>(&v.data_);
          out.put('[');
          for (std::size_t i = 0; i < a.size(); ++i) {
            if (i) out.put(',');
            value(a[i], out);
          }
          return out.put(']');
        }
        default: {
          const Object& o = *std::get_if<Object>(&v.data_);
          out.put('{');
          for (std::size_t i = 0; i < o.size(); ++i) {
            out.quoted(i ? ',' : 0, o[i].first, ':');
            value(o[i].second, out);
          }
          return out.put('}');
        }
      }
    }
  };
  JsonWriter writer(out);
  Render::value(*this, writer);
}

}  // namespace signalbox
