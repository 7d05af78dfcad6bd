#include <random>

#include <gtest/gtest.h>

#include "signalbox/common/bytes.h"
#include "signalbox/common/error.h"
#include "signalbox/event/event.h"

namespace signalbox {
namespace {

const FeatureNames kNames({"pin.categories", "pin.embedding", "pin.price", "query.categories"});

MaterializedEvent full_event() {
  MaterializedEvent m;
  m.event.user_id = 18446744073709551615ULL;
  m.event.ts = 1'700'000'000'123;
  m.event.action = "save";
  m.event.event_id = "evt-1";
  m.event.item_id = "pin:9";
  m.event.query = "";
  m.event.attrs = {{"color", std::string("red")}, {"price", 12.5}, {"n", -3.0}};
  m.features = {std::vector<std::string>{"shoes", "red", ""}, std::vector<float>{0.5f, -1.25f, 3},
                42.0, std::monostate{}};
  return m;
}

std::string encode(const MaterializedEvent& m, const FeatureNames& names = kNames) {
  std::string out;
  encode_event(m, names, out);
  return out;
}

// Decodes arbitrary bytes: it may succeed or throw CorruptionError, nothing else.
void expect_decodes_or_corruption(std::string_view bytes, const FeatureNames& names) {
  try {
    MaterializedEvent m = decode_event(bytes, names);
    EXPECT_EQ(m.features.size(), names.size());
  } catch (const CorruptionError&) {
  }
}

TEST(CodecTest, RoundTripsAFullEvent) {
  MaterializedEvent m = full_event();
  std::string bytes = encode(m);
  EXPECT_EQ(bytes[0], 1) << "first byte is the format version";
  EXPECT_EQ(decode_event(bytes, kNames), m);
}

TEST(CodecTest, RoundTripsAMinimalEvent) {
  MaterializedEvent m;
  m.event.user_id = 0;
  m.event.ts = 0;
  m.event.action = "a";
  m.event.event_id = "h0000000000000000";
  m.features.resize(kNames.size());
  EXPECT_EQ(decode_event(encode(m), kNames), m);
}

TEST(CodecTest, KeepsEmptyStringsDistinctFromAbsentFields) {
  MaterializedEvent m = full_event();
  m.event.item_id = "";
  m.event.query.reset();
  m.features[0] = std::vector<std::string>{};
  m.features[1] = std::vector<float>{};
  MaterializedEvent back = decode_event(encode(m), kNames);
  EXPECT_EQ(back, m);
  EXPECT_TRUE(back.event.item_id.has_value());
  EXPECT_FALSE(back.event.query.has_value());
  EXPECT_TRUE(std::holds_alternative<std::vector<std::string>>(back.features[0]));
}

TEST(CodecTest, RoundTripsNegativeTimesAndSpecialNumbers) {
  MaterializedEvent m = full_event();
  m.event.ts = -5;
  m.event.attrs = {{"big", 1e300}, {"tiny", -4.9e-324}};
  m.features[2] = -0.0;
  MaterializedEvent back = decode_event(encode(m), kNames);
  EXPECT_EQ(back, m);
  EXPECT_TRUE(std::signbit(std::get<double>(back.features[2])));
}

TEST(CodecTest, EncodingAppends) {
  std::string out = "prefix";
  encode_event(full_event(), kNames, out);
  EXPECT_EQ(out.substr(0, 6), "prefix");
  EXPECT_EQ(decode_event(std::string_view(out).substr(6), kNames), full_event());
}

TEST(CodecTest, FewerFeaturesThanNamesAreEmpty) {
  MaterializedEvent m = full_event();
  m.features.resize(1);
  MaterializedEvent back = decode_event(encode(m), kNames);
  EXPECT_EQ(back.features.size(), kNames.size());
  EXPECT_EQ(back.features[0], m.features[0]);
  for (std::size_t i = 1; i < kNames.size(); ++i)
    EXPECT_TRUE(std::holds_alternative<std::monostate>(back.features[i]));
}

TEST(CodecTest, MoreFeaturesThanNamesIsAProgrammingError) {
  MaterializedEvent m = full_event();
  m.features.emplace_back(1.0);
  std::string out;
  EXPECT_THROW(encode_event(m, kNames, out), std::invalid_argument);
}

TEST(CodecTest, FeaturesFollowTheirNamesAcrossConfigChanges) {
  std::string bytes = encode(full_event());
  // Reordered, one renamed ("pin.price" -> "pin.cost"), one dropped, one added.
  FeatureNames changed({"new.feature", "pin.embedding", "pin.cost", "pin.categories"});
  MaterializedEvent back = decode_event(bytes, changed);
  ASSERT_EQ(back.features.size(), 4u);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(back.features[0]));
  EXPECT_EQ(back.features[1], full_event().features[1]);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(back.features[2]));
  EXPECT_EQ(back.features[3], full_event().features[0]);
  EXPECT_EQ(back.event, full_event().event);

  MaterializedEvent none = decode_event(bytes, FeatureNames());
  EXPECT_TRUE(none.features.empty());
  EXPECT_EQ(none.event, full_event().event);
}

TEST(CodecTest, RejectsUnknownVersion) {
  std::string bytes = encode(full_event());
  bytes[0] = 2;
  EXPECT_THROW(decode_event(bytes, kNames), CorruptionError);
  EXPECT_THROW(decode_event("", kNames), CorruptionError);
}

TEST(CodecTest, RejectsTrailingBytes) {
  std::string bytes = encode(full_event());
  bytes.push_back(0);
  EXPECT_THROW(decode_event(bytes, kNames), CorruptionError);
}

TEST(CodecTest, EveryTruncationIsCorruption) {
  for (const MaterializedEvent& m : {full_event(), MaterializedEvent{}}) {
    std::string bytes = encode(m);
    for (std::size_t n = 0; n < bytes.size(); ++n)
      EXPECT_THROW(decode_event(std::string_view(bytes).substr(0, n), kNames), CorruptionError)
          << "prefix of " << n << " bytes";
  }
}

TEST(CodecTest, HugeCountsDoNotAllocate) {
  // A count claiming 2^63 attributes must fail on the bytes present, not try to reserve.
  std::string bytes;
  ByteWriter w(bytes);
  w.byte(1);
  w.varint(1);
  w.svarint(1);
  w.str("a");
  w.str("id");
  w.byte(0);
  w.varint(1ULL << 63);
  EXPECT_THROW(decode_event(bytes, kNames), CorruptionError);

  std::string features;
  ByteWriter f(features);
  f.byte(1);
  f.varint(1);
  f.svarint(1);
  f.str("a");
  f.str("id");
  f.byte(0);
  f.varint(0);
  f.varint(1);
  f.str("pin.embedding");
  f.byte(2);
  f.varint(1ULL << 62);
  EXPECT_THROW(decode_event(features, kNames), CorruptionError);
}

TEST(CodecTest, RejectsUnknownTagsAndFlags) {
  std::string base;
  ByteWriter w(base);
  w.byte(1);
  w.varint(1);
  w.svarint(1);
  w.str("a");
  w.str("id");

  std::string bad_flags = base + '\x04' + '\0' + '\0';
  EXPECT_THROW(decode_event(bad_flags, kNames), CorruptionError);

  std::string bad_attr = base + '\0';
  ByteWriter a(bad_attr);
  a.varint(1);
  a.str("x");
  a.byte(7);
  a.str("v");
  a.varint(0);
  EXPECT_THROW(decode_event(bad_attr, kNames), CorruptionError);

  std::string bad_feature = base + '\0' + '\0';
  ByteWriter f(bad_feature);
  f.varint(1);
  f.str("pin.price");
  f.byte(9);
  f.f64(1);
  EXPECT_THROW(decode_event(bad_feature, kNames), CorruptionError);
}

TEST(CodecTest, UnknownFeaturesAreStillChecked) {
  // A dropped feature's bytes are skipped by decoding them, so damage there is still found.
  MaterializedEvent m = full_event();
  std::string bytes = encode(m);
  bytes.pop_back();
  EXPECT_THROW(decode_event(bytes, FeatureNames()), CorruptionError);
}

TEST(CodecTest, RandomBytesNeverCrash) {
  std::mt19937_64 rng(12345);
  std::string bytes;
  for (int round = 0; round < 200'000; ++round) {
    bytes.resize(rng() % 80);
    for (char& c : bytes) {
      // Mostly small values so varints and tags often look plausible.
      std::uint64_t r = rng();
      c = static_cast<char>(r % 4 == 0 ? r >> 8 : (r >> 8) % 6);
    }
    if (!bytes.empty() && round % 2 == 0) bytes[0] = 1;
    expect_decodes_or_corruption(bytes, kNames);
  }
}

TEST(CodecTest, MutatedRecordsNeverCrash) {
  std::mt19937_64 rng(777);
  const std::string valid = encode(full_event());
  for (int round = 0; round < 100'000; ++round) {
    std::string bytes = valid;
    int flips = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < flips; ++i) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    if (round % 4 == 0) bytes.resize(rng() % (bytes.size() + 1));
    expect_decodes_or_corruption(bytes, kNames);
  }
  // Every single-byte substitution of every position, exhaustively.
  for (std::size_t pos = 0; pos < valid.size(); ++pos) {
    for (int value = 0; value < 256; ++value) {
      std::string bytes = valid;
      bytes[pos] = static_cast<char>(value);
      expect_decodes_or_corruption(bytes, kNames);
    }
  }
}

}  // namespace
}  // namespace signalbox
