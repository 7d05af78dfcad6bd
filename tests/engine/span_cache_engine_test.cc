// An engine with the span cache (on by default): its answers stay those of the reference,
// which never caches, while late events change days whose runs it has cached.

#include <gtest/gtest.h>

#include <set>

#include "fixed_times.h"
#include "forwarding_store.h"
#include "world.h"

namespace signalbox::testing {
namespace {

using testing::kStart;

// A snapshot whose stream time rises by a millisecond once the user's tiles are read, as a
// shared store's horizons may (StoreSnapshot): the windows planned before the read no longer
// hold, so the query must read and plan again. Everything else is the wrapped snapshot's.
class RisingSnapshot final : public ForwardingSnapshot {
 public:
  RisingSnapshot(std::unique_ptr<StoreSnapshot> inner, std::size_t* replanned)
      : ForwardingSnapshot(std::move(inner)), replanned_(replanned) {}
  TimeMs high_water() const override {
    return ForwardingSnapshot::high_water() - (tiles_read_ ? 0 : 1);
  }
  // Its stream time is not read with its data.
  bool shows_no_event_after_high_water() const override { return false; }
  std::vector<StoredTile> tiles(std::uint64_t user_id, std::span<const std::uint64_t> state_ids,
                                const TileSelection& selection) override {
    if (tiles_read_) ++*replanned_;  // a second read: the query planned again
    tiles_read_ = true;
    return ForwardingSnapshot::tiles(user_id, state_ids, selection);
  }

 private:
  std::size_t* replanned_;
  bool tiles_read_ = false;
};

// The wrapped store, its snapshots rising (RisingSnapshot).
class RisingStore final : public ForwardingStore {
 public:
  RisingStore(std::unique_ptr<Store> inner, std::size_t* replanned)
      : ForwardingStore(std::move(inner)), replanned_(replanned) {}
  std::unique_ptr<StoreSnapshot> snapshot() override {
    return std::make_unique<RisingSnapshot>(inner().snapshot(), replanned_);
  }

 private:
  std::size_t* replanned_;
};

// storage.span_cache sizes the engine's cache, 0 turns it off; Engine::Options overrides it.
TEST(SpanCacheEngine, TheConfigsSpanCacheKeySizesOrTurnsOffTheCache) {
  World world(7 * kDayMs, {"1d", "7d", "30d"});
  {
    Engine engine(world.config);
    ASSERT_NE(engine.span_cache(), nullptr) << "on by default";
  }
  world.config.storage.span_cache = 0;
  {
    Engine engine(world.config);
    EXPECT_EQ(engine.span_cache(), nullptr);
  }
  Engine::Options options;
  options.span_cache_bytes = 1 << 20;
  Engine engine(world.config, options);
  EXPECT_NE(engine.span_cache(), nullptr);
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
  EXPECT_GT(engine.span_cache()->version_hits(), 0u)
      << "runs of days before today are found by the store's tile version";
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

// Five users with 60 days of events in an engine with the span cache, windows up to 90 days;
// what a test adds is checked against the reference, which never caches.
class CachedUsers {
 public:
  static constexpr std::size_t kUsers = 5;

  CachedUsers()
      : world_(7 * kDayMs, {"1d", "7d", "30d", "90d"}),
        engine_(world_.config),
        accepted_(
            world_.ingest_spread(engine_, kUsers, 6000, kStart, 60 * kDayMs - 6 * kHourMs, 500)) {}

  Engine& engine() { return engine_; }
  const SpanCache& cache() { return *engine_.span_cache(); }
  TimeMs stream_time() { return engine_.stream_time(); }

  // Ingests `events` events at `ts`, each of one of the users.
  void ingest_at(TimeMs ts, std::size_t events = 1) {
    std::vector<Event> batch;
    for (std::size_t i = 0; i < events; ++i)
      batch.push_back(world_.make_event(kUsers, ts, serial_++));
    IngestResult r = engine_.ingest(batch);
    ASSERT_TRUE(r.rejected.empty()) << r.rejected.front().message;
    for (const Event& e : batch) accepted_.push_back(world_.to_ref(e));
  }

  // The signals of the config: no tile holds more parts than that.
  std::size_t signals() const { return world_.config.signals.size(); }

  // The hours in [from, to) in which some user has an event: each an hour tile.
  std::size_t hour_tiles(TimeMs from, TimeMs to) const {
    std::set<std::pair<std::uint64_t, TimeMs>> hours;
    for (const RefEvent& e : accepted_)
      if (e.ts >= from && e.ts < to) hours.emplace(e.user, floor_hour(e.ts));
    return hours.size();
  }

  // Queries every user as of `at` (stream time when absent), each answer checked against the
  // reference; returns the tile parts the queries read.
  std::uint64_t check_all(const std::string& when, std::optional<TimeMs> at = std::nullopt) {
    const TimeMs as_of = at ? *at : stream_time();
    const std::uint64_t before = engine_.counters().query_tiles_read.load();
    for (std::uint64_t user = 1000; user < 1000 + kUsers; ++user) {
      EXPECT_EQ(diff(world_.expected(accepted_, user, as_of), engine_.query(user, {}, as_of), 1e-9),
                "")
          << "user " << user << ", " << when;
    }
    return engine_.counters().query_tiles_read.load() - before;
  }

 private:
  World world_;
  Engine engine_;
  std::vector<RefEvent> accepted_;
  std::uint64_t serial_ = 100000;
};

// Events of the stream's current day leave the runs of earlier days found by version (they
// change no tile of those days); a late event, and the fold of old days into base tiles, make
// the runs they touch merged again. Every answer stays the reference's.
TEST(SpanCacheEngine, TodaysEventsKeepRunsOfEarlierDaysAndLateOnesReplaceThem) {
  CachedUsers users;
  const SpanCache& cache = users.cache();
  users.check_all("first query");
  std::uint64_t before = cache.version_hits();
  users.check_all("second query");
  // What a query of every user finds by version when nothing changed: all its runs of earlier
  // days.
  const std::uint64_t per_query = cache.version_hits() - before;
  ASSERT_GT(per_query, 0u);
  for (int round = 0; round < 5; ++round) {
    // Events at stream time (so the windows stay where they are): today's tiles change.
    users.ingest_at(users.stream_time());
    before = cache.version_hits();
    users.check_all("after today's event " + std::to_string(round));
    EXPECT_EQ(cache.version_hits() - before, per_query)
        << "round " << round << ": every run of earlier days is found as before";
  }
  // A late event three days back: the runs holding that day are merged again.
  const std::uint64_t misses = cache.misses();
  users.ingest_at(users.stream_time() - 3 * kDayMs);
  users.check_all("after a late event");
  EXPECT_GT(cache.misses(), misses);
  // Into the next day: yesterday's tiles are settled now, and runs end a day later.
  users.ingest_at(floor_day(users.stream_time()) + kDayMs + kHourMs);
  users.check_all("the next day");
  users.ingest_at(users.stream_time());
  before = cache.version_hits();
  users.check_all("the next day, again");
  EXPECT_GT(cache.version_hits(), before);
}

// A query looks the runs of past days up by version before reading, and leaves the tiles of
// the runs it finds unread: a second query of every user reads only what lies outside them
// (the hours of the windows' partial days), and answers as the reference does, which never
// caches; so after today's events, a late event, and the weekly fold of old days into base
// tiles, which the runs of signals without windows start from.
TEST(SpanCacheEngine, RunsFoundBeforeTheReadLeaveTheirDaysUnread) {
  CachedUsers users;
  const std::size_t n = CachedUsers::kUsers;
  // Each step changes what is stored, then every user is queried twice: the first query reads
  // (some) runs anew, the second finds them all.
  auto read_twice = [&](const std::string& when) {
    const std::uint64_t first = users.check_all(when);
    const std::uint64_t misses = users.cache().misses();
    const std::uint64_t second = users.check_all(when + ", again");
    EXPECT_EQ(users.cache().misses(), misses) << when << ": every run is found";
    return std::make_pair(first, second);
  };
  const auto [anew, found] = read_twice("first query");
  // Of 60 days of day tiles and the last nine days' hour tiles, the hours the windows fold
  // alone: today's whole hours, and those of the partial days at the far edges of the windows
  // the retention holds (1d and 7d; 30d and 90d start at a midnight).
  EXPECT_LT(found * 5, anew * 4) << "the days of the runs found are not read";
  const TimeMs head = users.stream_time();
  std::size_t used_hours = users.hour_tiles(floor_day(head), floor_hour(head));
  for (TimeMs length : {kDayMs, 7 * kDayMs}) {
    const TimeMs start = head - length + 1;
    used_hours += users.hour_tiles(floor_hour(start) + kHourMs, floor_day(start) + kDayMs);
  }
  EXPECT_LE(found, used_hours * users.signals())
      << "no hour tile outside the windows' partial days is read";
  users.ingest_at(users.stream_time(), n);
  EXPECT_LE(read_twice("after today's events").first, found + 8 * n)
      << "today's events change no run of past days";
  // As of a later day than stream time's, today's tiles lie inside the runs: today's events
  // change them without moving the version, so such runs must not be keyed by it.
  const TimeMs tomorrow = floor_day(users.stream_time()) + kDayMs + 5 * kHourMs;
  users.check_all("as of tomorrow", tomorrow);
  users.ingest_at(users.stream_time(), n);
  users.check_all("as of tomorrow, after today's events", tomorrow);
  users.ingest_at(users.stream_time() - 3 * kDayMs, n);
  EXPECT_GT(read_twice("after late events").first, found + 8 * n)
      << "the runs holding the late day are read again";
  // A week on: the fold moves old days into base tiles.
  users.ingest_at(floor_day(users.stream_time()) + 8 * kDayMs + kHourMs, n);
  read_twice("a week on");
  users.ingest_at(users.stream_time() - 2 * kDayMs, n);
  read_twice("a late event after the fold");
}

// Three heavy users of World (their hour runs pass 2 KiB) over six days and 20 hours, with
// windows of an hour to two days, asked for category_counts as of stream time; each answer
// checked against the reference.
class HeavyHourRuns {
 public:
  static constexpr std::size_t kUsers = 3;

  HeavyHourRuns()
      : world_(7 * kDayMs, {"1h", "1d", "2d"}),
        engine_(world_.config),
        accepted_(
            world_.ingest_spread(engine_, kUsers, 12000, kStart, 6 * kDayMs + 20 * kHourMs, 500)),
        head_(engine_.stream_time()) {}

  TimeMs head() const { return head_; }
  const SpanCache& cache() { return *engine_.span_cache(); }
  Engine& engine() { return engine_; }

  void check_all(const std::string& when) {
    const std::vector<std::string> names = {"category_counts"};
    for (std::uint64_t user = 1000; user < 1000 + kUsers; ++user) {
      const Value actual = engine_.query(user, names, head_);
      const Value expected = world_.expected(accepted_, user, head_);
      EXPECT_EQ(diff(*expected.find("signals")->find("category_counts"),
                     *actual.find("signals")->find("category_counts"), 1e-9),
                "")
          << "user " << user << ", " << when;
    }
  }
  // Ingests an event of a heavy user at each of `times` (ids from `first_id`).
  void ingest_at(const std::vector<TimeMs>& times, std::uint64_t first_id) {
    std::vector<Event> events;
    for (std::size_t i = 0; i < times.size(); ++i)
      events.push_back(world_.make_event(kUsers, times[i], first_id + i));
    ASSERT_TRUE(engine_.ingest(events).rejected.empty());
    for (const Event& e : events) accepted_.push_back(world_.to_ref(e));
  }
  std::mt19937_64& rng() { return world_.rng(); }

 private:
  World world_;
  Engine engine_;
  std::vector<RefEvent> accepted_;
  TimeMs head_;
};

// A one-day window holds no whole day: what it merges is runs of hour tiles (the end of
// yesterday, today so far), cached as a leading run is when large enough (today's, here).
// Late events into those hours must change the answer all the same.
TEST(SpanCacheEngine, HourRunsOfPartialDaysAreCachedAndLateEventsInThemChangeTheAnswer) {
  HeavyHourRuns runs;
  runs.check_all("first query");
  const std::uint64_t misses = runs.cache().misses();
  EXPECT_GE(misses, HeavyHourRuns::kUsers) << "the hour runs of the 1d window are worth caching";
  runs.check_all("second query");
  EXPECT_GE(runs.cache().hits(), misses) << "the same runs are found again";
  EXPECT_EQ(runs.cache().misses(), misses) << "nothing changed, so nothing missed";

  // Late events in today's hours (stream time is near the day's end).
  std::vector<TimeMs> late;
  for (std::size_t i = 0; i < 100; ++i)
    late.push_back(runs.head() - 3 * kHourMs - static_cast<TimeMs>(runs.rng()() % (14 * kHourMs)));
  runs.ingest_at(late, 100000);
  runs.check_all("after late events");
  EXPECT_GT(runs.cache().misses(), misses) << "the changed runs were merged again";
}

// As of stream time the last hour is read from its tile (query_planner.h), which ends the run
// of today's hours; a new event changes that tile, not the hours before it: the run cached
// without the tile is found again, and the answer counts the new event.
TEST(SpanCacheEngine, TodaysHourRunIsFoundAgainAfterAnEventInTheCurrentHour) {
  HeavyHourRuns runs;
  runs.check_all("first query");
  runs.check_all("second query");
  const std::uint64_t misses = runs.cache().misses();
  const std::uint64_t hits = runs.cache().hits();
  runs.ingest_at(std::vector<TimeMs>(HeavyHourRuns::kUsers, runs.head()), 200000);
  ASSERT_EQ(runs.engine().stream_time(), runs.head());
  runs.check_all("after events in the current hour");
  EXPECT_EQ(runs.cache().misses(), misses) << "a run was merged again";
  EXPECT_GT(runs.cache().hits(), hits);
}

// When the horizons move between planning and reading (RisingSnapshot), a query with runs
// found by version reads and plans again from everything it asks: its answers, first and
// again with the runs cached, are still the reference's.
TEST(SpanCacheEngine, HorizonsThatMoveUnderTheReadArePlannedAgain) {
  World world(7 * kDayMs, {"1d", "7d", "30d", "90d"});
  std::size_t replanned = 0;
  Engine::Options options;
  options.wrap_store = [&replanned](std::unique_ptr<Store> store) -> std::unique_ptr<Store> {
    return std::make_unique<RisingStore>(std::move(store), &replanned);
  };
  Engine engine(world.config, options);
  const std::size_t users = 5;
  std::vector<RefEvent> accepted;
  std::vector<Event> batch;
  const std::size_t count = 4000;
  for (std::size_t serial = 0; serial < count; ++serial) {
    batch.push_back(world.make_event(
        users, kStart + static_cast<TimeMs>(serial) * (60 * kDayMs / static_cast<TimeMs>(count)),
        serial));
    if (batch.size() == 500 || serial + 1 == count) {
      IngestResult r = engine.ingest(batch);
      ASSERT_TRUE(r.rejected.empty()) << r.rejected.front().message;
      for (const Event& e : batch) accepted.push_back(world.to_ref(e));
      batch.clear();
    }
  }
  const TimeMs head = engine.stream_time();
  for (const char* when : {"first query", "runs cached"}) {
    for (std::uint64_t user = 1000; user < 1000 + users; ++user) {
      const std::size_t before = replanned;
      const Value actual = engine.query(user, {}, head);
      EXPECT_EQ(diff(world.expected(accepted, user, head), actual, 1e-9), "")
          << "user " << user << ", " << when;
      EXPECT_EQ(replanned, before + 1) << "user " << user << ", " << when << ": read once more";
    }
  }
}

}  // namespace
}  // namespace signalbox::testing
