// The grouped totals of count, sum and decayed_count against a std::map doing the same
// arithmetic, over many seeds; and its bytes against the encoding stores already hold.

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

// Random totals built the same way into both.
void fill(std::mt19937_64& rng, GroupTotals& groups, Reference& reference) {
  const int n = static_cast<int>(rng() % 12);
  for (int i = 0; i < n; ++i) {
    std::string key = draw_key(rng);
    double amount = static_cast<double>(static_cast<int>(rng() % 21) - 10) / 4;
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

// The bytes stores hold: a count, then (key, f64) pairs, in the order given.
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

TEST(GroupTotals, AddAddAllAndScaleMatchAMapOverManySeeds) {
  for (std::uint64_t seed = 0; seed < 500; ++seed) {
    std::mt19937_64 rng(seed);
    GroupTotals groups;
    Reference reference;
    fill(rng, groups, reference);
    for (int step = 0; step < 20; ++step) {
      switch (rng() % 3) {
        case 0:
          fill(rng, groups, reference);
          break;
        case 1: {
          GroupTotals from;
          Reference from_reference;
          fill(rng, from, from_reference);
          double factor = (rng() % 2) ? 1.0 : 0.5;
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
    EXPECT_EQ(bytes, encoded(reference)) << "seed " << seed;
    ByteReader in(bytes);
    EXPECT_EQ(GroupTotals::decode(in), groups);
  }
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
}

}  // namespace
}  // namespace signalbox
