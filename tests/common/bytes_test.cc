// ByteWriter and ByteReader: the encodings of stored events, tile states and keys, checked
// against encodings written out here by hand, and the reads of truncated and overlong input.

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "signalbox/common/bytes.h"
#include "signalbox/common/error.h"

namespace signalbox {
namespace {

// LEB128: seven bits at a time, least significant first, the high bit set on all but the last.
std::string leb128(std::uint64_t v) {
  std::string out;
  do {
    std::uint8_t b = v & 0x7f;
    v >>= 7;
    if (v != 0) b |= 0x80;
    out.push_back(static_cast<char>(b));
  } while (v != 0);
  return out;
}

// Most significant byte first.
std::string big_endian(std::uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[static_cast<std::size_t>(i)] = static_cast<char>(v);
  return out;
}

std::vector<std::uint64_t> values_of_every_varint_length() {
  std::vector<std::uint64_t> values = {0, 1, std::numeric_limits<std::uint64_t>::max()};
  for (int bits = 7; bits < 64; bits += 7) {
    values.push_back((std::uint64_t{1} << bits) - 1);  // the longest of one length
    values.push_back(std::uint64_t{1} << bits);        // the shortest of the next
  }
  values.push_back(std::uint64_t{1} << 63);
  return values;
}

TEST(Bytes, VarintsOfEveryLengthAreLeb128AndReadBackWhateverFollowsThem) {
  for (std::uint64_t v : values_of_every_varint_length()) {
    std::string written;
    ByteWriter(written).varint(v);
    ASSERT_EQ(written, leb128(v)) << v;
    // Followed by nothing up to more than the longest varint: read near a record's end and
    // far from it.
    for (std::size_t padding = 0; padding <= 12; ++padding) {
      std::string record = leb128(v) + std::string(padding, '\xff');
      ByteReader in(record);
      EXPECT_EQ(in.varint(), v) << v << " with " << padding << " bytes after";
      EXPECT_EQ(in.remaining(), padding) << v;
    }
  }
}

TEST(Bytes, SignedVarintsRoundTrip) {
  for (std::int64_t v :
       {std::int64_t{0}, std::int64_t{-1}, std::int64_t{1}, std::int64_t{-64}, std::int64_t{64},
        std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()}) {
    std::string written;
    ByteWriter(written).svarint(v);
    ByteReader in(written);
    EXPECT_EQ(in.svarint(), v);
    EXPECT_TRUE(in.done());
  }
}

TEST(Bytes, Fixed64IsBigEndianAndSortsAsTheNumbers) {
  std::mt19937_64 rng(7);
  std::vector<std::uint64_t> values = values_of_every_varint_length();
  for (int i = 0; i < 200; ++i) values.push_back(rng());
  for (std::uint64_t v : values) {
    std::string written;
    ByteWriter(written).fixed64_be(v);
    ASSERT_EQ(written, big_endian(v)) << v;
    std::string record = written + "x";
    ByteReader in(record);
    EXPECT_EQ(in.fixed64_be(), v);
    EXPECT_EQ(in.remaining(), 1u);
  }
  for (std::size_t i = 1; i < values.size(); ++i) {
    std::string a, b;
    ByteWriter(a).fixed64_be(values[i - 1]);
    ByteWriter(b).fixed64_be(values[i]);
    EXPECT_EQ(a < b, values[i - 1] < values[i]) << values[i - 1] << " " << values[i];
  }
  for (std::int64_t t : {std::int64_t{-5}, std::int64_t{0}, std::int64_t{1767225596927}}) {
    std::string written;
    ByteWriter(written).time_be(t);
    EXPECT_EQ(ByteReader(written).time_be(), t);
  }
}

TEST(Bytes, OverlongAndTruncatedInputIsCorruption) {
  // Eleven bytes that each say another follows: longer than any 64-bit varint, far from the
  // record's end and at it.
  for (std::size_t padding : {0u, 20u}) {
    std::string record = std::string(11, '\x80') + std::string(padding, '\0');
    ByteReader in(record);
    EXPECT_THROW(in.varint(), CorruptionError) << padding;
  }
  // A varint cut off by the record's end.
  const std::string cut = leb128(std::uint64_t{1} << 40).substr(0, 3);
  EXPECT_THROW(ByteReader(cut).varint(), CorruptionError);
  EXPECT_THROW(ByteReader(std::string_view()).varint(), CorruptionError);
  // Seven bytes of an eight-byte number.
  const std::string seven = big_endian(42).substr(0, 7);
  EXPECT_THROW(ByteReader(seven).fixed64_be(), CorruptionError);
  // A string longer than what is left.
  std::string text;
  ByteWriter(text).str("hello");
  text.pop_back();
  EXPECT_THROW(ByteReader(text).str(), CorruptionError);
}

}  // namespace
}  // namespace signalbox
