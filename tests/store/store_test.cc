// One suite for every store backend: RocksDB, a single redis-server and a three-master Redis
// Cluster, each started by the test. The tile states here are decimal counts merged by
// addition, so the expected merges are plain sums the test works out itself.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>

#include "redis_servers.h"
#include "reply_losing_proxy.h"
#include "signalbox/common/bytes.h"
#include "signalbox/common/error.h"
#include "signalbox/common/temp_folder.h"
#include "signalbox/store/redis/redis_scripts.h"
#include "signalbox/store/redis/redis_store.h"
#include "signalbox/store/rocksdb/rocksdb_store.h"

namespace signalbox::testing {
namespace {

constexpr TimeMs kT0 = 1704067200000;  // 2024-01-01T00:00:00Z

// Sums decimal counts; for a state it does not know, the newest operand (as the engine's).
class CountMerger final : public TileMerger {
 public:
  std::string merge(std::uint64_t state_id,
                    std::span<const std::string_view> operands) const override {
    if (state_id >= 100) return std::string(operands.back());
    long long total = 0;
    for (std::string_view op : operands) {
      long long v = 0;
      std::from_chars(op.data(), op.data() + op.size(), v);
      total += v;
    }
    return std::to_string(total);
  }
};

enum class Backend { kRocksDb, kRedis, kCluster };

std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  switch (info.param) {
    case Backend::kRocksDb:
      return "RocksDb";
    case Backend::kRedis:
      return "Redis";
    case Backend::kCluster:
      return "RedisCluster";
  }
  return "";
}

StoredEvent event(std::uint64_t user, TimeMs ts, std::string id, bool keep_raw = true) {
  return StoredEvent{user, ts, id, "body:" + id, keep_raw};
}

TileDelta delta(std::uint64_t user, TileKind kind, TimeMs start,
                std::vector<std::pair<std::uint64_t, int>> states) {
  TileDelta d{TileKey{user, kind, start}, {}};
  for (auto [state, n] : states) d.states.push_back(StateDelta{state, std::to_string(n)});
  return d;
}

std::vector<std::string> scan(StoreSnapshot& s, std::uint64_t user, TimeMs from, TimeMs to) {
  std::vector<std::string> out;
  s.scan_events(user, from, to, [&](std::string_view bytes) { out.emplace_back(bytes); });
  return out;
}

// (kind, start, state, value) of each tile part read, in the order read.
using TileRow = std::tuple<TileKind, TimeMs, std::uint64_t, std::string>;
std::vector<TileRow> rows(const std::vector<StoredTile>& tiles) {
  std::vector<TileRow> out;
  for (const StoredTile& t : tiles) out.emplace_back(t.kind, t.start, t.state_id, t.state);
  return out;
}

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    // A parameterized test's name holds a '/', so a folder named after it would leave its
    // parent behind; a folder of its own is removed whole.
    folder_ = std::make_unique<TempFolder>(std::filesystem::temp_directory_path(),
                                           "signalbox-store-test");
    dir_ = folder_->path();
    if (GetParam() == Backend::kRocksDb) return;
    ASSERT_TRUE(have_program("redis-server"))
        << "redis-server is not installed (Debian package redis-server)";
    if (GetParam() == Backend::kRedis) {
      server_ = start_redis();
      ASSERT_TRUE(server_->ready()) << "redis-server did not answer PING";
    } else {
      ASSERT_TRUE(have_program("redis-cli"))
          << "redis-cli is not installed (Debian package redis-tools)";
      cluster_ = std::make_unique<RedisClusterProcesses>();
      ASSERT_TRUE(cluster_->ready()) << "the Redis Cluster did not come up";
    }
  }
  void TearDown() override {
    stores_.clear();
    folder_.reset();
  }

  bool redis() const { return GetParam() != Backend::kRocksDb; }

  RedisStoreOptions redis_options() const {
    RedisStoreOptions options;
    options.cluster.nodes =
        cluster_ ? cluster_->addresses() : std::vector<std::string>{server_->address()};
    options.key_prefix = "test";
    return options;
  }

  // A store on the backend; for Redis another call opens another client of the same data
  // (as a second process would).
  Store& open() {
    if (GetParam() == Backend::kRocksDb) {
      stores_.clear();
      stores_.push_back(open_rocksdb_store(RocksDbOptions{dir_ / "db", false, false}, merger_));
    } else {
      stores_.push_back(open_redis_store(redis_options(), merger_));
    }
    return *stores_.back();
  }

  static RetentionPolicy policy(TimeMs retention, TimeMs late_horizon) {
    RetentionPolicy p;
    p.retention = retention;
    p.late_horizon = late_horizon;
    p.states[1] = StatePolicy{30 * kDayMs, false};
    p.states[2] = StatePolicy{kDayMs, true};
    return p;
  }

  CountMerger merger_;
  std::unique_ptr<TempFolder> folder_;
  std::filesystem::path dir_;
  std::unique_ptr<RedisProcess> server_;
  std::unique_ptr<RedisClusterProcesses> cluster_;
  std::vector<std::unique_ptr<Store>> stores_;
};

TEST_P(StoreTest, CommittedIdsAreFoundAndOthersNot) {
  Store& store = open();
  EXPECT_EQ(store.high_water(), kBeginningOfTime);
  CommitBatch b;
  b.events = {event(1, kT0, "a"), event(1, kT0 + 5, "b"), event(2, kT0 + 1, "a")};
  b.high_water = kT0 + 5;
  store.commit(b);
  std::vector<std::pair<std::uint64_t, std::string>> ids = {{1, "a"}, {1, "b"}, {2, "a"},
                                                            {2, "b"}, {3, "a"}, {1, "c"}};
  EXPECT_EQ(store.contains(ids), (std::vector<bool>{true, true, true, false, false, false}));
  EXPECT_EQ(store.high_water(), kT0 + 5);
}

TEST_P(StoreTest, NotesAreKeptUntilDeletedAndSurviveAReopen) {
  Store& store = open();
  EXPECT_EQ(store.read_note("replay_checkpoint"), std::nullopt);
  store.write_note("replay_checkpoint", "first\nline two");
  store.write_note("replay_checkpoint", "second\nline two");
  store.write_note("other", "x");
  Store& again = open();
  EXPECT_EQ(again.read_note("replay_checkpoint"), "second\nline two");
  EXPECT_EQ(again.read_note("other"), "x");
  again.write_note("replay_checkpoint", std::nullopt);
  EXPECT_EQ(again.read_note("replay_checkpoint"), std::nullopt);
  EXPECT_EQ(again.read_note("other"), "x");
}

TEST_P(StoreTest, KeepRawFalseKeepsTheIdButNoRawCopy) {
  Store& store = open();
  CommitBatch b;
  b.events = {event(1, kT0, "kept"), event(1, kT0 + 1, "id-only", false)};
  b.high_water = kT0 + 1;
  store.commit(b);
  std::vector<std::pair<std::uint64_t, std::string>> ids = {{1, "kept"}, {1, "id-only"}};
  EXPECT_EQ(store.contains(ids), (std::vector<bool>{true, true}));
  auto snap = store.snapshot();
  EXPECT_EQ(scan(*snap, 1, kBeginningOfTime, kT0 + kDayMs),
            (std::vector<std::string>{"body:kept"}));
}

TEST_P(StoreTest, SnapshotScansEventsByTimeWithinTheRange) {
  Store& store = open();
  CommitBatch b;
  // Out of order, two at the same ts (ordered by id), another user's in between.
  b.events = {event(7, kT0 + 30, "d"), event(7, kT0 + 10, "b"), event(8, kT0 + 15, "x"),
              event(7, kT0 + 10, "a"), event(7, kT0 + 20, "c"), event(7, kT0 + 40, "e")};
  b.high_water = kT0 + 40;
  store.commit(b);
  auto snap = store.snapshot();
  EXPECT_EQ(snap->high_water(), kT0 + 40);
  EXPECT_EQ(scan(*snap, 7, kT0 + 10, kT0 + 30),
            (std::vector<std::string>{"body:a", "body:b", "body:c", "body:d"}));
  EXPECT_EQ(scan(*snap, 7, kT0 + 11, kT0 + 19), std::vector<std::string>{});
  EXPECT_EQ(scan(*snap, 8, kBeginningOfTime, kT0 + 100), std::vector<std::string>{"body:x"});
  EXPECT_EQ(snap->users(0, 10), (std::vector<std::uint64_t>{7, 8}));
  EXPECT_EQ(snap->users(8, 10), (std::vector<std::uint64_t>{8}));
  EXPECT_EQ(snap->users(0, 1), (std::vector<std::uint64_t>{7}));
}

// A query scans several ranges of one user on one snapshot, ascending (a backend may go on
// from where the last scan stopped rather than seek again): every range still sees exactly
// its events, whether the gap before it holds events or not, and so do ranges of another user,
// ranges going back and scans after a holds_user() look-up.
TEST_P(StoreTest, SuccessiveScansOfOneSnapshotEachSeeTheirRange) {
  Store& store = open();
  CommitBatch b;
  b.events = {event(7, kT0 + 10, "a"), event(7, kT0 + 20, "b"), event(7, kT0 + 30, "c"),
              event(7, kT0 + 50, "d"), event(8, kT0 + 5, "x"),  event(8, kT0 + 60, "y"),
              event(6, kT0 + 70, "w")};
  b.high_water = kT0 + 70;
  store.commit(b);
  auto snap = store.snapshot();
  using Bodies = std::vector<std::string>;
  EXPECT_EQ(scan(*snap, 7, kT0, kT0 + 10), Bodies{"body:a"});
  EXPECT_EQ(scan(*snap, 7, kT0 + 11, kT0 + 15), Bodies{});          // nothing, touching
  EXPECT_EQ(scan(*snap, 7, kT0 + 30, kT0 + 40), Bodies{"body:c"});  // "b" in the gap
  EXPECT_EQ(scan(*snap, 7, kT0 + 45, kT0 + 49), Bodies{});          // "d" just after
  EXPECT_EQ(scan(*snap, 7, kT0 + 50, kT0 + 50), Bodies{"body:d"});
  EXPECT_EQ(scan(*snap, 7, kT0 + 51, kT0 + 100), Bodies{});         // past the user
  EXPECT_EQ(scan(*snap, 8, kT0 + 6, kT0 + 100), Bodies{"body:y"});  // another user
  EXPECT_EQ(scan(*snap, 7, kT0 + 20, kT0 + 20), Bodies{"body:b"});  // going back
  EXPECT_EQ(scan(*snap, 7, kT0 + 21, kT0 + 100), (Bodies{"body:c", "body:d"}));
  EXPECT_TRUE(snap->holds_user(6));
  EXPECT_EQ(scan(*snap, 7, kT0 + 101, kT0 + 200), Bodies{});
  EXPECT_EQ(scan(*snap, 7, kT0 + 10, kT0 + 10), Bodies{"body:a"});
  EXPECT_TRUE(snap->holds_user(7));
  EXPECT_EQ(scan(*snap, 7, kT0 + 11, kT0 + 30), (Bodies{"body:b", "body:c"}));
  EXPECT_EQ(scan(*snap, 6, kT0, kT0 + 100), Bodies{"body:w"});
}

// A user with more events than one read fetches at once (the Redis store reads the bodies 256
// to a call): every body comes back, in time order, at and around the fetches' edges.
TEST_P(StoreTest, AUserOfManyEventsIsReadWhole) {
  Store& store = open();
  constexpr int kEvents = 600;
  CommitBatch b;
  std::vector<std::string> expected;
  for (int i = kEvents - 1; i >= 0; --i)
    b.events.push_back(event(9, kT0 + i, fmt::format("e{:03}", i)));
  for (int i = 0; i < kEvents; ++i) expected.push_back(fmt::format("body:e{:03}", i));
  b.high_water = kT0 + kEvents;
  store.commit(b);
  auto snap = store.snapshot();
  EXPECT_EQ(scan(*snap, 9, kBeginningOfTime, kT0 + kEvents), expected);
  EXPECT_EQ(scan(*snap, 9, kT0 + 255, kT0 + 256),
            (std::vector<std::string>{"body:e255", "body:e256"}));
  EXPECT_EQ(scan(*snap, 9, kT0 + 511, kT0 + 512),
            (std::vector<std::string>{"body:e511", "body:e512"}));
}

// A snapshot is of one moment for a user whether it reads the user at once or in parts (a
// shared store reads a user of many events by its tiles first and then the ranges of events
// asked for): a commit or an expiry of the user after its tiles were read either does not
// show or makes the next read of events throw SnapshotMoved, never shows in part. Told to
// read users whole, a snapshot never throws it.
TEST_P(StoreTest, AUserReadInPartsIsOfOneMomentOrSaysItMoved) {
  Store& store = open();
  const std::vector<std::uint64_t> state = {1};
  auto write = [&](std::uint64_t user, TimeMs ts, const std::string& id) {
    CommitBatch b;
    b.events = {event(user, ts, id)};
    b.tiles = {delta(user, TileKind::kHour, floor_hour(ts), {{1, 1}})};
    b.high_water = std::max(store.high_water(), ts);
    store.commit(b);
  };
  CommitBatch b;
  for (int i = 0; i < 600; ++i) b.events.push_back(event(9, kT0 + i, fmt::format("e{:03}", i)));
  b.tiles = {delta(9, TileKind::kHour, floor_hour(kT0), {{1, 600}})};
  for (int i = 0; i < 5; ++i) b.events.push_back(event(8, kT0 + i, fmt::format("f{}", i)));
  b.high_water = kT0 + 600;
  store.commit(b);
  const std::vector<std::string> before = {"body:e010", "body:e011", "body:e012"};
  // What a read of events after a change gives: its events, or "moved".
  auto events_after = [&](StoreSnapshot& snap, std::uint64_t user, TimeMs from, TimeMs to) {
    try {
      return scan(snap, user, from, to);
    } catch (const SnapshotMoved&) {
      return std::vector<std::string>{"moved"};
    }
  };
  {
    auto snap = store.snapshot();
    ASSERT_EQ(snap->tiles(9, state, kBeginningOfTime, kT0 + kDayMs).size(), 1u);
    EXPECT_EQ(scan(*snap, 9, kT0 + 10, kT0 + 12), before) << "nothing changed in between";
    EXPECT_TRUE(snap->holds_user(9));
    write(9, kT0 + 11, "new");
    const std::vector<std::string> after = events_after(*snap, 9, kT0 + 10, kT0 + 12);
    if (redis())
      EXPECT_EQ(after, std::vector<std::string>{"moved"});
    else
      EXPECT_EQ(after, before);
  }
  {
    // A user of a few events is read whole with its tiles: a later change never shows.
    auto snap = store.snapshot();
    ASSERT_EQ(snap->tiles(8, state, kBeginningOfTime, kT0 + kDayMs).size(), 0u);
    write(8, kT0 + 2, "g");
    EXPECT_EQ(scan(*snap, 8, kT0, kT0 + 4),
              (std::vector<std::string>{"body:f0", "body:f1", "body:f2", "body:f3", "body:f4"}));
  }
  write(9, kT0 + kDayMs + kHourMs, "later");  // stream time a day on
  {
    // An expiry in between (of events at or before kT0 + 1h).
    auto snap = store.snapshot();
    snap->tiles(9, state, kBeginningOfTime, kT0 + 2 * kDayMs);
    store.expire(policy(kDayMs, kDayMs), {.fold_base = false});
    const std::vector<std::string> after = events_after(*snap, 9, kT0 + kDayMs, kT0 + 2 * kDayMs);
    if (redis())
      EXPECT_EQ(after, std::vector<std::string>{"moved"});
    else
      EXPECT_EQ(after, std::vector<std::string>{"body:later"});
  }
  {
    auto snap = store.snapshot();
    snap->read_users_whole();
    snap->tiles(9, state, kBeginningOfTime, kT0 + 2 * kDayMs);
    write(9, kT0 + kDayMs + kHourMs + 1, "newer");
    EXPECT_EQ(scan(*snap, 9, kT0 + kDayMs, kT0 + 2 * kDayMs),
              (std::vector<std::string>{"body:later"}));
  }
}

TEST_P(StoreTest, TileDeltasAreMergedAndReadByKindThenStart) {
  Store& store = open();
  const TimeMs day = floor_day(kT0), hour = kT0 + 3 * kHourMs;
  for (int round = 0; round < 40; ++round) {  // enough operands for a Redis compaction or two
    CommitBatch b;
    b.events = {event(5, hour + round, "e" + std::to_string(round))};
    b.tiles = {delta(5, TileKind::kHour, hour, {{1, 1}, {2, round}}),
               delta(5, TileKind::kDay, day, {{1, 1}})};
    if (round % 2 == 0) b.tiles.push_back(delta(5, TileKind::kDay, day + kDayMs, {{2, 3}}));
    b.high_water = hour + round;
    store.commit(b);
  }
  auto snap = store.snapshot();
  const std::vector<std::uint64_t> both = {1, 2}, only2 = {2};
  std::vector<TileRow> expected = {{TileKind::kDay, day, 1, "40"},
                                   {TileKind::kDay, day + kDayMs, 2, "60"},
                                   {TileKind::kHour, hour, 1, "40"},
                                   {TileKind::kHour, hour, 2, std::to_string(39 * 40 / 2)}};
  EXPECT_EQ(rows(snap->tiles(5, both, kBeginningOfTime, day + 2 * kDayMs)), expected);
  EXPECT_EQ(rows(snap->tiles(5, only2, day + kHourMs, day + 2 * kDayMs)),
            (std::vector<TileRow>{{TileKind::kDay, day + kDayMs, 2, "60"},
                                  {TileKind::kHour, hour, 2, std::to_string(39 * 40 / 2)}}));
  EXPECT_TRUE(snap->tiles(6, both, kBeginningOfTime, day + 2 * kDayMs).empty());
  // Compacting changes no answer.
  store.expire(policy(100 * kDayMs, 100 * kDayMs), {.fold_base = false, .compact_tiles = true});
  EXPECT_EQ(rows(store.snapshot()->tiles(5, both, kBeginningOfTime, day + 2 * kDayMs)), expected);
}

// A selection reads the tiles in its ranges and no others, whatever lies between them, flushed
// or not (the embedded store seeks past the gaps and reads write-behind values beside the
// stored ones): the same parts as a read of everything, filtered by the selection.
TEST_P(StoreTest, ASelectionReadsTheTilesInItsRangesAndNoOthers) {
  Store& store = open();
  const TimeMs day = floor_day(kT0);
  const TimeMs high = day + 19 * kDayMs + 5 * kHourMs;
  auto commit_days = [&](int round, int from_day) {
    CommitBatch b;
    for (int d = from_day; d < 20; ++d) {
      b.tiles.push_back(delta(3, TileKind::kDay, day + d * kDayMs, {{1, round + d}, {2, 1}}));
      b.tiles.push_back(delta(4, TileKind::kDay, day + d * kDayMs, {{1, 1}}));  // a neighbour
    }
    for (int h = 0; h < 6; ++h)
      for (int d : {17, 19})
        b.tiles.push_back(delta(3, TileKind::kHour, day + d * kDayMs + h * kHourMs, {{1, round}}));
    b.high_water = high;
    store.commit(b);
  };
  commit_days(1, 0);
  // Old days of state 2 folded into a base tile, every tile compacted; then values on top.
  store.expire(policy(5 * kDayMs, 10 * kDayMs), {.fold_base = true, .compact_tiles = true});
  commit_days(2, 3);
  const std::vector<std::uint64_t> states = {1, 2};
  auto snap = store.snapshot();
  const std::vector<StoredTile> all = snap->tiles(3, states, kBeginningOfTime, high);
  ASSERT_EQ(all.front().kind, TileKind::kBase) << "the fold left a base tile";
  auto at = [&](int d) { return day + d * kDayMs; };
  const std::vector<TileSelection> selections = {
      {true, {{at(2), at(4)}, {at(9), at(9)}, {at(15), at(18)}}, {{at(17), high}}},
      {false, {{at(0), at(1)}, {at(12), at(13)}}, {{at(19) + 2 * kHourMs, at(19) + 3 * kHourMs}}},
      {false, {}, {{at(17) + kHourMs, at(17) + 2 * kHourMs}, {at(19) + 4 * kHourMs, high}}},
      {true,
       {{at(16), at(16)}, {at(18), at(18)}},
       {{at(17), at(17) + 5 * kHourMs}, {at(19), at(19)}}},
      {true, {{at(18), high}}, {}},
      {false, {{at(19) + 1, at(25)}}, {{high + 1, high + kDayMs}}},
  };
  for (std::size_t i = 0; i < selections.size(); ++i) {
    const TileSelection& selection = selections[i];
    std::vector<StoredTile> expected;
    for (const StoredTile& t : all)
      if (selection.selects(t.kind, t.start)) expected.push_back(t);
    EXPECT_EQ(rows(snap->tiles(3, states, selection)), rows(expected)) << "selection " << i;
  }
  EXPECT_TRUE(snap->tiles(3, states, selections.back()).empty());
}

TEST_P(StoreTest, ExpiryDropsOldEventsKeepsIdsForTheLateHorizonAndFoldsBaseStates) {
  Store& store = open();
  const TimeMs day = floor_day(kT0);
  CommitBatch b;
  // Events on days 0..19; state 1 is windowed (30 days), state 2 keeps a base.
  for (int d = 0; d < 20; ++d) {
    b.events.push_back(event(3, day + d * kDayMs + kHourMs, "d" + std::to_string(d)));
    b.tiles.push_back(delta(3, TileKind::kDay, day + d * kDayMs, {{1, 1}, {2, d}, {150, 9}}));
    b.tiles.push_back(delta(3, TileKind::kHour, day + d * kDayMs, {{1, 1}}));
  }
  b.high_water = day + 19 * kDayMs + kHourMs;
  store.commit(b);
  const TimeMs high = b.high_water;
  // Raw events kept for 5 days, ids for 10.
  store.expire(policy(5 * kDayMs, 10 * kDayMs),
               {.fold_base = true, .compact_tiles = true, .compact = true});
  EXPECT_EQ(store.ids_expired_through(), high - 10 * kDayMs);
  auto snap = store.snapshot();
  EXPECT_GE(snap->expired_through(), high - 5 * kDayMs);
  std::vector<std::string> expected_events;
  for (int d = 15; d < 20; ++d) expected_events.push_back("body:d" + std::to_string(d));
  EXPECT_EQ(scan(*snap, 3, kBeginningOfTime, high), expected_events);
  std::vector<std::pair<std::uint64_t, std::string>> ids;
  for (int d = 0; d < 20; ++d) ids.emplace_back(3, "d" + std::to_string(d));
  std::vector<bool> found = store.contains(ids);
  for (int d = 0; d < 20; ++d) EXPECT_EQ(found[d], d >= 10) << "id of day " << d;
  // Day tiles before the day preceding the horizon (day 13) folded state 2 into the base;
  // state 1 (30-day window) stays in its day tiles; the unknown state 150 is gone; hour
  // tiles before day 13 are gone.
  const TimeMs keep_from = floor_day(high - 5 * kDayMs) - kDayMs;
  const int keep_day = static_cast<int>((keep_from - day) / kDayMs);
  ASSERT_EQ(keep_day, 13);
  const std::vector<std::uint64_t> states = {1, 2, 150};
  std::vector<StoredTile> tiles = snap->tiles(3, states, kBeginningOfTime, high);
  int folded = 0;
  for (int d = 0; d < keep_day; ++d) folded += d;
  ASSERT_FALSE(tiles.empty());
  EXPECT_EQ(tiles[0].kind, TileKind::kBase);
  EXPECT_EQ(tiles[0].state_id, 2u);
  EXPECT_EQ(tiles[0].state, std::to_string(folded));
  EXPECT_EQ(tiles[0].covered_through, keep_from - 1);
  std::map<std::pair<int, std::uint64_t>, std::string> days;
  std::vector<int> hours;
  for (std::size_t i = 1; i < tiles.size(); ++i) {
    EXPECT_NE(tiles[i].state_id, 150u);
    if (tiles[i].kind == TileKind::kDay)
      days[{static_cast<int>((tiles[i].start - day) / kDayMs), tiles[i].state_id}] = tiles[i].state;
    if (tiles[i].kind == TileKind::kHour)
      hours.push_back(static_cast<int>((tiles[i].start - day) / kDayMs));
  }
  for (int d = 0; d < 20; ++d) {
    const std::pair<int, std::uint64_t> state1{d, 1}, state2{d, 2};
    EXPECT_EQ(days[state1], "1") << "day " << d;
    if (d < keep_day)
      EXPECT_EQ(days.count(state2), 0u) << "day " << d;
    else
      EXPECT_EQ(days[state2], std::to_string(d)) << "day " << d;
  }
  EXPECT_EQ(hours, (std::vector<int>{13, 14, 15, 16, 17, 18, 19}));
}

// A snapshot made before an expiry and read after it: whatever the backend shows of the
// user (RocksDB: everything, as of the snapshot; Redis: the user as read after the expiry),
// the horizons asked after the read hold for it: every event committed after the raw horizon
// is there. The query planner reads raw events after that horizon and nothing before it.
TEST_P(StoreTest, HorizonsAskedAfterAUserIsReadHoldForItsDataThoughAnExpiryRanBetween) {
  Store& store = open();
  const TimeMs day = floor_day(kT0);
  CommitBatch b;
  std::vector<std::pair<TimeMs, std::string>> committed;
  for (int d = 0; d < 20; ++d) {
    const TimeMs ts = day + d * kDayMs + kHourMs;
    b.events.push_back(event(3, ts, "d" + std::to_string(d)));
    committed.emplace_back(ts, "body:d" + std::to_string(d));
    b.tiles.push_back(delta(3, TileKind::kDay, day + d * kDayMs, {{1, 1}}));
  }
  b.high_water = committed.back().first;
  store.commit(b);
  std::unique_ptr<StoreSnapshot> before = store.snapshot();
  // Another client of the same data expires meanwhile (for RocksDB, the same store).
  Store& other = redis() ? open() : store;
  other.expire(policy(5 * kDayMs, 10 * kDayMs),
               {.fold_base = false, .compact_tiles = true, .compact = false});

  const std::vector<std::string> seen = scan(*before, 3, kBeginningOfTime, b.high_water);
  const TimeMs horizon = before->expired_through();
  std::vector<std::string> expected;
  for (const auto& [ts, body] : committed)
    if (ts > horizon) expected.push_back(body);
  std::vector<std::string> seen_after_horizon;
  for (const std::string& body : seen)
    if (std::find(expected.begin(), expected.end(), body) != expected.end())
      seen_after_horizon.push_back(body);
  EXPECT_EQ(seen_after_horizon, expected) << "raw horizon " << horizon;
  if (redis()) {
    EXPECT_EQ(horizon, b.high_water - 5 * kDayMs);
    EXPECT_EQ(before->high_water(), b.high_water);
  }
}

// An expiry in slices of one user, with commits between the slices (a late value for a user
// already visited, and for one not yet): continue_fold() goes on until every user is visited,
// and then each user's base-keeping state, over its base and day tiles, holds every value
// committed exactly once, and every day before the fold's day is folded for users that got
// no late value.
TEST_P(StoreTest, AnExpiryInSlicesVisitsEveryUserWithCommitsInBetween) {
  Store& store = open();
  const TimeMs day = floor_day(kT0);
  constexpr std::uint64_t kUsers = 5;
  std::map<std::uint64_t, int> committed;  // state 2, per user
  CommitBatch b;
  for (std::uint64_t user = 1; user <= kUsers; ++user) {
    for (int d = 0; d < 20; ++d) {
      b.events.push_back(event(user, day + d * kDayMs + kHourMs, "d" + std::to_string(d)));
      b.tiles.push_back(delta(user, TileKind::kDay, day + d * kDayMs, {{1, 1}, {2, d}}));
      committed[user] += d;
    }
  }
  b.high_water = day + 19 * kDayMs + kHourMs;
  store.commit(b);
  const TimeMs high = b.high_water;
  store.expire(policy(5 * kDayMs, 10 * kDayMs), {.fold_base = true, .fold_slice_users = 1});
  std::size_t slices = 1;
  auto late = [&](std::uint64_t user, const std::string& id) {
    CommitBatch l;
    l.events.push_back(event(user, day + 2 * kDayMs + kHourMs, id));
    l.tiles.push_back(delta(user, TileKind::kDay, day + 2 * kDayMs, {{2, 100}}));
    l.high_water = high;
    store.commit(l);
    committed[user] += 100;
  };
  late(1, "late-1");                               // user 1 was visited by the first slice
  late(kUsers, "late-" + std::to_string(kUsers));  // the last user is not yet
  while (store.continue_fold(1)) ++slices;
  EXPECT_GE(slices, kUsers - 1) << "the expiry did not go a user at a time";
  EXPECT_FALSE(store.continue_fold(0)) << "the pass is over";

  const TimeMs keep_from = floor_day(high - 5 * kDayMs) - kDayMs;
  const std::vector<std::uint64_t> states = {2};
  auto snap = store.snapshot();
  for (std::uint64_t user = 1; user <= kUsers; ++user) {
    int total = 0;
    bool old_day_left = false;
    for (const StoredTile& t : snap->tiles(user, states, kBeginningOfTime, high)) {
      if (t.kind == TileKind::kHour) continue;
      total += std::stoi(std::string(t.state));
      if (t.kind == TileKind::kDay && t.start < keep_from) old_day_left = true;
    }
    EXPECT_EQ(total, committed[user]) << "user " << user;
    if (user != 1) {
      EXPECT_FALSE(old_day_left) << "user " << user << " kept a day to fold";
    }
  }
}

TEST_P(StoreTest, IdsHoldKeepsIdsForASlowerInput) {
  Store& store = open();
  CommitBatch b;
  for (int d = 0; d < 10; ++d)
    b.events.push_back(event(4, kT0 + d * kDayMs, "d" + std::to_string(d)));
  b.high_water = kT0 + 9 * kDayMs;
  store.commit(b);
  // The slowest input is at day 6: ids after day 6 - 2 days stay, though stream time is at 9.
  store.expire(policy(kDayMs, 2 * kDayMs), {.ids_hold = kT0 + 6 * kDayMs, .compact = true});
  EXPECT_EQ(store.ids_expired_through(), kT0 + 4 * kDayMs);
  std::vector<std::pair<std::uint64_t, std::string>> ids;
  for (int d = 0; d < 10; ++d) ids.emplace_back(4, "d" + std::to_string(d));
  std::vector<bool> found = store.contains(ids);
  for (int d = 0; d < 10; ++d) EXPECT_EQ(found[d], d > 4) << "day " << d;
  // The horizon never moves back.
  store.expire(policy(kDayMs, 2 * kDayMs), {.ids_hold = kT0, .compact = true});
  EXPECT_EQ(store.ids_expired_through(), kT0 + 4 * kDayMs);
}

TEST_P(StoreTest, StreamTimeIsTheHighestCommittedAndSharedByEveryClient) {
  Store& first = open();
  CommitBatch b;
  b.events = {event(1, kT0 + 100, "a")};
  b.high_water = kT0 + 100;
  first.commit(b);
  b.events = {event(1, kT0 + 50, "b")};
  b.high_water = kT0 + 50;  // a late batch does not move stream time back
  first.commit(b);
  EXPECT_EQ(first.high_water(), kT0 + 100);
  if (!redis()) return;
  Store& second = open();  // another process on the same Redis
  EXPECT_EQ(second.high_water(), kT0 + 100);
  b.events = {event(2, kT0 + 500, "c")};
  b.high_water = kT0 + 500;
  second.commit(b);
  EXPECT_EQ(first.high_water(), kT0 + 500);
  EXPECT_EQ(first.snapshot()->high_water(), kT0 + 500);
}

// What only a shared store has: other writers, and a server that can go away.
class RedisStoreTest : public StoreTest {};

TEST_P(RedisStoreTest, CommitOfAnIdAnotherWriterStoredWritesNothingForThatUser) {
  Store& first = open();
  Store& second = open();
  CommitBatch b;
  b.events = {event(1, kT0, "a")};
  b.tiles = {delta(1, TileKind::kHour, kT0, {{1, 1}})};
  b.high_water = kT0;
  first.commit(b);
  // The second writer checked before the first committed: its batch repeats id a of user 1
  // and brings a new event of user 1 and one of user 2.
  CommitBatch late;
  late.events = {event(1, kT0, "a"), event(1, kT0 + 1, "b"), event(2, kT0 + 2, "z")};
  late.tiles = {delta(1, TileKind::kHour, kT0, {{1, 2}}), delta(2, TileKind::kHour, kT0, {{1, 1}})};
  late.high_water = kT0 + 2;
  EXPECT_THROW(second.commit(late), StorageError);
  std::vector<std::pair<std::uint64_t, std::string>> ids = {{1, "a"}, {1, "b"}, {2, "z"}};
  EXPECT_EQ(first.contains(ids), (std::vector<bool>{true, false, true}));
  auto snap = first.snapshot();
  const std::vector<std::uint64_t> states = {1};
  EXPECT_EQ(rows(snap->tiles(1, states, kBeginningOfTime, kT0 + kDayMs)),
            (std::vector<TileRow>{{TileKind::kHour, kT0, 1, "1"}}));
  EXPECT_EQ(rows(snap->tiles(2, states, kBeginningOfTime, kT0 + kDayMs)),
            (std::vector<TileRow>{{TileKind::kHour, kT0, 1, "1"}}));
}

// What needs one server of its own: a proxy in front of it.
class RedisSingleServerTest : public StoreTest {};

// RedisCluster sends a command again when its reply does not come within the timeout. A
// commit script whose first send was written after all (only its reply was lost) finds its
// commit's token and answers as the first send would have: the commit succeeds and every
// event, tile delta and count is stored once. Another commit of the same events is another
// writer's, refused as before.
TEST_P(RedisSingleServerTest, CommitWhoseReplyWasLostIsSentAgainAndCountsOnce) {
  Store& direct = open();
  const std::string commit_sha = server_->command({"SCRIPT", "LOAD", redis_scripts::kCommit});
  ReplyLosingProxy proxy(server_->port(), commit_sha);
  ASSERT_TRUE(proxy.ready());
  RedisStoreOptions options = redis_options();
  options.cluster.nodes = {proxy.address()};
  options.cluster.timeout = std::chrono::milliseconds(200);
  stores_.push_back(open_redis_store(options, merger_));
  Store& behind_proxy = *stores_.back();

  CommitBatch b;
  b.events = {event(1, kT0, "a"), event(1, kT0 + 1, "b", false), event(2, kT0 + 2, "z")};
  b.tiles = {delta(1, TileKind::kHour, kT0, {{1, 2}}), delta(2, TileKind::kHour, kT0, {{1, 1}})};
  b.high_water = kT0 + 2;
  EXPECT_NO_THROW(behind_proxy.commit(b));
  EXPECT_TRUE(proxy.triggered()) << "the proxy did not see the commit script run";

  const std::vector<std::pair<std::uint64_t, std::string>> ids = {{1, "a"}, {1, "b"}, {2, "z"}};
  const std::vector<std::uint64_t> states = {1};
  auto expect_stored_once = [&] {
    EXPECT_EQ(direct.contains(ids), (std::vector<bool>{true, true, true}));
    auto snap = direct.snapshot();
    EXPECT_EQ(scan(*snap, 1, kT0, kT0 + kDayMs), (std::vector<std::string>{"body:a"}));
    EXPECT_EQ(scan(*snap, 2, kT0, kT0 + kDayMs), (std::vector<std::string>{"body:z"}));
    EXPECT_EQ(rows(snap->tiles(1, states, kBeginningOfTime, kT0 + kDayMs)),
              (std::vector<TileRow>{{TileKind::kHour, kT0, 1, "2"}}));
    EXPECT_EQ(rows(snap->tiles(2, states, kBeginningOfTime, kT0 + kDayMs)),
              (std::vector<TileRow>{{TileKind::kHour, kT0, 1, "1"}}));
    EXPECT_EQ(direct.stats().events, 2u);  // raw events kept: a and z
    EXPECT_EQ(direct.high_water(), kT0 + 2);
  };
  expect_stored_once();

  // The same batch committed again is a commit of its own (a token of its own), as another
  // writer's would be: refused, nothing written twice.
  EXPECT_THROW(behind_proxy.commit(b), StorageError);
  EXPECT_THROW(direct.commit(b), StorageError);
  expect_stored_once();
}

// The count of raw events stored (StoreStats::events) is changed after the commit scripts, and
// after each page of an expiry, by a command of its own. When that command's reply is lost
// and the client sends it again, the second send finds the change's token among the recent
// counts and adds nothing: the count stays the number of raw events stored.
TEST_P(RedisSingleServerTest, EventCountWhoseReplyWasLostIsSentAgainAndCountsOnce) {
  Store& direct = open();
  const std::string count_sha = server_->command({"SCRIPT", "LOAD", redis_scripts::kCountEvents});
  auto behind_a_proxy = [&](const ReplyLosingProxy& proxy) -> Store& {
    RedisStoreOptions options = redis_options();
    options.cluster.nodes = {proxy.address()};
    options.cluster.timeout = std::chrono::milliseconds(200);
    stores_.push_back(open_redis_store(options, merger_));
    return *stores_.back();
  };

  ReplyLosingProxy commit_proxy(server_->port(), count_sha);
  ASSERT_TRUE(commit_proxy.ready());
  Store& committer = behind_a_proxy(commit_proxy);
  CommitBatch b;
  b.events = {event(1, kT0, "a"), event(1, kT0 + 1, "b", false), event(2, kT0 + 2, "z"),
              event(2, kT0 + 3 * kDayMs, "y")};
  b.high_water = kT0 + 3 * kDayMs;
  EXPECT_NO_THROW(committer.commit(b));
  EXPECT_TRUE(commit_proxy.triggered()) << "the proxy did not see the count script run";
  EXPECT_EQ(direct.stats().events, 3u);  // raw events kept: a, z and y

  // An expiry's count of the events it dropped, its reply lost likewise.
  ReplyLosingProxy expire_proxy(server_->port(), count_sha);
  ASSERT_TRUE(expire_proxy.ready());
  Store& expirer = behind_a_proxy(expire_proxy);
  EXPECT_NO_THROW(expirer.expire(policy(kDayMs, kDayMs), {}));
  EXPECT_TRUE(expire_proxy.triggered()) << "the proxy did not see the count script run";
  EXPECT_EQ(direct.stats().events, 1u);  // y alone is within the day kept
}

// Stream time and the horizons read for one snapshot serve the snapshots taken within
// horizons_reuse after it (an hour here): another process's commit shows in the user's data
// at once and in stream time only after that; this process's own commits and expiries show in
// both at once; a user found expired past the horizons kept has them read again. On one
// server, the snapshots after the first cost one script each and no read of stream time.
TEST_P(RedisStoreTest, SnapshotsShareARecentReadOfStreamTimeAndSeeTheirOwnWritesAtOnce) {
  RedisStoreOptions options = redis_options();
  options.horizons_reuse = std::chrono::hours(1);
  stores_.push_back(open_redis_store(options, merger_));
  Store& store = *stores_.back();
  Store& other = open();
  auto commit = [](Store& to, std::uint64_t user, TimeMs ts, const std::string& id) {
    CommitBatch b;
    b.events = {event(user, ts, id)};
    b.high_water = ts;
    to.commit(b);
  };
  commit(store, 1, kT0, "a");
  EXPECT_EQ(store.snapshot()->high_water(), kT0);
  commit(store, 1, kT0 + 5, "b");
  EXPECT_EQ(store.snapshot()->high_water(), kT0 + 5) << "its own commit shows at once";
  commit(other, 2, kT0 + 10, "c");
  {
    auto snap = store.snapshot();
    EXPECT_EQ(snap->high_water(), kT0 + 5) << "another process's commit: the reading kept";
    EXPECT_EQ(scan(*snap, 2, kT0, kT0 + 10), std::vector<std::string>{"body:c"});
  }
  commit(store, 3, kT0 + kDayMs + 100, "d");
  store.expire(policy(kDayMs, kDayMs), {.fold_base = false});  // raw events up to kT0 + 100
  EXPECT_EQ(store.snapshot()->expired_through(), kT0 + 100) << "its own expiry shows at once";
  commit(other, 3, kT0 + 2 * kDayMs, "e");
  other.expire(policy(kDayMs, kDayMs), {.fold_base = false});  // up to kT0 + kDayMs
  {
    auto snap = store.snapshot();
    EXPECT_EQ(snap->expired_through(), kT0 + 100) << "the reading kept";
    EXPECT_TRUE(scan(*snap, 3, kT0, kT0 + kDayMs).empty());
    EXPECT_EQ(snap->expired_through(), kT0 + kDayMs) << "read again: the user was expired past it";
    EXPECT_EQ(snap->high_water(), kT0 + 2 * kDayMs);
  }
  if (!server_) return;  // commands are counted on the single server
  auto commands_of = [&](Store& reader) {
    const std::uint64_t before = server_->commands_processed();
    for (std::uint64_t user : {1, 2, 3}) reader.snapshot()->holds_user(user);
    return server_->commands_processed() - before;
  };
  options.horizons_reuse = std::chrono::milliseconds(0);
  stores_.push_back(open_redis_store(options, merger_));
  EXPECT_EQ(commands_of(*stores_.back()) - commands_of(store), 3u)
      << "one read of stream time a snapshot, without the reuse";
}

// A user's tile version on Redis (the span cache's key, tile_versions.h's contract) moves with
// every write of the user's tiles, from any process: a commit's operands (#seq), an expiry
// (#expired) and a rewrite of the tiles (#rev); and with nothing else, another user's writes
// included.
TEST_P(RedisStoreTest, TileVersionMovesWithEveryWriteOfTheUsersTilesFromAnyProcess) {
  Store& store = open();
  Store& other = open();
  const TimeMs day = floor_day(kT0);
  auto commit = [&](Store& to, std::uint64_t user, TimeMs ts, const std::string& id) {
    CommitBatch b;
    b.events = {event(user, ts, id)};
    b.tiles = {delta(user, TileKind::kDay, floor_day(ts), {{1, 1}, {2, 1}})};
    b.high_water = ts;
    to.commit(b);
  };
  auto version = [&](std::uint64_t user) { return store.snapshot()->tile_version(user); };
  commit(store, 1, day + kHourMs, "a");
  const std::optional<std::uint64_t> first = version(1);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(version(1), first) << "nothing written since";
  commit(other, 2, day + 2 * kHourMs, "b");
  EXPECT_EQ(version(1), first) << "another user's commit";
  commit(other, 1, day + 3 * kHourMs, "c");
  const std::optional<std::uint64_t> after_commit = version(1);
  EXPECT_NE(after_commit, first) << "another process's commit of the user's tiles";
  commit(store, 1, day + 5 * kDayMs, "d");
  const std::optional<std::uint64_t> before_expiry = version(1);
  other.expire(policy(kDayMs, kDayMs), {.fold_base = true, .compact_tiles = true});
  const std::optional<std::uint64_t> after_expiry = version(1);
  EXPECT_NE(after_expiry, before_expiry) << "an expiry that rewrote the tiles";
  if (!server_) return;  // raw commands go to the single server
  EXPECT_NE(server_->command({"HGET", "{test:1}:t", "#rev"}), "") << "the rewrite raised #rev";
  server_->command({"HINCRBY", "{test:1}:t", "#rev", "1"});
  EXPECT_NE(version(1), after_expiry) << "#rev is part of the version";
}

TEST_P(RedisStoreTest, UnreachableIsAStorageErrorNamingTheNode) {
  Store& store = open();
  RedisStoreOptions options = redis_options();
  options.cluster.nodes = {"127.0.0.1:" + std::to_string(free_redis_port())};
  try {
    open_redis_store(options, merger_);
    ADD_FAILURE() << "no StorageError";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find(options.cluster.nodes[0]), std::string::npos) << e.what();
  }
  if (server_)
    server_->stop();
  else
    for (int i = 0; i < 3; ++i) cluster_->node(i).stop();
  CommitBatch b;
  b.events = {event(1, kT0, "a")};
  b.high_water = kT0;
  EXPECT_THROW(store.commit(b), StorageError);
  EXPECT_THROW(store.snapshot(), StorageError);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest,
                         ::testing::Values(Backend::kRocksDb, Backend::kRedis, Backend::kCluster),
                         backend_name);
INSTANTIATE_TEST_SUITE_P(Backends, RedisStoreTest,
                         ::testing::Values(Backend::kRedis, Backend::kCluster), backend_name);
INSTANTIATE_TEST_SUITE_P(Backends, RedisSingleServerTest, ::testing::Values(Backend::kRedis),
                         backend_name);

}  // namespace
}  // namespace signalbox::testing
