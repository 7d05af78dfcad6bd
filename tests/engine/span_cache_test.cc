// The span cache of merged tile runs: keys that follow the tiles' content, least recently used
// entries dropped by bytes, and entries whole under concurrent use.

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "fixed_times.h"
#include "signalbox/engine/span_cache.h"

namespace signalbox::testing {
namespace {

using testing::kStart;

// Tiles viewing `states`, which must outlive them (string literals here).
std::vector<StoredTile> day_tiles(std::vector<std::string_view> states) {
  std::vector<StoredTile> tiles;
  for (std::size_t i = 0; i < states.size(); ++i) {
    StoredTile t;
    t.state_id = 9;
    t.kind = TileKind::kDay;
    t.start = kStart + static_cast<TimeMs>(i) * kDayMs;
    t.state = states[i];
    tiles.push_back(std::move(t));
  }
  return tiles;
}

SpanKey key_of(std::uint64_t state_id, const std::vector<StoredTile>& tiles) {
  std::vector<const StoredTile*> run;
  for (const StoredTile& t : tiles) run.push_back(&t);
  return span_key(state_id, run);
}

TEST(SpanCacheKey, FollowsEveryPartOfTheTilesAndNothingElse) {
  const std::vector<StoredTile> tiles = day_tiles({"abc", "de", "f"});
  const SpanKey key = key_of(1, tiles);
  EXPECT_EQ(key, key_of(1, day_tiles({"abc", "de", "f"})));
  EXPECT_NE(key, key_of(2, tiles)) << "another state";
  EXPECT_NE(key, key_of(1, day_tiles({"abc", "dE", "f"}))) << "one byte";
  EXPECT_NE(key, key_of(1, day_tiles({"ab", "cde", "f"}))) << "bytes shifted between tiles";
  EXPECT_NE(key, key_of(1, day_tiles({"abc", "de"}))) << "a tile fewer";
  std::vector<StoredTile> moved = tiles;
  moved[2].start += kDayMs;
  EXPECT_NE(key, key_of(1, moved)) << "a tile's start";
  std::vector<StoredTile> hour = tiles;
  hour[0].kind = TileKind::kHour;
  EXPECT_NE(key, key_of(1, hour)) << "a tile's kind";
}

// Keys of one shard (the shard is chosen by `high`).
SpanKey shard_key(std::uint64_t low) { return SpanKey{0, low}; }

// A state that is a string, to tell entries apart.
struct TextState : State {
  explicit TextState(std::string t) : text(std::move(t)) {}
  std::string text;
};

// A run whose state is `text`, counted as `encoded_bytes` encoded.
std::shared_ptr<CachedRun> run_of(std::string text, std::size_t encoded_bytes) {
  auto run = std::make_shared<CachedRun>();
  run->state = std::make_shared<TextState>(std::move(text));
  run->encoded_bytes = encoded_bytes;
  return run;
}

const std::string& text_of(const CachedRun& run) {
  return static_cast<const TextState&>(*run.state).text;
}

constexpr std::size_t kPerByte = SpanCache::kDecodedPerEncodedByte;

// A run of `n` encoded bytes, all `c`, which costs the cache
// n * kDecodedPerEncodedByte + kEntryOverhead.
std::shared_ptr<const CachedRun> bytes(std::size_t n, char c) {
  return run_of(std::string(n, c), n);
}

constexpr std::size_t kOverhead = SpanCache::kEntryOverhead;

TEST(SpanCache, DropsTheLeastRecentlyUsedBeyondItsBytes) {
  // Two runs of 40 encoded bytes per shard, not three.
  SpanCache cache(16 * (100 * kPerByte + 2 * kOverhead));
  cache.insert(shard_key(1), bytes(40, 'a'));
  cache.insert(shard_key(2), bytes(40, 'b'));
  ASSERT_NE(cache.find(shard_key(1)), nullptr);  // 1 is now the most recently used
  cache.insert(shard_key(3), bytes(40, 'c'));    // 120 bytes' worth and three overheads: 2 goes
  EXPECT_EQ(cache.find(shard_key(2)), nullptr);
  ASSERT_NE(cache.find(shard_key(1)), nullptr);
  EXPECT_EQ(text_of(*cache.find(shard_key(1))), std::string(40, 'a'));
  EXPECT_EQ(text_of(*cache.find(shard_key(3))), std::string(40, 'c'));
  cache.insert(shard_key(3), bytes(10, 'd'));  // replaced, not added
  EXPECT_EQ(text_of(*cache.find(shard_key(3))), std::string(10, 'd'));
  // More than the shard holds: not kept.
  cache.insert(shard_key(4), bytes(100 + kOverhead / kPerByte + 1, 'e'));
  EXPECT_EQ(cache.find(shard_key(4)), nullptr);
  EXPECT_NE(cache.find(shard_key(1)), nullptr) << "and it pushed nothing out";
  EXPECT_EQ(cache.hits(), 6u);
  EXPECT_EQ(cache.misses(), 2u);
}

TEST(SpanCache, AnEntryOutlivesItsEvictionWhileItIsRead) {
  SpanCache cache(16 * (50 * kPerByte + kOverhead));
  cache.insert(shard_key(1), bytes(40, 'a'));
  std::shared_ptr<const CachedRun> held = cache.find(shard_key(1));
  cache.insert(shard_key(2), bytes(40, 'b'));
  EXPECT_EQ(cache.find(shard_key(1)), nullptr);
  EXPECT_EQ(text_of(*held), std::string(40, 'a'));
}

// Finds and inserts from several threads on a cache small enough to evict all the time: every
// entry found is whole and is the one stored under its key (run under TSan by
// scripts/sanitize.sh, which picks tests named Concurrent*).
TEST(SpanCache, ConcurrentFindsAndInsertsSeeWholeEntries) {
  SpanCache cache(16 * (400 * kPerByte + 2 * kOverhead));
  auto content = [](std::uint64_t k) {
    return std::string(static_cast<std::size_t>(k % 50) + 1, static_cast<char>('a' + k % 26));
  };
  std::atomic<std::size_t> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 random(static_cast<std::uint64_t>(t));
      for (int i = 0; i < 20000; ++i) {
        const std::uint64_t k = random() % 200;
        const SpanKey key{k * 7919, k};
        if (random() % 2) {
          cache.insert(key, run_of(content(k), content(k).size()));
        } else if (std::shared_ptr<const CachedRun> found = cache.find(key)) {
          if (text_of(*found) != content(k)) ++wrong;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0u);
  EXPECT_GT(cache.hits(), 0u);
}

}  // namespace
}  // namespace signalbox::testing
