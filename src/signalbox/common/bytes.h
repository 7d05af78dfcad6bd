#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "signalbox/common/error.h"

namespace signalbox {

// Appends a compact binary encoding to a string: LEB128 varints, zigzag signed varints,
// big-endian fixed64 (so encoded keys sort like the numbers), raw doubles and floats, and
// length-prefixed strings. Used for stored events, tile states and keys.
class ByteWriter {
 public:
  explicit ByteWriter(std::string& out) : out_(out) {}

  void varint(std::uint64_t v) {
    // Built on the stack and appended once: a push_back per byte checks the capacity and
    // terminates the string each time.
    char bytes[10];
    std::size_t n = 0;
    while (v >= 0x80) {
      bytes[n++] = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    bytes[n++] = static_cast<char>(v);
    out_.append(bytes, n);
  }
  void svarint(std::int64_t v) {
    varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
  }
  void fixed64_be(std::uint64_t v) {
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  // Signed times sort correctly once the sign bit is flipped.
  void time_be(std::int64_t t) { fixed64_be(static_cast<std::uint64_t>(t) ^ (1ULL << 63)); }
  void f64(double v) { out_.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void f32(float v) { out_.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void byte(std::uint8_t b) { out_.push_back(static_cast<char>(b)); }
  void str(std::string_view s) {
    varint(s.size());
    out_.append(s);
  }
  void raw(std::string_view s) { out_.append(s); }

 private:
  std::string& out_;
};

// Reads what ByteWriter wrote. Every read is bounds-checked: running past the end or an
// overlong varint throws CorruptionError, so untrusted bytes never read out of bounds.
class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}

  bool done() const { return pos_ == in_.size(); }
  std::size_t remaining() const { return in_.size() - pos_; }

  std::uint64_t varint() {
    // Most varints are one byte (string lengths, small counts): that case is inline.
    if (pos_ < in_.size()) [[likely]] {
      const auto b = static_cast<std::uint8_t>(in_[pos_]);
      if (b < 0x80) {
        ++pos_;
        return b;
      }
    }
    return longer_varint();
  }
  std::int64_t svarint() {
    std::uint64_t u = varint();
    return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
  }
  std::uint64_t fixed64_be() {
    need(8);
    std::uint64_t v;
    std::memcpy(&v, in_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
    return v;
  }
  std::int64_t time_be() { return static_cast<std::int64_t>(fixed64_be() ^ (1ULL << 63)); }
  double f64() {
    need(sizeof(double));
    double v;
    std::memcpy(&v, in_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
  }
  float f32() {
    need(sizeof(float));
    float v;
    std::memcpy(&v, in_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
  }
  std::uint8_t byte() {
    need(1);
    return static_cast<std::uint8_t>(in_[pos_++]);
  }
  std::string_view str() {
    std::uint64_t n = varint();
    if (n > remaining()) throw CorruptionError("string length past end of record");
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string_view rest() {
    std::string_view s = in_.substr(pos_);
    pos_ = in_.size();
    return s;
  }
  // A count about to drive an allocation: at least `min_bytes_each` bytes must follow per
  // element, which bounds what a corrupt count can make us reserve.
  std::uint64_t count(std::size_t min_bytes_each) {
    std::uint64_t n = varint();
    if (min_bytes_each > 0 && n > remaining() / min_bytes_each)
      throw CorruptionError("element count past end of record");
    return n;
  }

 private:
  // A varint of more than one byte, or none left. One bounds check for the longest (10
  // bytes) where that many remain; byte by byte, each checked, near the end.
  [[gnu::noinline]] std::uint64_t longer_varint() {
    if (remaining() >= 10) [[likely]] {
      const auto* p = reinterpret_cast<const std::uint8_t*>(in_.data() + pos_);
      std::uint64_t v = 0;
      for (int i = 0; i < 10; ++i) {
        v |= static_cast<std::uint64_t>(p[i] & 0x7f) << (7 * i);
        if ((p[i] & 0x80) == 0) {
          pos_ += static_cast<std::size_t>(i) + 1;
          return v;
        }
      }
      throw CorruptionError("overlong varint");
    }
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      std::uint8_t b = byte();
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    throw CorruptionError("overlong varint");
  }
  void need(std::size_t n) const {
    if (remaining() < n) throw CorruptionError("record truncated");
  }
  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace signalbox
