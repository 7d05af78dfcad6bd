#include "signalbox/materialize/feature_cache.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace signalbox {
namespace {

using Row = FeatureCache::Row;
using Strings = std::vector<std::string>;

std::shared_ptr<const Row> row(const std::string& s) {
  return std::make_shared<const Row>(Row{FeatureValue(Strings{s})});
}

std::string value(const std::shared_ptr<const Row>& r) {
  return r ? std::get<Strings>((*r)[0]).at(0) : "<miss>";
}

class FakeClock {
 public:
  ClockFn fn() {
    return [this] { return SteadyClock::time_point(SteadyClock::duration(now_.load())); };
  }
  void advance(SteadyClock::duration d) { now_ += d.count(); }

 private:
  std::atomic<SteadyClock::rep> now_{1'000'000'000};
};

TEST(FeatureCache, EvictsLeastRecentlyUsedToStayWithinBytes) {
  const std::size_t entry = FeatureCache::charge("k0", *row("v0"));
  FeatureCache::Options options;
  options.capacity_bytes = 3 * entry;  // room for three entries
  FeatureCache cache(options);

  cache.put("k0", row("v0"));
  cache.put("k1", row("v1"));
  cache.put("k2", row("v2"));
  EXPECT_EQ(value(cache.get("k0")), "v0");  // k0 is now the most recently used
  cache.put("k3", row("v3"));               // evicts k1, the least recently used

  EXPECT_EQ(value(cache.get("k1")), "<miss>");
  EXPECT_EQ(value(cache.get("k0")), "v0");
  EXPECT_EQ(value(cache.get("k2")), "v2");
  EXPECT_EQ(value(cache.get("k3")), "v3");

  FeatureCacheStats s = cache.stats();
  EXPECT_EQ(s.entries, 3u);
  EXPECT_EQ(s.bytes, 3 * entry);
  EXPECT_EQ(s.capacity_bytes, 3 * entry);
  EXPECT_EQ(s.evictions, 1u);
  EXPECT_EQ(s.hits, 4u);
  EXPECT_EQ(s.misses, 1u);

  // A big row pushes out as many entries as it needs.
  auto big = std::make_shared<const Row>(Row{FeatureValue(std::vector<float>(20, 1.0f))});
  std::size_t big_charge = FeatureCache::charge("big", *big);
  ASSERT_LT(big_charge, 3 * entry);
  ASSERT_GT(big_charge, entry);
  cache.put("big", big);
  s = cache.stats();
  EXPECT_LE(s.bytes, 3 * entry);
  EXPECT_EQ(s.evictions, 1u + 3u - (s.entries - 1));
  EXPECT_NE(cache.get("big"), nullptr);
}

TEST(FeatureCache, ChargesTheHeapOfLongStringsAndVectors) {
  Row small{FeatureValue(Strings{"a"})};
  Row long_strings{FeatureValue(Strings{std::string(1000, 'x')})};
  Row vector{FeatureValue(std::vector<float>(256))};
  EXPECT_GT(FeatureCache::charge("k", long_strings), FeatureCache::charge("k", small) + 1000);
  EXPECT_GT(FeatureCache::charge("k", vector), FeatureCache::charge("k", small) + 900);
  EXPECT_GT(FeatureCache::charge(std::string(500, 'k'), small),
            FeatureCache::charge("k", small) + 490);
}

TEST(FeatureCache, EntriesExpireAfterTheTtl) {
  FakeClock clock;
  FeatureCache::Options options;
  options.ttl = std::chrono::minutes(10);
  options.clock = clock.fn();
  FeatureCache cache(options);

  cache.put("a", row("1"));
  clock.advance(std::chrono::minutes(6));
  cache.put("b", row("2"));
  EXPECT_EQ(value(cache.get("a")), "1");  // a read does not extend the TTL

  clock.advance(std::chrono::minutes(5));  // a is 11 minutes old, b 5
  EXPECT_EQ(cache.get("a"), nullptr);
  EXPECT_EQ(value(cache.get("b")), "2");
  FeatureCacheStats s = cache.stats();
  EXPECT_EQ(s.expirations, 1u);
  EXPECT_EQ(s.entries, 1u);

  // Storing again starts a new TTL.
  cache.put("b", row("3"));
  clock.advance(std::chrono::minutes(9));
  EXPECT_EQ(value(cache.get("b")), "3");
  clock.advance(std::chrono::minutes(2));
  // Expired entries at the cold end are dropped by the next put, not counted as evictions.
  cache.put("c", row("4"));
  s = cache.stats();
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.expirations, 2u);
  EXPECT_EQ(s.evictions, 0u);
}

TEST(FeatureCache, ReplacesOversizeAndClear) {
  FeatureCache::Options options;
  options.capacity_bytes = 1024;
  FeatureCache cache(options);
  cache.put("k", row("old"));
  cache.put("k", row("new"));
  EXPECT_EQ(value(cache.get("k")), "new");
  EXPECT_EQ(cache.stats().entries, 1u);

  cache.put("huge", std::make_shared<const Row>(Row{FeatureValue(std::vector<float>(1000))}));
  EXPECT_EQ(cache.get("huge"), nullptr);
  EXPECT_EQ(value(cache.get("k")), "new");

  // Replacing a key with a row too big to keep drops the old row too.
  cache.put("k", std::make_shared<const Row>(Row{FeatureValue(std::vector<float>(1000))}));
  EXPECT_EQ(cache.get("k"), nullptr);

  cache.put("a", row("1"));
  cache.clear();
  EXPECT_EQ(cache.get("a"), nullptr);
  EXPECT_EQ(cache.stats().bytes, 0u);
}

TEST(FeatureCache, ShardedCacheUnderConcurrentUse) {
  FeatureCache::Options options;
  options.capacity_bytes = 64 * 1024;
  options.shards = 8;
  FeatureCache cache(options);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) {
        std::string key = "k" + std::to_string((i * 7 + t) % 700);
        if (auto r = cache.get(key)) {
          if (value(r) != key) ++wrong;
        } else {
          cache.put(key, row(key));
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  FeatureCacheStats s = cache.stats();
  EXPECT_LE(s.bytes, s.capacity_bytes);
  EXPECT_EQ(s.hits + s.misses, 20000u);
}

}  // namespace
}  // namespace signalbox
