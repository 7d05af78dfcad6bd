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

// A user's settled runs share one entry: each found in it under its own key, a run added
// makes a new set (a query holding the old one keeps it as it was), a key added again
// replaces its run, and past kMaxRunsPerSet the oldest go.
TEST(SpanCacheSets, RunsOfASetAreFoundUnderTheirOwnKeysAndAddedByCopy) {
  SpanCache cache(16 * 1024 * 1024);
  const SpanKey set_key = settled_set_key(7, 3);
  EXPECT_EQ(cache.find_set(set_key), nullptr);
  EXPECT_EQ(cache.find_in(nullptr, shard_key(1)), nullptr) << "no set: a miss";
  cache.insert_into(set_key, shard_key(1), bytes(10, 'a'));
  const std::shared_ptr<const RunSet> first = cache.find_set(set_key);
  ASSERT_NE(first, nullptr);
  cache.insert_into(set_key, shard_key(2), bytes(10, 'b'));
  const std::shared_ptr<const RunSet> second = cache.find_set(set_key);
  EXPECT_EQ(first->runs.size(), 1u) << "the set held was not changed";
  ASSERT_NE(cache.find_in(second, shard_key(1)), nullptr);
  EXPECT_EQ(text_of(*cache.find_in(second, shard_key(1))), std::string(10, 'a'));
  EXPECT_EQ(text_of(*cache.find_in(second, shard_key(2))), std::string(10, 'b'));
  EXPECT_EQ(cache.find_in(second, shard_key(3)), nullptr);
  EXPECT_EQ(cache.find(set_key), nullptr) << "a set is not a run";
  cache.insert_into(set_key, shard_key(1), bytes(5, 'c'));
  const std::shared_ptr<const RunSet> third = cache.find_set(set_key);
  EXPECT_EQ(third->runs.size(), 2u) << "replaced, not added";
  EXPECT_EQ(text_of(*cache.find_in(third, shard_key(1))), std::string(5, 'c'));
  for (std::uint64_t k = 10; k < 10 + SpanCache::kMaxRunsPerSet; ++k)
    cache.insert_into(set_key, shard_key(k), bytes(1, 'x'));
  const std::shared_ptr<const RunSet> full = cache.find_set(set_key);
  EXPECT_EQ(full->runs.size(), SpanCache::kMaxRunsPerSet);
  EXPECT_EQ(cache.find_in(full, shard_key(2)), nullptr) << "the oldest went first";
  EXPECT_EQ(cache.find_in(full, shard_key(1)), nullptr);
  EXPECT_NE(cache.find_in(full, shard_key(10)), nullptr);
  EXPECT_NE(cache.find_in(full, shard_key(9 + SpanCache::kMaxRunsPerSet)), nullptr);
  EXPECT_EQ(cache.hits(), 6u);
  EXPECT_EQ(cache.misses(), 5u);
}

// A set counts against the capacity as its runs together, and is dropped whole.
TEST(SpanCacheSets, ASetCountsTheBytesOfAllItsRuns) {
  // 100 encoded bytes and two overheads per shard.
  SpanCache cache(16 * (100 * kPerByte + 2 * kOverhead));
  const SpanKey set_key{0, 1};  // the shard of the runs below
  cache.insert(shard_key(2), bytes(40, 'a'));
  cache.insert_into(set_key, shard_key(3), bytes(40, 'b'));
  ASSERT_NE(cache.find(shard_key(2)), nullptr) << "two runs of 40 fit";
  cache.insert_into(set_key, shard_key(4), bytes(10, 'c'));  // the set now 50 and 2 overheads
  EXPECT_EQ(cache.find(shard_key(2)), nullptr) << "the run used least recently went";
  const std::shared_ptr<const RunSet> set = cache.find_set(set_key);
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->runs.size(), 2u);
  cache.insert_into(set_key, shard_key(5), bytes(60, 'd'));  // 110: more than the shard holds
  EXPECT_EQ(cache.find_set(set_key), nullptr) << "dropped whole";
  EXPECT_EQ(text_of(*cache.find_in(set, shard_key(3))), std::string(40, 'b'))
      << "what a query holds outlives it";
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

// Sets added to and read from several threads: every run found is the one stored under its
// key, and a set is never missing a run because another thread added one (adding copies the
// set under its shard's lock).
TEST(SpanCacheSets, ConcurrentAdditionsToOneSetLoseNoRun) {
  SpanCache cache(std::size_t{64} << 20);
  const SpanKey set_key = settled_set_key(1, 1);
  constexpr int kThreads = 4;
  constexpr std::uint64_t kEach = SpanCache::kMaxRunsPerSet / kThreads;
  std::atomic<std::size_t> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (std::uint64_t i = 0; i < kEach; ++i) {
        const std::uint64_t k = static_cast<std::uint64_t>(t) * kEach + i;
        cache.insert_into(set_key, shard_key(k), run_of(std::to_string(k), 4));
        std::shared_ptr<const RunSet> set = cache.find_set(set_key);
        std::shared_ptr<const CachedRun> mine = cache.find_in(set, shard_key(k));
        if (!mine || text_of(*mine) != std::to_string(k)) ++wrong;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0u);
  const std::shared_ptr<const RunSet> set = cache.find_set(set_key);
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->runs.size(), kThreads * kEach);
}

}  // namespace
}  // namespace signalbox::testing
