// distinct_count's sketch on its own: within the SPEC's 2 % of the true count past the exact
// regime, however the values are split into sketches and merged, through its bytes or not;
// and bytes that no sketch writes refused (distinct_count's decode: distinct_count_test.cc).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "signalbox/aggregate/hyperloglog.h"
#include "signalbox/common/hash.h"

namespace signalbox {
// Named, since the test sources of a target are compiled as one unit.
namespace hyperloglog_test {
namespace {

// `n` distinct values of one seed, hashed as distinct_count hashes them.
std::vector<std::uint64_t> distinct_hashes(std::uint64_t seed, std::size_t n) {
  std::vector<std::uint64_t> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(hash64("pin-" + std::to_string(seed) + "-" + std::to_string(i)));
  return out;
}

// The hashes split into random runs, each a sketch (as tiles), merged in random order, each
// through its bytes half the time; every value is added to one, two or three of them, as a
// value seen in several tiles.
HyperLogLog merged_from_parts(const std::vector<std::uint64_t>& hashes, std::mt19937_64& rng) {
  std::vector<HyperLogLog> parts(1 + rng() % 40);
  for (std::uint64_t h : hashes) {
    const std::size_t copies = 1 + rng() % 3;
    for (std::size_t c = 0; c < copies; ++c) parts[rng() % parts.size()].add(h);
  }
  std::shuffle(parts.begin(), parts.end(), rng);
  HyperLogLog all;
  for (const HyperLogLog& part : parts) {
    if (rng() % 2 == 0) {
      std::optional<HyperLogLog> decoded = HyperLogLog::from_registers(part.register_bytes());
      EXPECT_TRUE(decoded.has_value());
      EXPECT_EQ(*decoded, part);
      all.merge(*decoded);
    } else {
      all.merge(part);
    }
  }
  return all;
}

TEST(HyperLogLog, EstimatesWithinTwoPercentOfTheTrueCount) {
  // From just past distinct_count's exact regime (1 000) to far past the registers' count.
  for (std::size_t n : {1001u, 2500u, 8000u, 16384u, 40000u, 150000u, 600000u}) {
    for (std::uint64_t seed = 0; seed < 5; ++seed) {
      const std::vector<std::uint64_t> hashes = distinct_hashes(seed * 1000003 + n, n);
      HyperLogLog one;
      for (std::uint64_t h : hashes) one.add(h);
      const double error =
          std::abs(one.estimate() - static_cast<double>(n)) / static_cast<double>(n);
      EXPECT_LE(error, 0.02) << n << " values, seed " << seed << ": " << one.estimate();

      std::mt19937_64 rng(seed + n);
      const HyperLogLog merged = merged_from_parts(hashes, rng);
      // A merge is the sketch of the union, register for register, whatever the split.
      EXPECT_EQ(merged, one) << n << " values, seed " << seed;
    }
  }
}

TEST(HyperLogLog, AnEmptySketchEstimatesZeroAndAMergeWithItselfChangesNothing) {
  HyperLogLog empty;
  EXPECT_EQ(empty.estimate(), 0.0);
  HyperLogLog some;
  for (std::uint64_t h : distinct_hashes(7, 3000)) some.add(h);
  const HyperLogLog before = some;
  some.merge(some);
  EXPECT_EQ(some, before);
  some.merge(empty);
  EXPECT_EQ(some, before);
}

TEST(HyperLogLog, RegistersNoSketchHoldsAreRefused) {
  HyperLogLog some;
  for (std::uint64_t h : distinct_hashes(3, 5000)) some.add(h);
  std::string bytes(some.register_bytes());
  ASSERT_TRUE(HyperLogLog::from_registers(bytes).has_value());
  EXPECT_FALSE(HyperLogLog::from_registers(bytes.substr(1)).has_value());
  EXPECT_FALSE(HyperLogLog::from_registers(bytes + '\0').has_value());
  std::string highest = bytes;
  highest[12345] = static_cast<char>(HyperLogLog::kMaxRank);
  EXPECT_TRUE(HyperLogLog::from_registers(highest).has_value());
  std::string past = bytes;
  past[12345] = static_cast<char>(HyperLogLog::kMaxRank + 1);
  EXPECT_FALSE(HyperLogLog::from_registers(past).has_value());
  past[12345] = static_cast<char>(0xff);
  EXPECT_FALSE(HyperLogLog::from_registers(past).has_value());
}

}  // namespace
}  // namespace hyperloglog_test
}  // namespace signalbox
