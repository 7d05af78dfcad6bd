// The grouped totals of count, sum and decayed_count against a std::map doing the same
// arithmetic, over many seeds; and its bytes against both encodings: the one stores written
// before hold, and the compact one of whole totals.

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "signalbox/aggregate/group_totals.h"
#include "signalbox/common/error.h"

namespace signalbox {
namespace {

using Reference = std::map<std::string, double>;

std::string draw_key(std::mt19937_64& rng) {
  // Short keys (inside std::string) and long ones, sharing prefixes or first bytes or not,
  // empty, and bytes past 0x7f, so order is by bytes taken unsigned.
  static const char* const kKeys[] = {"",
                                      "\x7f",
                                      "\x80x",
                                      "a",
                                      "ab",
                                      "b",
                                      "food",
                                      "food & drink",
                                      "travel",
                                      "z",
                                      "\xc3\xa9t\xc3\xa9",
                                      "a very long category name past the small buffer"};
  return kKeys[rng() % std::size(kKeys)];
}

// Random totals built the same way into both: with `whole`, counts of 0 to 4 each.
void fill(std::mt19937_64& rng, GroupTotals& groups, Reference& reference, bool whole) {
  const int n = static_cast<int>(rng() % 12);
  for (int i = 0; i < n; ++i) {
    std::string key = draw_key(rng);
    double amount = whole ? static_cast<double>(rng() % 5)
                          : static_cast<double>(static_cast<int>(rng() % 21) - 10) / 4;
    groups.add(key, amount);
    double& slot = reference[key];
    slot += amount;
  }
}

void expect_same(const GroupTotals& groups, const Reference& reference) {
  ASSERT_EQ(groups.entries().size(), reference.size());
  auto it = reference.begin();
  for (const auto& [key, v] : groups.entries()) {
    EXPECT_EQ(key, it->first);
    EXPECT_EQ(v, it->second) << key;
    ++it;
  }
}

// The bytes stores written before hold: a count, then (key, f64) pairs, in the order given.
template <typename Entries>
std::string encoded(const Entries& entries) {
  std::string bytes;
  ByteWriter out(bytes);
  out.varint(std::size(entries));
  for (const auto& [key, v] : entries) {
    out.str(key);
    out.f64(v);
  }
  return bytes;
}

// The compact encoding of whole totals: 0x80 0x00, a count, then (key, varint) pairs.
template <typename Entries>
std::string encoded_whole(const Entries& entries) {
  std::string bytes("\x80\x00", 2);
  ByteWriter out(bytes);
  out.varint(std::size(entries));
  for (const auto& [key, v] : entries) {
    out.str(key);
    out.varint(static_cast<std::uint64_t>(v));
  }
  return bytes;
}

// Which of the two the totals should be written in: the compact one when there are totals
// and each is a non-negative integer a double holds exactly, and not -0.
bool all_whole(const Reference& reference) {
  if (reference.empty()) return false;
  for (const auto& [key, v] : reference)
    if (!(v >= 0 && v <= 9007199254740992.0 && std::floor(v) == v && !std::signbit(v)))
      return false;
  return true;
}

TEST(GroupTotals, AddAddAllAndScaleMatchAMapOverManySeeds) {
  int compact = 0, first = 0;
  for (std::uint64_t seed = 0; seed < 500; ++seed) {
    std::mt19937_64 rng(seed);
    // Half the seeds keep to whole counts (no fractions, no scaling), as count's states do.
    const bool whole = seed % 2 == 0;
    GroupTotals groups;
    Reference reference;
    fill(rng, groups, reference, whole);
    for (int step = 0; step < 20; ++step) {
      switch (rng() % (whole ? 2 : 3)) {
        case 0:
          fill(rng, groups, reference, whole);
          break;
        case 1: {
          GroupTotals from;
          Reference from_reference;
          fill(rng, from, from_reference, whole);
          double factor = (whole || rng() % 2) ? 1.0 : 0.5;
          groups.add_all(from, factor);
          for (const auto& [key, v] : from_reference) {
            auto [at, inserted] = reference.try_emplace(key, 0.0);
            at->second += v * factor;
          }
          break;
        }
        default: {
          groups.scale(0.75);
          for (auto& [key, v] : reference) v *= 0.75;
          break;
        }
      }
      ASSERT_NO_FATAL_FAILURE(expect_same(groups, reference)) << "seed " << seed;
    }
    std::string bytes;
    ByteWriter out(bytes);
    groups.encode(out);
    const bool expect_compact = all_whole(reference);
    (expect_compact ? compact : first) += 1;
    EXPECT_EQ(bytes, expect_compact ? encoded_whole(reference) : encoded(reference))
        << "seed " << seed;
    ByteReader in(bytes);
    const GroupTotals decoded = GroupTotals::decode(in);
    EXPECT_TRUE(in.done());
    ASSERT_EQ(decoded.entries().size(), groups.entries().size());
    for (std::size_t i = 0; i < decoded.entries().size(); ++i) {
      // Bit for bit: -0 stays -0.
      EXPECT_EQ(std::signbit(decoded.entries()[i].second),
                std::signbit(groups.entries()[i].second));
      EXPECT_EQ(decoded.entries()[i], groups.entries()[i]);
    }
  }
  // Both encodings were exercised.
  EXPECT_GT(compact, 100);
  EXPECT_GT(first, 100);
}

// A state of whole totals written before the compact encoding reads back the same, and is
// written compact from then on.
TEST(GroupTotals, WholeTotalsOfTheFirstEncodingReadBackAndAreWrittenCompact) {
  const Reference totals = {{"art", 3}, {"food", 1}, {"travel", 120}};
  std::string before = encoded(totals);
  ByteReader in(before);
  GroupTotals groups = GroupTotals::decode(in);
  EXPECT_TRUE(in.done());
  expect_same(groups, totals);
  std::string after;
  ByteWriter out(after);
  groups.encode(out);
  EXPECT_EQ(after, encoded_whole(totals));
  EXPECT_LT(after.size(), before.size() - 3 * 6);
}

// What a varint cannot hold bit for bit keeps the first encoding, byte for byte.
TEST(GroupTotals, FractionsNegativesMinusZeroAndHugeTotalsKeepTheFirstEncoding) {
  for (double v : {0.5, -1.0, -0.0, 9007199254740994.0, 1e300}) {
    const std::string bytes = encoded(Reference{{"a", 1}, {"b", v}});
    ByteReader in(bytes);
    const GroupTotals groups = GroupTotals::decode(in);
    std::string again;
    ByteWriter out(again);
    groups.encode(out);
    EXPECT_EQ(again, bytes) << v;
  }
  GroupTotals empty;
  std::string bytes;
  ByteWriter out(bytes);
  empty.encode(out);
  EXPECT_EQ(bytes, std::string(1, '\0'));
}

TEST(GroupTotals, ANewKeyOfMinusZeroIsStoredAsPlusZero) {
  GroupTotals groups;
  groups.add("x", -0.0);
  GroupTotals from;
  from.add("y", 1);
  groups.add_all(from, -0.0);
  for (const auto& [key, v] : groups.entries()) EXPECT_FALSE(std::signbit(v)) << key;
}

TEST(GroupTotals, DecodingRefusesKeysOutOfOrderOrRepeated) {
  using Entries = std::vector<std::pair<std::string, double>>;
  std::string unordered = encoded(Entries{{"b", 1}, {"a", 2}});
  ByteReader in(unordered);
  EXPECT_THROW(GroupTotals::decode(in), CorruptionError);
  std::string repeated = encoded(Entries{{"a", 1}, {"a", 2}});
  ByteReader in2(repeated);
  EXPECT_THROW(GroupTotals::decode(in2), CorruptionError);
  std::string ordered = encoded(Entries{{"a", 1}, {"b", 2}});
  ByteReader in3(ordered);
  EXPECT_EQ(GroupTotals::decode(in3).entries().size(), 2u);
  for (const std::string& compact :
       {encoded_whole(Entries{{"b", 1}, {"a", 2}}), encoded_whole(Entries{{"a", 1}, {"a", 2}})}) {
    ByteReader in4(compact);
    EXPECT_THROW(GroupTotals::decode(in4), CorruptionError);
  }
  // A count past what follows (two bytes at least each).
  std::string truncated = encoded_whole(Entries{{"a", 1}, {"b", 2}});
  truncated.resize(truncated.size() - 3);
  ByteReader in5(truncated);
  EXPECT_THROW(GroupTotals::decode(in5), CorruptionError);
}

}  // namespace
}  // namespace signalbox
