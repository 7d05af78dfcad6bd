// The span cache of merged day-tile runs: keys that follow the tiles' content, least recently
// used entries dropped by bytes, and an engine whose answers stay those of the reference
// while late events change days whose runs it has cached.

#include <gtest/gtest.h>

#include "fixed_times.h"
#include "signalbox/engine/span_cache.h"
#include "world.h"

namespace signalbox::testing {
namespace {

using testing::kStart;

std::vector<StoredTile> day_tiles(std::vector<std::string> states) {
  std::vector<StoredTile> tiles;
  for (std::size_t i = 0; i < states.size(); ++i) {
    StoredTile t;
    t.state_id = 9;
    t.kind = TileKind::kDay;
    t.start = kStart + static_cast<TimeMs>(i) * kDayMs;
    t.state = std::move(states[i]);
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

std::shared_ptr<const std::string> bytes(std::size_t n, char c) {
  return std::make_shared<const std::string>(n, c);
}

TEST(SpanCache, DropsTheLeastRecentlyUsedBeyondItsBytes) {
  SpanCache cache(16 * 100);  // 100 bytes per shard
  cache.insert(shard_key(1), bytes(40, 'a'));
  cache.insert(shard_key(2), bytes(40, 'b'));
  ASSERT_NE(cache.find(shard_key(1)), nullptr);  // 1 is now the most recently used
  cache.insert(shard_key(3), bytes(40, 'c'));    // 120 bytes: 2 goes
  EXPECT_EQ(cache.find(shard_key(2)), nullptr);
  ASSERT_NE(cache.find(shard_key(1)), nullptr);
  EXPECT_EQ(*cache.find(shard_key(1)), std::string(40, 'a'));
  EXPECT_EQ(*cache.find(shard_key(3)), std::string(40, 'c'));
  cache.insert(shard_key(3), bytes(10, 'd'));  // replaced, not added
  EXPECT_EQ(*cache.find(shard_key(3)), std::string(10, 'd'));
  cache.insert(shard_key(4), bytes(101, 'e'));  // more than the shard holds: not kept
  EXPECT_EQ(cache.find(shard_key(4)), nullptr);
  EXPECT_NE(cache.find(shard_key(1)), nullptr) << "and it pushed nothing out";
  EXPECT_EQ(cache.hits(), 6u);
  EXPECT_EQ(cache.misses(), 2u);
}

TEST(SpanCache, AnEntryOutlivesItsEvictionWhileItIsRead) {
  SpanCache cache(16 * 50);
  cache.insert(shard_key(1), bytes(40, 'a'));
  std::shared_ptr<const std::string> held = cache.find(shard_key(1));
  cache.insert(shard_key(2), bytes(40, 'b'));
  EXPECT_EQ(cache.find(shard_key(1)), nullptr);
  EXPECT_EQ(*held, std::string(40, 'a'));
}

// Queries as of the same time twice (the second finds its runs cached), then late events land
// in days those runs hold: every answer must still be the reference's, which never caches.
TEST(SpanCacheEngine, LateEventsIntoCachedDaysChangeTheAnswer) {
  World world(7 * kDayMs, {"1d", "7d", "30d", "90d"});
  Engine engine(world.config);
  const std::size_t users = 5;
  std::vector<RefEvent> accepted;
  std::vector<Event> batch;
  const std::size_t count = 6000;
  std::size_t serial = 0;
  auto ingest = [&] {
    IngestResult r = engine.ingest(batch);
    ASSERT_TRUE(r.rejected.empty()) << r.rejected.front().message;
    for (const Event& e : batch) accepted.push_back(world.to_ref(e));
    batch.clear();
  };
  for (; serial < count; ++serial) {
    batch.push_back(world.make_event(
        users, kStart + static_cast<TimeMs>(serial) * (60 * kDayMs / static_cast<TimeMs>(count)),
        serial));
    if (batch.size() == 500) ingest();
  }
  ingest();
  const TimeMs head = engine.stream_time();
  auto check_all = [&](const std::string& when) {
    for (std::uint64_t user = 1000; user < 1000 + users; ++user) {
      const Value actual = engine.query(user, {}, head);
      EXPECT_EQ(diff(world.expected(accepted, user, head), actual, 1e-9), "")
          << "user " << user << ", " << when;
    }
  };
  check_all("first query");
  const std::uint64_t misses = engine.span_cache()->misses();
  EXPECT_GT(misses, 0u) << "windows of 30 and 90 days have runs of day tiles to cache";
  check_all("second query");
  EXPECT_GT(engine.span_cache()->hits(), 0u) << "the same runs are found again";
  EXPECT_EQ(engine.span_cache()->misses(), misses) << "nothing changed, so nothing missed";

  // Late events from two to six days back: inside the runs of the 30- and 90-day windows.
  for (std::size_t i = 0; i < 200; ++i, ++serial) {
    const TimeMs back = 2 * kDayMs + static_cast<TimeMs>(world.rng()() % (4 * kDayMs));
    batch.push_back(world.make_event(users, head - back, serial));
  }
  ingest();
  check_all("after late events");
  EXPECT_GT(engine.span_cache()->misses(), misses) << "the changed runs were merged again";
}

}  // namespace
}  // namespace signalbox::testing
