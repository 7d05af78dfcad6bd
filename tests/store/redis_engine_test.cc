// The engine on a Redis store (a single server and a three-master cluster) against the
// brute-force reference: on-time, late and repeated events; two engines (two processes) on
// one Redis ingesting the same users at once; a slot moved under a running store.

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <set>
#include <thread>
#include <utility>

#include "analytics_signals.h"
#include "fixed_times.h"
#include "forwarding_store.h"
#include "kept_hours.h"
#include "late_rule.h"
#include "redis_servers.h"
#include "signalbox/common/error.h"
#include "signalbox/store/redis/redis_store.h"
#include "world.h"

namespace signalbox::testing {
namespace {

class RedisEngine : public ::testing::TestWithParam<bool> {
 protected:
  RedisEngine() : world(3 * kDayMs, {"1h", "1d", "3d", "10d"}) {}

  void SetUp() override {
    ASSERT_TRUE(have_program("redis-server"))
        << "redis-server is not installed (Debian package redis-server)";
    if (GetParam()) {
      ASSERT_TRUE(have_program("redis-cli"))
          << "redis-cli is not installed (Debian package redis-tools)";
      cluster = std::make_unique<RedisClusterProcesses>();
      ASSERT_TRUE(cluster->ready()) << "the Redis Cluster did not come up";
      world.config.storage.nodes = cluster->addresses();
    } else {
      server = start_redis();
      ASSERT_TRUE(server->ready()) << "redis-server did not answer PING";
      world.config.storage.nodes = {server->address()};
    }
    world.config.storage.kind = "redis";
    world.config.storage.key_prefix = "engine";
  }

  void check_all(Engine& engine, const std::vector<RefEvent>& taken, TimeMs as_of,
                 std::size_t users) {
    for (std::uint64_t user = 1000; user < 1000 + users; ++user) {
      Value actual = engine.query(user, {}, as_of);
      Value expected = world.expected(taken, user, as_of);
      ASSERT_EQ(diff(expected, actual, kTolerance), "") << "user " << user << " as_of " << as_of;
    }
  }

  World world;
  std::unique_ptr<RedisProcess> server;
  std::unique_ptr<RedisClusterProcesses> cluster;
};

TEST_P(RedisEngine, MatchesTheReferenceWithLateAndRepeatedEvents) {
  Engine engine(world.config);
  LateRule rule(engine.late_horizon());
  const std::size_t users = 10;
  auto& rng = world.rng();
  std::size_t serial = 0;
  std::vector<Event> sent;
  for (int hour = 0; hour < 14 * 24; ++hour) {
    const TimeMs now = kStart + hour * kHourMs;
    std::vector<Event> batch;
    for (int i = 0; i < 5; ++i)
      batch.push_back(
          world.make_event(users, now + static_cast<TimeMs>(rng() % kHourMs), serial++));
    // Late: within the late horizon but older than the raw retention, or beyond it.
    if (hour > 24 && rng() % 3 == 0)
      batch.push_back(world.make_event(
          users, now - 3 * kDayMs - static_cast<TimeMs>(rng() % (7 * kDayMs)), serial++));
    if (!sent.empty() && rng() % 3 == 0) batch.push_back(sent[rng() % sent.size()]);
    std::shuffle(batch.begin(), batch.end(), rng);
    std::set<std::size_t> expected = rule.decide(world, batch).rejected;
    IngestResult result = engine.ingest(batch);
    std::set<std::size_t> rejected;
    for (const RejectedEvent& r : result.rejected) rejected.insert(r.index);
    ASSERT_EQ(rejected, expected) << "hour " << hour;
    sent.insert(sent.end(), batch.begin(), batch.end());
    if (hour % (4 * 24) == 0) check_all(engine, rule.taken, now + kHourMs, users);
  }
  check_all(engine, rule.taken, kStart + 14 * kDayMs, users);
  // Another process opening the same store answers the same.
  Engine other(world.config);
  check_all(other, rule.taken, kStart + 14 * kDayMs, users);
}

// The daily expiry pass over every user going one user per commit (Engine::Options::
// fold_slice_users), with late events among the rest: every answer, after every batch, equals
// the brute-force reference, whichever users the pass in progress has reached.
TEST_P(RedisEngine, AnExpiryInSlicesLeavesEveryAnswerExactAtEveryBatch) {
  Engine::Options options;
  options.fold_slice_users = 1;
  Engine engine(world.config, options);
  LateRule rule(engine.late_horizon());
  const std::size_t users = 8;
  auto& rng = world.rng();
  std::size_t serial = 0;
  for (int quarter = 0; quarter < 14 * 4; ++quarter) {
    const TimeMs now = kStart + quarter * 6 * kHourMs;
    std::vector<Event> batch;
    for (int i = 0; i < 6; ++i)
      batch.push_back(
          world.make_event(users, now + static_cast<TimeMs>(rng() % (6 * kHourMs)), serial++));
    if (quarter > 16 && rng() % 2 == 0)
      batch.push_back(world.make_event(
          users, now - 3 * kDayMs - static_cast<TimeMs>(rng() % (5 * kDayMs)), serial++));
    std::set<std::size_t> expected = rule.decide(world, batch).rejected;
    IngestResult result = engine.ingest(batch);
    std::set<std::size_t> rejected;
    for (const RejectedEvent& r : result.rejected) rejected.insert(r.index);
    ASSERT_EQ(rejected, expected) << "batch " << quarter;
    check_all(engine, rule.taken, engine.stream_time(), users);
    if (HasFatalFailure()) return;
  }
}

// Every signal after old hours are dropped, each state by its own cut (kept_hours.h), on
// Redis.
TEST_P(RedisEngine, EverySignalAnswersHoursAllOverTheRetentionAfterOldHoursAreDropped) {
  check_kept_hours(world, 6, 3000, kStart, 10 * kDayMs, 250);
}

// The span cache on Redis: runs of settled days are found again by the user's tile version
// (the marks read with its tiles), and another process's late events into those days, or its
// expiry rewriting the tiles (operands merged, old days folded into the base), move the
// version: the caching engine's answers stay the reference's.
TEST_P(RedisEngine, CachedRunsAreFoundByTileVersionAndAnotherProcesssChangesMoveIt) {
  Engine cached(world.config), writer(world.config);
  ASSERT_NE(cached.span_cache(), nullptr);
  const std::size_t users = 4;
  std::vector<RefEvent> taken;
  std::vector<Event> batch;
  std::size_t serial = 0;
  auto ingest = [&](Engine& engine) {
    IngestResult r = engine.ingest(batch);
    ASSERT_TRUE(r.rejected.empty()) << r.rejected.front().message;
    for (const Event& e : batch) taken.push_back(world.to_ref(e));
    batch.clear();
  };
  constexpr std::size_t kCount = 1500;
  for (; serial < kCount; ++serial) {
    batch.push_back(world.make_event(
        users, kStart + static_cast<TimeMs>(serial) * (12 * kDayMs / static_cast<TimeMs>(kCount)),
        serial));
    if (batch.size() == 250) {
      ASSERT_NO_FATAL_FAILURE(ingest(writer));
    }
  }
  ASSERT_NO_FATAL_FAILURE(ingest(writer));
  const TimeMs head = writer.stream_time();
  check_all(cached, taken, head, users);
  const std::uint64_t misses = cached.span_cache()->misses();
  EXPECT_GT(misses, 0u) << "the 3- and 10-day windows have runs of day tiles to cache";
  check_all(cached, taken, head, users);
  EXPECT_GT(cached.span_cache()->version_hits(), 0u) << "found again by the tile version";
  EXPECT_EQ(cached.span_cache()->misses(), misses) << "nothing changed, so nothing missed";

  // Late events two to five days back, through the other engine (another process).
  for (std::size_t i = 0; i < 60; ++i, ++serial) {
    const TimeMs back = 2 * kDayMs + static_cast<TimeMs>(world.rng()() % (3 * kDayMs));
    batch.push_back(world.make_event(users, head - back, serial));
  }
  ASSERT_NO_FATAL_FAILURE(ingest(writer));
  check_all(cached, taken, head, users);
  const std::uint64_t misses_after_late = cached.span_cache()->misses();
  EXPECT_GT(misses_after_late, misses) << "the changed runs were merged again";

  // The other engine's expiry rewrites the users' tiles: merged operands, folded days.
  writer.expire(/*compact=*/true);
  check_all(cached, taken, head, users);
  EXPECT_GT(cached.span_cache()->misses(), misses_after_late)
      << "a rewrite of the tiles moves the version";
}

TEST_P(RedisEngine, TwoEnginesIngestingTheSameUsersAtOnceCountEveryEventOnce) {
  const std::size_t users = 6;
  std::vector<Event> events;
  for (std::size_t i = 0; i < 3000; ++i)
    events.push_back(world.make_event(users, kStart + static_cast<TimeMs>(i) * 60000, i));
  // Each engine gets every event, in batches cut and ordered its own way, and overlaps with
  // the other's batches on the same users all along.
  auto batches_of = [&](std::size_t size, std::uint64_t seed) {
    std::vector<std::vector<Event>> out;
    for (std::size_t at = 0; at < events.size(); at += size) {
      std::vector<Event> b(events.begin() + at,
                           events.begin() + std::min(events.size(), at + size));
      std::shuffle(b.begin(), b.end(), std::mt19937_64(seed + at));
      out.push_back(std::move(b));
    }
    return out;
  };
  Engine first(world.config), second(world.config);
  std::atomic<int> retries{0};
  auto run = [&](Engine& engine, std::vector<std::vector<Event>> batches) {
    for (auto& batch : batches) {
      for (int attempt = 0;; ++attempt) {
        try {
          engine.ingest(batch);
          break;
        } catch (const StorageError&) {
          // As a client does on 503: the same batch again.
          ++retries;
          if (attempt > 50) throw;
        }
      }
    }
  };
  std::thread a(run, std::ref(first), batches_of(40, 1));
  std::thread b(run, std::ref(second), batches_of(25, 2));
  a.join();
  b.join();
  std::vector<RefEvent> taken;
  for (const Event& e : events) taken.push_back(world.to_ref(e));
  const TimeMs as_of = kStart + 3000 * 60000;
  check_all(first, taken, as_of, users);
  check_all(second, taken, as_of, users);
  std::cout << "batches sent again after a concurrent commit: " << retries.load() << "\n";
}

// The statistics, sequence and sketch aggregators and the ratio and bucketize views: their
// states go through Redis's tile merging like every other state.
TEST_P(RedisEngine, AnalyticsSignalsMatchTheReference) {
  const std::vector<std::string> windows = {"1h", "1d", "3d", "10d"};
  add_numeric_summary_signals(world, windows);
  add_sequence_signals(world, windows);
  add_sketch_signals(world, windows);
  add_analytics_views(world);
  Engine engine(world.config);
  LateRule rule(engine.late_horizon());
  const std::size_t users = 4;
  auto& rng = world.rng();
  std::size_t serial = 0;
  std::vector<Event> sent;
  SketchStats stats;
  auto check = [&](TimeMs as_of) {
    for (std::uint64_t user = 1000; user < 1000 + users; ++user) {
      Value actual = engine.query(user, {}, as_of);
      ASSERT_EQ(world.accept_sketch_answers(rule.taken, user, as_of, actual, stats), "")
          << "user " << user;
      ASSERT_EQ(diff(world.expected(rule.taken, user, as_of), actual, kTolerance), "")
          << "user " << user << " as_of " << as_of;
    }
  };
  for (int hour = 0; hour < 12 * 24; ++hour) {
    const TimeMs now = kStart + hour * kHourMs;
    std::vector<Event> batch;
    for (int i = 0; i < 6; ++i)
      batch.push_back(
          world.make_event(users, now + static_cast<TimeMs>(rng() % kHourMs), serial++));
    if (hour > 24 && rng() % 3 == 0)
      batch.push_back(world.make_event(
          users, now - 3 * kDayMs - static_cast<TimeMs>(rng() % (5 * kDayMs)), serial++));
    if (!sent.empty() && rng() % 3 == 0) batch.push_back(sent[rng() % sent.size()]);
    std::shuffle(batch.begin(), batch.end(), rng);
    rule.decide(world, batch);
    engine.ingest(batch);
    sent.insert(sent.end(), batch.begin(), batch.end());
    if (hour % (3 * 24) == 0) check(now + kHourMs);
    if (::testing::Test::HasFatalFailure()) return;
  }
  check(kStart + 12 * kDayMs);
  EXPECT_GT(stats.bound_checks, 0u) << "the sketches never left their exact regime";
}

// A Redis store whose snapshots run `between` once, right after a query's first read of a
// user's tiles, and count the snapshots told to read users whole.
class InterruptedSnapshot final : public ForwardingSnapshot {
 public:
  InterruptedSnapshot(std::unique_ptr<StoreSnapshot> inner, std::function<void()>* between,
                      std::size_t* whole_reads)
      : ForwardingSnapshot(std::move(inner)), between_(between), whole_reads_(whole_reads) {}
  std::vector<StoredTile> tiles(std::uint64_t user_id, std::span<const std::uint64_t> state_ids,
                                const TileSelection& selection) override {
    std::vector<StoredTile> read = ForwardingSnapshot::tiles(user_id, state_ids, selection);
    if (*between_) std::exchange(*between_, nullptr)();
    return read;
  }
  void read_users_whole() override {
    ++*whole_reads_;
    ForwardingSnapshot::read_users_whole();
  }

 private:
  std::function<void()>* between_;
  std::size_t* whole_reads_;
};

class InterruptedStore final : public ForwardingStore {
 public:
  InterruptedStore(std::unique_ptr<Store> inner, std::function<void()>* between,
                   std::size_t* whole_reads)
      : ForwardingStore(std::move(inner)), between_(between), whole_reads_(whole_reads) {}
  std::unique_ptr<StoreSnapshot> snapshot() override {
    return std::make_unique<InterruptedSnapshot>(inner().snapshot(), between_, whole_reads_);
  }

 private:
  std::function<void()>* between_;
  std::size_t* whole_reads_;
};

// A user of more raw events than the store reads with its tiles has its events read apart,
// range by range as the query asks: the answers match the reference at times all over the
// last days. A commit of the user between the read of its tiles and that of its events makes
// the query read the user again, whole, and answer with the new event.
TEST_P(RedisEngine, AHeavyUserReadInPartsMatchesTheReferenceAndIsReadAgainAfterAChange) {
  Engine engine(world.config);
  const std::size_t users = 5;
  // Users 1000..1002 take half the events: about 900 raw events each in the 3-day retention.
  std::vector<RefEvent> accepted =
      world.ingest_spread(engine, users, 9000, kStart, 6 * kDayMs, 500);
  const TimeMs end = kStart + 6 * kDayMs - 6 * kDayMs / 9000;  // the last event's ts
  for (TimeMs as_of : {end, end - 1, floor_hour(end), floor_hour(end) - 1, end - 20 * 60 * 1000,
                       end + 5 * kHourMs, end + kDayMs}) {
    check_all(engine, accepted, as_of, users);
    if (::testing::Test::HasFatalFailure()) return;
  }

  std::function<void()> between;
  std::size_t whole_reads = 0;
  Engine::Options options;
  options.wrap_store = [&](std::unique_ptr<Store> store) -> std::unique_ptr<Store> {
    return std::make_unique<InterruptedStore>(std::move(store), &between, &whole_reads);
  };
  Engine interrupted(world.config, options);
  EXPECT_EQ(diff(world.expected(accepted, 1000, end), interrupted.query(1000, {}, end), kTolerance),
            "");
  EXPECT_EQ(whole_reads, 0u) << "nothing changed: no second read";
  Event late = world.make_event(users, end - 1, 90000);
  late.user_id = 1000;
  late.action = "save";
  late.event_id = "between";
  between = [&] { ASSERT_EQ(engine.ingest({late}).accepted, 1u); };
  const Value answer = interrupted.query(1000, {}, end);
  EXPECT_FALSE(between) << "the commit ran between the two reads";
  EXPECT_EQ(whole_reads, 1u) << "the query read the user again, whole";
  accepted.push_back(world.to_ref(late));
  EXPECT_EQ(diff(world.expected(accepted, 1000, end), answer, kTolerance), "");
}

// "seen" tells a user the store holds something of from one it never saw, also when no
// window asked for reaches the user's events; over Redis it costs no command of its own.
TEST_P(RedisEngine, SeenIsAnsweredFromTheReadOfTheUser) {
  Engine engine(world.config);
  Event click = world.make_event(1, kStart, 1);
  click.user_id = 7;
  click.action = "click";
  ASSERT_EQ(engine.ingest({click}).accepted, 1u);
  const TimeMs just_before = kStart - 1;  // every window ends before the event
  auto seen = [&](std::uint64_t user, const std::vector<std::string>& names) {
    const Value answer = engine.query(user, names, just_before, Engine::Seen::kReport);
    const Value* field = answer.find("seen");
    return field ? field->to_json() : std::string("absent");
  };
  EXPECT_EQ(seen(7, {"saves"}), "true") << "saves does not count clicks: no tile part of it";
  EXPECT_EQ(seen(7, {}), "true");
  EXPECT_EQ(seen(8, {"saves"}), "false");
  EXPECT_EQ(seen(8, {}), "false");
  EXPECT_EQ(engine.query(7, {"saves"}, just_before).find("seen"), nullptr) << "not asked for";
  if (!server) return;  // commands are counted on the single server
  auto commands_for = [&](Engine::Seen report) {
    // Past the time a reading of stream time serves later queries (RedisStoreOptions::
    // horizons_reuse), so that each query reads it.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const std::uint64_t before = server->commands_processed();
    engine.query(7, {"saves"}, just_before, report);
    return server->commands_processed() - before;
  };
  const std::uint64_t without = commands_for(Engine::Seen::kOmit);
  EXPECT_GT(without, 1u) << "the query itself reads the store";
  EXPECT_EQ(commands_for(Engine::Seen::kReport), without);
}

// A Redis snapshot is no point-in-time view, so a signal added on a Redis store is not built
// from the stored raw events: it holds what is ingested from its first start on (late events
// older than that included only through fold_history), says so, and an archived log
// completes it.
TEST_P(RedisEngine, AnAddedSignalHoldsWhatCameAfterItsStartUntilALogCompletesIt) {
  const std::size_t users = 6;
  std::vector<Event> sent;
  std::vector<RefEvent> taken;
  auto ingest = [&](Engine& engine, std::vector<Event> batch) {
    ASSERT_TRUE(engine.ingest(batch).rejected.empty());
    for (const Event& e : batch) {
      sent.push_back(e);
      taken.push_back(world.to_ref(e));
    }
  };
  TimeMs head = 0;
  std::size_t serial = 0;
  {
    Engine engine(world.config);
    for (int hour = 0; hour < 5 * 24; ++hour) {
      std::vector<Event> batch;
      for (int i = 0; i < 4; ++i)
        batch.push_back(world.make_event(users, kStart + hour * kHourMs + i, serial++));
      ingest(engine, batch);
    }
    head = engine.stream_time();
  }
  SignalConfig added;
  added.name = "added_clicks";
  added.aggregator = "count";
  added.actions = std::vector<std::pair<std::string, double>>{{"click", 1}};
  added.windows = {{"1h", kHourMs}, {"10d", 10 * kDayMs}};
  Config with_added = world.config;
  with_added.signals.push_back(added);
  Engine engine(with_added);
  EXPECT_FALSE(engine.bootstrap_pending()) << "no bootstrap on Redis";
  EXPECT_EQ(engine.complete_since("added_clicks"), head + 1);
  EXPECT_EQ(engine.complete_since("saves"), 0);
  // On time after the start, and late (before it): only the former go into the new state.
  std::vector<Event> batch;
  for (int i = 0; i < 30; ++i)
    batch.push_back(world.make_event(users, head + 1 + i * 60000, serial++));
  for (int i = 0; i < 10; ++i)
    batch.push_back(world.make_event(users, head - kDayMs - i * 60000, serial++));
  ingest(engine, batch);
  const TimeMs as_of = head + kHourMs;
  const std::map<std::string, double> clicks = {{"click", 1}};
  auto count = [&](std::uint64_t user, TimeMs window, TimeMs from) {
    std::vector<const RefEvent*> in;
    for (const RefEvent& e : taken)
      if (e.user == user && e.ts >= from && in_window(e.ts, as_of, window, 3 * kDayMs))
        in.push_back(&e);
    return ref_count(in, &clicks);
  };
  for (std::uint64_t user = 1000; user < 1000 + users; ++user) {
    Value answer = engine.query(user, {"added_clicks"}, as_of);
    const Value* actual = answer.find("signals")->find("added_clicks");
    EXPECT_EQ(diff(count(user, kHourMs, 0), *actual->find("1h"), kTolerance), "") << user;
    EXPECT_EQ(diff(count(user, 10 * kDayMs, head + 1), *actual->find("10d"), kTolerance), "")
        << user;
    EXPECT_EQ(answer.find("incomplete")->to_json(), R"({"added_clicks":["10d"]})");
  }
  std::vector<Event> log = sent;
  std::shuffle(log.begin(), log.end(), world.rng());
  engine.fold_history(log);
  engine.extend_history(0);
  for (std::uint64_t user = 1000; user < 1000 + users; ++user) {
    Value answer = engine.query(user, {"added_clicks"}, as_of);
    EXPECT_EQ(diff(count(user, 10 * kDayMs, 0),
                   *answer.find("signals")->find("added_clicks")->find("10d"), kTolerance),
              "")
        << user;
    EXPECT_EQ(answer.find("incomplete"), nullptr);
  }
}

INSTANTIATE_TEST_SUITE_P(Redis, RedisEngine, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Cluster" : "Single"; });

// Keys of format 1 (grouped totals as f64 only) are read as they are and marked 2, whose
// compact totals format 1 versions would refuse; a format this version does not know is
// refused, naming it.
TEST(RedisStoreFormat, TheFormatBeforeCompactTotalsIsMarkedCurrentAndAnUnknownOneRefused) {
  ASSERT_TRUE(have_program("redis-server"))
      << "redis-server is not installed (Debian package redis-server)";
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d"});
  auto server = start_redis();
  ASSERT_TRUE(server->ready()) << "redis-server did not answer PING";
  world.config.storage.kind = "redis";
  world.config.storage.key_prefix = "engine";
  world.config.storage.nodes = {server->address()};
  std::vector<Event> batch;
  for (std::size_t serial = 0; serial < 200; ++serial)
    batch.push_back(world.make_event(4, kStart + static_cast<TimeMs>(serial) * kHourMs, serial));
  const TimeMs as_of = kStart + 200 * kHourMs;
  Value before;
  {
    Engine engine(world.config);
    ASSERT_TRUE(engine.ingest(batch).rejected.empty());
    before = engine.query(1000, {}, as_of);
  }
  EXPECT_EQ(server->command({"HGET", "{engine}:meta", "format"}), "signalbox-redis-2");
  server->command({"HSET", "{engine}:meta", "format", "signalbox-redis-1"});
  {
    Engine engine(world.config);
    EXPECT_EQ(diff(before, engine.query(1000, {}, as_of), 0), "");
  }
  EXPECT_EQ(server->command({"HGET", "{engine}:meta", "format"}), "signalbox-redis-2");
  server->command({"HSET", "{engine}:meta", "format", "signalbox-redis-3"});
  try {
    Engine engine(world.config);
    ADD_FAILURE() << "a store of format signalbox-redis-3 was opened";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("\"signalbox-redis-3\""), std::string::npos) << e.what();
  }
}

// A 3-node cluster of its own for each redirection test, and a merger keeping the newest
// operand (these tests look at routing, not at tile merging).
class RedisClusterRedirect : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(have_program("redis-server"))
        << "redis-server is not installed (Debian package redis-server)";
    ASSERT_TRUE(have_program("redis-cli"))
        << "redis-cli is not installed (Debian package redis-tools)";
    cluster = std::make_unique<RedisClusterProcesses>();
    ASSERT_TRUE(cluster->ready()) << "the Redis Cluster did not come up";
  }

  std::unique_ptr<RedisClusterProcesses> cluster;
  LastOperandMerger merger;
};

// A store keeps its slot map from when it opened; after a slot moves to another node, its
// first command there is answered MOVED, which it follows.
TEST_F(RedisClusterRedirect, MovedAfterASlotMovesIsFollowed) {
  RedisStoreOptions options;
  options.cluster.nodes = {cluster->addresses()[0]};  // one seed is enough
  options.key_prefix = "moved";
  std::unique_ptr<Store> store = open_redis_store(options, merger);
  const std::uint64_t user = 42;
  const int slot = RedisCluster::key_slot("{moved:42}:e");
  const std::size_t from = cluster->owner(slot);
  ASSERT_LT(from, 3u);
  CommitBatch b;
  b.events = {StoredEvent{user, kStart, "a", "body-a", true}};
  b.high_water = kStart;
  store->commit(b);
  const std::size_t to = (from + 1) % 3;
  ASSERT_TRUE(cluster->move_slot(slot, from, to)) << "could not move slot " << slot;
  EXPECT_EQ(cluster->node(from).command({"EXISTS", "{moved:42}:e"}).substr(0, 5), "MOVED");
  std::vector<std::pair<std::uint64_t, std::string>> ids = {{user, "a"}, {user, "b"}};
  EXPECT_EQ(store->contains(ids), (std::vector<bool>{true, false}));
  b.events = {StoredEvent{user, kStart + 1, "b", "body-b", true}};
  b.high_water = kStart + 1;
  store->commit(b);
  EXPECT_EQ(cluster->node(to).command({"ZCARD", "{moved:42}:e"}), "2");
  std::vector<std::string> bodies;
  store->snapshot()->scan_events(user, kBeginningOfTime, kStart + 10,
                                 [&](std::string_view body) { bodies.emplace_back(body); });
  EXPECT_EQ(bodies, (std::vector<std::string>{"body-a", "body-b"}));
}

// During a migration the slot's old node answers ASK for the keys already moved; the store
// asks the new node (ASKING first) for those commands without taking it for the owner.
TEST_F(RedisClusterRedirect, AskDuringASlotMigrationIsFollowed) {
  RedisStoreOptions options;
  options.cluster.nodes = cluster->addresses();
  options.key_prefix = "ask";
  std::unique_ptr<Store> store = open_redis_store(options, merger);
  const std::uint64_t user = 7;
  const int slot = RedisCluster::key_slot("{ask:7}:e");
  const std::size_t from = cluster->owner(slot);
  ASSERT_LT(from, 3u);
  CommitBatch b;
  // Every key of the user exists (events, bodies, ids, tiles): a script over keys some of
  // which are still to migrate would be answered TRYAGAIN instead.
  b.events = {StoredEvent{user, kStart, "a", "body-a", true}};
  b.tiles = {TileDelta{TileKey{user, TileKind::kHour, kStart}, {StateDelta{1, "x"}}}};
  b.high_water = kStart;
  store->commit(b);
  const std::size_t to = (from + 1) % 3;
  ASSERT_TRUE(cluster->migrate_slot(slot, from, to)) << "could not migrate slot " << slot;
  EXPECT_EQ(cluster->node(from).command({"EXISTS", "{ask:7}:e"}).substr(0, 3), "ASK");
  std::vector<std::pair<std::uint64_t, std::string>> ids = {{user, "a"}, {user, "b"}};
  EXPECT_EQ(store->contains(ids), (std::vector<bool>{true, false}));
  b.events = {StoredEvent{user, kStart + 1, "b", "body-b", true}};
  b.high_water = kStart + 1;
  store->commit(b);
  std::vector<std::string> bodies;
  store->snapshot()->scan_events(user, kBeginningOfTime, kStart + 10,
                                 [&](std::string_view body) { bodies.emplace_back(body); });
  EXPECT_EQ(bodies, (std::vector<std::string>{"body-a", "body-b"}));
  EXPECT_EQ(cluster->owner(slot), from) << "the slot was not to move yet";
}

}  // namespace
}  // namespace signalbox::testing
