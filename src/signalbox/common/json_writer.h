#pragma once

// JsonWriter appends JSON text to a std::string through a raw pointer: an answer is thousands
// of small pieces, and std::string's append checks, sets the length and terminates the string
// at each. Hand-written rather than a JSON library's writer for that reason: the answers are
// the serving path's largest cost after the store (docs/performance.md).

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace signalbox {

// Whether byte `c` stands for itself inside a JSON string: printable ASCII other than the
// quote and the backslash.
constexpr bool plain_json_byte(unsigned char c) {
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

// plain_json_byte() of every byte: one load and test a byte where the answer's keys and
// strings are copied.
inline constexpr std::array<bool, 256> kPlainJsonByte = [] {
  std::array<bool, 256> table{};
  for (unsigned c = 0; c < 256; ++c) table[c] = plain_json_byte(static_cast<unsigned char>(c));
  return table;
}();

// The decimal digits of `v` at `p` (room for 20), returning the end.
char* write_decimal(char* p, std::uint64_t v);

// A finite, nonzero `d` at `p` as fmt::format("{}", d) writes it (at most 24 characters),
// returning the end.
char* write_shortest(char* p, double d);

// Writes into a string through a raw pointer, growing it in large steps. What it wrote is the
// string's once the writer is gone; the string is not to be touched while the writer lives.
// Its calls write tokens only: the caller places commas and colons (JsonResultWriter does).
// Not synchronised: one writer per string at a time.
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
  void quoted_with_escapes(char before, std::string_view s, char after);
  void integer(std::uint64_t u) { advance_to(write_decimal(room(24), u)); }
  void integer(std::int64_t i) {
    char* p = room(24);
    if (i >= 0) return advance_to(write_decimal(p, static_cast<std::uint64_t>(i)));
    *p = '-';
    // Negated as unsigned: -INT64_MIN does not fit an int64.
    advance_to(write_decimal(p + 1, std::uint64_t{0} - static_cast<std::uint64_t>(i)));
  }
  void null() { put(std::string_view("null", 4)); }
  void boolean(bool b) { put(b ? std::string_view("true", 4) : std::string_view("false", 5)); }
  // Shortest round-trip form (3, 0.1, 1e+21, as fmt::format("{}", d)); non-finite as null.
  void number(double d) {
    // Most numbers of an answer are counts: written as the integer they are, the same text
    // as the shortest form gives, without its digit search. Whole numbers below 1e15 in
    // magnitude are written in plain digits by that form too; -0 is not ("-0").
    if (d > -1e15 && d < 1e15 && d == static_cast<double>(static_cast<std::int64_t>(d)) &&
        !(d == 0 && std::signbit(d)))
      return integer(static_cast<std::int64_t>(d));
    fraction(d);
  }

 private:
  void grow(std::size_t n);
  // number() of a double that is not a small whole number.
  void fraction(double d);

  // out_'s bytes up to pos_ are written, those from pos_ to end_ are room. Kept as pointers:
  // the string's own size and data, reached through the reference, would be loaded again
  // after every byte written (a char store may alias them).
  std::string& out_;
  char* pos_;
  char* end_;
};

}  // namespace signalbox
