// The quantile and heavy-hitter sketches on their own, over many seeds: exact in their exact
// regime, within their documented bounds beyond it, however the values are split into
// states and in whatever order those are merged; and the encoding round trip.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "signalbox/aggregate/frequent_items.h"
#include "signalbox/aggregate/kll_sketch.h"
#include "signalbox/common/error.h"

namespace signalbox {
namespace {

// Values with ties and a skew, like dwell times or prices.
std::vector<double> draw(std::mt19937_64& rng, std::size_t n) {
  std::vector<double> xs;
  std::lognormal_distribution<double> spread(3, 1.5);
  for (std::size_t i = 0; i < n; ++i)
    xs.push_back(rng() % 5 == 0 ? static_cast<double>(rng() % 10)
                                : std::round(spread(rng) * 10) / 10);
  return xs;
}

// The values split into random runs, each into a sketch (as tiles), merged in random order.
KllSketch sketch_of(const std::vector<double>& xs, std::mt19937_64& rng) {
  std::vector<KllSketch> parts;
  for (std::size_t at = 0; at < xs.size();) {
    std::size_t run = 1 + rng() % 300;
    KllSketch part;
    for (std::size_t i = at; i < std::min(xs.size(), at + run); ++i) part.add(xs[i]);
    parts.push_back(part);
    at += run;
  }
  std::shuffle(parts.begin(), parts.end(), rng);
  KllSketch all;
  for (const KllSketch& part : parts) {
    // Half the time through the encoding, as tiles are.
    if (rng() % 2 == 0) {
      std::string bytes;
      ByteWriter out(bytes);
      part.encode(out);
      ByteReader in(bytes);
      all.merge(KllSketch::decode(in));
    } else {
      all.merge(part);
    }
  }
  return all;
}

TEST(KllSketch, ExactWhileItHoldsEveryValue) {
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    std::mt19937_64 rng(seed);
    std::vector<double> xs = draw(rng, 1 + rng() % KllSketch::kK);
    KllSketch s = sketch_of(xs, rng);
    std::vector<double> sorted = xs;
    std::sort(sorted.begin(), sorted.end());
    ASSERT_EQ(s.count(), xs.size());
    ASSERT_TRUE(s.exact());
    for (std::uint64_t r = 1; r <= xs.size(); ++r)
      ASSERT_EQ(s.value_at_rank(r), sorted[r - 1]) << "seed " << seed;
  }
}

TEST(KllSketch, RankErrorStaysUnderOnePercent) {
  double worst = 0;
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    std::mt19937_64 rng(seed);
    const std::size_t n = 500 + rng() % 60000;
    std::vector<double> xs = draw(rng, n);
    KllSketch s = sketch_of(xs, rng);
    std::sort(xs.begin(), xs.end());
    ASSERT_EQ(s.count(), n);
    for (int percent = 0; percent <= 100; ++percent) {
      const std::uint64_t r =
          std::max<std::uint64_t>(1, (static_cast<std::uint64_t>(percent) * n + 99) / 100);
      const double x = s.value_at_rank(r);
      const auto lo =
          static_cast<std::uint64_t>(std::lower_bound(xs.begin(), xs.end(), x) - xs.begin()) + 1;
      const auto hi =
          static_cast<std::uint64_t>(std::upper_bound(xs.begin(), xs.end(), x) - xs.begin());
      ASSERT_LE(lo, hi) << x << " is not one of the values";
      const double off = r < lo   ? static_cast<double>(lo - r)
                         : r > hi ? static_cast<double>(r - hi)
                                  : 0;
      worst = std::max(worst, off / static_cast<double>(n));
    }
  }
  std::cout << "worst normalised rank error: " << worst << "\n";
  EXPECT_LE(worst, 0.01);
}

TEST(KllSketch, CorruptBytesAreRefused) {
  KllSketch s;
  for (int i = 0; i < 1000; ++i) s.add(i);
  std::string bytes;
  ByteWriter out(bytes);
  s.encode(out);
  for (std::size_t cut = 0; cut < bytes.size(); cut += 97) {
    ByteReader in(std::string_view(bytes).substr(0, cut));
    EXPECT_THROW(KllSketch::decode(in), CorruptionError) << cut;
  }
  std::string wrong_count = bytes;
  wrong_count[0] = static_cast<char>(wrong_count[0] ^ 1);  // the count, a varint, first
  ByteReader in(wrong_count);
  EXPECT_THROW(KllSketch::decode(in), CorruptionError);
}

// Zipf-like values: a few frequent, a long tail.
std::vector<std::string> draw_items(std::mt19937_64& rng, std::size_t n, std::size_t distinct) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) {
    double u = static_cast<double>(rng() % 1000000) / 1000000.0;
    out.push_back("v" + std::to_string(static_cast<std::size_t>(std::pow(u, 3) *
                                                                static_cast<double>(distinct))));
  }
  return out;
}

FrequentItems frequent_of(const std::vector<std::string>& items, std::size_t capacity,
                          std::mt19937_64& rng) {
  std::vector<FrequentItems> parts;
  for (std::size_t at = 0; at < items.size();) {
    std::size_t run = 1 + rng() % 200;
    FrequentItems part;
    for (std::size_t i = at; i < std::min(items.size(), at + run); ++i)
      part.add(items[i], 1, capacity);
    parts.push_back(part);
    at += run;
  }
  std::shuffle(parts.begin(), parts.end(), rng);
  FrequentItems all;
  for (const FrequentItems& part : parts) {
    std::string bytes;
    ByteWriter out(bytes);
    part.encode(out);
    ByteReader in(bytes);
    all.merge(FrequentItems::decode(in), capacity);
  }
  return all;
}

TEST(FrequentItems, ExactWhileTheDistinctValuesFit) {
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    std::mt19937_64 rng(seed);
    const std::size_t capacity = 10 + rng() % 100;
    std::vector<std::string> items = draw_items(rng, 1 + rng() % 5000, 1 + rng() % capacity);
    std::map<std::string, std::uint64_t> truth;
    for (const auto& v : items) ++truth[v];
    ASSERT_LE(truth.size(), capacity);
    FrequentItems s = frequent_of(items, capacity, rng);
    std::map<std::string, std::uint64_t> kept(s.counters().begin(), s.counters().end());
    ASSERT_EQ(kept, truth);
  }
}

TEST(FrequentItems, EstimatesKeepTheBound) {
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    std::mt19937_64 rng(seed);
    const std::size_t capacity = 5 + rng() % 60;
    std::vector<std::string> items =
        draw_items(rng, 100 + rng() % 20000, capacity * (2 + rng() % 20));
    std::map<std::string, std::uint64_t> truth;
    for (const auto& v : items) ++truth[v];
    FrequentItems s = frequent_of(items, capacity, rng);
    ASSERT_EQ(s.total(), items.size());
    ASSERT_LE(s.counters().size(), capacity);
    const double bound = static_cast<double>(items.size()) / static_cast<double>(capacity + 1);
    for (const auto& [v, count] : truth) {
      auto it = s.counters().find(v);
      const double estimate = it == s.counters().end() ? 0 : static_cast<double>(it->second);
      ASSERT_LE(estimate, static_cast<double>(count)) << v;
      ASSERT_LE(static_cast<double>(count) - estimate, bound) << v << " seed " << seed;
    }
  }
}

}  // namespace
}  // namespace signalbox
