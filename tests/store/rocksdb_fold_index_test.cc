// The fold of old day tiles into base tiles visits only the users with day tiles written since
// the fold before (unfolded_days.h), and may go a slice of users at a time with commits in
// between (ExpireOptions::fold_slice_users, Store::continue_fold). The same commits and
// expiries go into a store that scans every user's tiles at each fold, all at once, and into
// stores that use the index: one reopened between folds (it takes back the index its close
// kept), one whose index overflows, and two that fold in slices (one of them reopened after a
// crash, so that its next fold walks every user in slices, with commits in between). Every
// user's tiles must come out the same, byte for
// byte, whatever order the day tiles were written in (late values land in days already
// folded); and at every step each user's base tile and day tiles must hold every value
// committed to them exactly once.

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "signalbox/common/temp_folder.h"
#include "signalbox/common/time.h"
#include "signalbox/config/config.h"
#include "signalbox/store/open_store.h"
#include "signalbox/store/rocksdb/rocksdb_store.h"
#include "signalbox/store/rocksdb/unfolded_days.h"
#include "signalbox/store/tiles.h"
#include "summed_states.h"

namespace signalbox::testing {
namespace {

namespace fs = std::filesystem;

constexpr TimeMs kT0 = 1704067200000;  // 2024-01-01T00:00:00Z
constexpr std::uint64_t kUsers = 12;

// Commit `i` of a stream that moves 3 hours a commit: a few users' day and hour tiles get
// values, now and then a day up to 20 days back (a late event).
CommitBatch commit_number(std::mt19937_64& rng, int i) {
  CommitBatch batch;
  const TimeMs now = kT0 + static_cast<TimeMs>(i) * 3 * kHourMs;
  for (int k = 0; k < 4; ++k) {
    const std::uint64_t user = 1 + rng() % kUsers;
    TimeMs ts = now - static_cast<TimeMs>(rng() % kHourMs);
    if (rng() % 10 == 0) ts -= static_cast<TimeMs>(rng() % (20 * kDayMs));
    ts = std::max(ts, kT0);
    add_summed_value(batch, user, ts, std::to_string(1 + rng() % 9));
  }
  batch.high_water = now;
  return batch;
}

// For each user, the sum of the base-keeping state over its base tile and every day tile: what
// a query as of now folds for a signal without windows.
std::map<std::uint64_t, long> base_totals(Store& store) {
  std::unique_ptr<StoreSnapshot> snapshot = store.snapshot();
  const std::uint64_t states[] = {kBaseState};
  std::map<std::uint64_t, long> out;
  for (std::uint64_t user = 1; user <= kUsers; ++user)
    for (const StoredTile& t : snapshot->tiles(user, states, kT0 - kDayMs, snapshot->high_water()))
      if (t.kind != TileKind::kHour) out[user] += std::stol(std::string(t.state));
  return out;
}

// The tile parts of `states` whose tiles start in [from, stream time] (and the base tile's),
// hour tiles included or not, in one comparable text.
std::string tiles_of(Store& store, std::span<const std::uint64_t> states, TimeMs from, bool hours) {
  std::unique_ptr<StoreSnapshot> snapshot = store.snapshot();
  std::string out;
  for (std::uint64_t user = 1; user <= kUsers; ++user)
    for (const StoredTile& t : snapshot->tiles(user, states, from, snapshot->high_water()))
      if (hours || t.kind != TileKind::kHour)
        out += std::to_string(user) + " " + tile_kind_name(t.kind) + " " + std::to_string(t.start) +
               " " + std::to_string(t.state_id) + " " + std::to_string(t.covered_through) + " " +
               std::string(t.state) + "\n";
  return out;
}

// Every tile part a query of the last 25 days reads (older window-only days may be dropped
// by a compaction at any time).
std::string query_tiles_of(Store& store) {
  const std::uint64_t states[] = {kBaseState, kWindowState};
  return tiles_of(store, states, store.high_water() - 25 * kDayMs, /*hours=*/true);
}

// The base-keeping state's base and day tiles, all of them (its hour tiles may be dropped by a
// compaction at any time): a day tile a fold missed stays here.
std::string base_state_tiles_of(Store& store) {
  const std::uint64_t states[] = {kBaseState};
  return tiles_of(store, states, kT0 - kDayMs, /*hours=*/false);
}

enum class Reopen { kNo, kCleanly, kAfterACrash };

// Opens the store at `path` in a child process, runs `then` on it and ends the child without
// closing the store, as a crash would.
void open_and_crash(
    const fs::path& path, const TileMerger& merger,
    const std::function<void(Store&)>& then = [](Store&) {}) {
  const pid_t child = fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    alarm(60);
    try {
      RocksDbOptions options;
      options.path = path;
      std::unique_ptr<Store> store = open_rocksdb_store(options, merger);
      then(*store);
      _exit(0);
    } catch (...) {
      _exit(1);
    }
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child failed: " << status;
}

// Each case runs the same commits alone, one after the other, and its tiles are compared with
// the full scans' at the end: a case forks a crashing child midway, and a fork while other
// stores' background threads may hold a lock (RocksDB's and the allocator's) can leave the
// child waiting on it for good.
TEST(RocksDbFoldIndex, FoldsThatVisitOnlyNewDayTilesLeaveWhatFullScansLeave) {
  TempFolder folder(fs::temp_directory_path(), "signalbox-fold-index-test");
  SumMerger merger;
  auto open = [&](const std::string& name, std::size_t fold_index_users) -> std::unique_ptr<Store> {
    RocksDbOptions options;
    options.path = folder.path() / name;
    options.fold_index_users = fold_index_users;
    return open_rocksdb_store(options, merger);
  };
  struct Case {
    std::string name;
    std::size_t fold_index_users;
    std::size_t slice;  // users per slice of a fold; 0: each fold at once
    Reopen reopen;      // midway
    // What it left: every tile part a query reads, and the base-keeping state's tiles.
    std::string query_tiles;
    std::string base_state_tiles;
  };
  const std::size_t kIndex = std::size_t{1} << 20;
  std::vector<Case> cases;
  cases.push_back({"scan", 0, 0, Reopen::kNo, "", ""});
  cases.push_back({"index", kIndex, 0, Reopen::kCleanly, "", ""});
  cases.push_back({"overflowing", kUsers / 2, 0, Reopen::kNo, "", ""});
  cases.push_back({"sliced", kIndex, 2, Reopen::kNo, "", ""});
  cases.push_back({"sliced, reopened", kIndex, 1, Reopen::kAfterACrash, "", ""});

  std::size_t unfinished = 0;  // steps at which some sliced fold was not done
  for (Case& c : cases) {
    std::unique_ptr<Store> store = open(c.name, c.fold_index_users);
    std::mt19937_64 rng(11);
    std::map<std::uint64_t, long> committed;  // per user, every day tile value of kBaseState
    constexpr int kCommits = 8 * 60;          // 60 days
    for (int i = 1; i <= kCommits; ++i) {
      CommitBatch batch = commit_number(rng, i);
      for (const TileDelta& t : batch.tiles)
        if (t.key.kind == TileKind::kDay) committed[t.key.user_id] += std::stol(t.states[0].state);
      store->commit(batch);
      if (c.slice > 0 && store->continue_fold(c.slice)) ++unfinished;
      if (i % 16 == 0)  // every 2 days of stream time
        store->expire(summed_states_policy(),
                      Store::ExpireOptions{.fold_base = true, .fold_slice_users = c.slice});
      ASSERT_EQ(base_totals(*store), committed) << c.name << " after commit " << i;
      if (i == kCommits / 2 && c.reopen != Reopen::kNo) {
        store.reset();
        if (c.reopen == Reopen::kAfterACrash) open_and_crash(folder.path() / c.name, merger);
        store = open(c.name, c.fold_index_users);
      }
    }
    EXPECT_FALSE(store->continue_fold(0)) << c.name;  // the last fold done
    c.query_tiles = query_tiles_of(*store);
    c.base_state_tiles = base_state_tiles_of(*store);
  }
  EXPECT_GT(unfinished, 0u) << "every fold was done in one slice: the slices test nothing";
  const Case& scan = cases[0];
  EXPECT_NE(scan.query_tiles.find(" base "), std::string::npos)
      << "nothing was folded: the test tests nothing";
  for (std::size_t i = 1; i < cases.size(); ++i) {
    EXPECT_EQ(cases[i].query_tiles, scan.query_tiles) << cases[i].name;
    EXPECT_EQ(cases[i].base_state_tiles, scan.base_state_tiles) << cases[i].name;
  }
}

// A value for `user`'s day tile of `ts`, committed at stream time `now` (late when ts is days
// before it).
CommitBatch late_value(std::uint64_t user, TimeMs ts, TimeMs now) {
  CommitBatch batch;
  batch.tiles.push_back(TileDelta{TileKey{user, TileKind::kDay, floor_day(ts)},
                                  {StateDelta{kBaseState, "5"}, StateDelta{kWindowState, "5"}}});
  batch.high_water = now;
  return batch;
}

// Folds in slices of one user; returns the continue_fold() calls the fold took after
// expire()'s first slice (the last call folds the last user and says that none is left): 1
// for a fold of one or two users, the users it visited less one for more.
std::size_t fold_one_user_at_a_time(Store& store) {
  store.expire(summed_states_policy(),
               Store::ExpireOptions{.fold_base = true, .fold_slice_users = 1});
  std::size_t calls = 1;
  while (store.continue_fold(1)) ++calls;
  return calls;
}

// Commits that keep, per user, the total of the base-keeping state's day tile values.
struct CountedCommits {
  std::map<std::uint64_t, long> committed;
  void count(const CommitBatch& batch) {
    for (const TileDelta& t : batch.tiles)
      if (t.key.kind == TileKind::kDay) committed[t.key.user_id] += std::stol(t.states[0].state);
  }
  void commit(Store& store, const CommitBatch& batch) {
    count(batch);
    store.commit(batch);
  }
};

// One store in a folder of its own, and the commits made to it.
struct OneStore {
  explicit OneStore(std::uint64_t seed) : rng(seed) { options.path = folder.path() / "store"; }
  std::unique_ptr<Store> open() const { return open_rocksdb_store(options, merger); }

  TempFolder folder{fs::temp_directory_path(), "signalbox-fold-index-test"};
  SumMerger merger;
  RocksDbOptions options;
  std::mt19937_64 rng;
  CountedCommits counted;
};

// A new store knows that it has nothing to fold, and a clean close keeps the fold index: in
// both, a fold visits only the users due, not every user. A store that crashed after its open
// (here a child process opens it, commits a late value and ends without closing) must not take
// back the index kept before that commit: its next fold visits every user, and folds the late
// value too.
TEST(RocksDbFoldIndex, ACleanCloseKeepsTheIndexForTheNextOpenAndACrashDoesNot) {
  OneStore one(5);
  std::mt19937_64& rng = one.rng;
  CountedCommits& counted = one.counted;
  auto commit = [&](Store& store, const CommitBatch& batch) { counted.commit(store, batch); };
  const std::map<std::uint64_t, long>& committed = counted.committed;
  constexpr int kCommits = 8 * 20;  // 20 days
  const TimeMs now = kT0 + kCommits * 3 * kHourMs;
  {
    std::unique_ptr<Store> store = one.open();
    for (int i = 1; i <= 16; ++i) commit(*store, commit_number(rng, i));
    EXPECT_EQ(fold_one_user_at_a_time(*store), 1u) << "a new store: no day is due, no walk";
    for (int i = 17; i <= kCommits; ++i) commit(*store, commit_number(rng, i));
    EXPECT_GE(fold_one_user_at_a_time(*store), kUsers - 1) << "every user has days due";
    commit(*store, late_value(3, now - 10 * kDayMs, now));
  }
  {
    std::unique_ptr<Store> store = one.open();
    EXPECT_EQ(fold_one_user_at_a_time(*store), 1u) << "the index kept knows that only 3 is due";
    EXPECT_EQ(base_totals(*store), committed);
    commit(*store, late_value(5, now - 11 * kDayMs, now));
  }
  const CommitBatch after_open = late_value(8, now - 12 * kDayMs, now);
  open_and_crash(one.options.path, one.merger, [&](Store& store) { store.commit(after_open); });
  counted.count(after_open);
  std::unique_ptr<Store> store = one.open();
  EXPECT_GE(fold_one_user_at_a_time(*store), kUsers - 1) << "after a crash the fold scans";
  EXPECT_EQ(base_totals(*store), committed);
  const std::uint64_t base_only[] = {kBaseState};
  for (std::uint64_t user : {5, 8}) {
    std::unique_ptr<StoreSnapshot> snapshot = store->snapshot();
    for (const StoredTile& t : snapshot->tiles(user, base_only, kT0 - kDayMs, now))
      EXPECT_FALSE(t.kind == TileKind::kDay && t.start <= now - 11 * kDayMs)
          << "user " << user << "'s late day " << t.start << " was not folded";
  }
}

// storage.fold_index_users reaches the store through open_store(): with 0, a new store's
// first fold scans every user; with the default, it knows that nothing is due.
TEST(RocksDbFoldIndex, TheConfigsFoldIndexUsersReachTheStore) {
  for (const std::size_t index_users : {std::size_t{0}, std::size_t{1} << 20}) {
    TempFolder folder(fs::temp_directory_path(), "signalbox-fold-index-test");
    SumMerger merger;
    Config config;
    config.storage.path = folder.path() / "store";
    config.storage.fold_index_users = index_users;
    std::unique_ptr<Store> store = open_store(config, merger, {});
    std::mt19937_64 rng(3);
    for (int i = 1; i <= 16; ++i) store->commit(commit_number(rng, i));
    if (index_users == 0)
      EXPECT_GE(fold_one_user_at_a_time(*store), kUsers - 1) << "no index: the fold scans";
    else
      EXPECT_EQ(fold_one_user_at_a_time(*store), 1u) << "a new store's index: no walk";
  }
}

// An open that cannot delete the kept index (the disk is short of its reserve, so writes are
// refused) still opens, for reads; the index stays in the store and a later open takes it
// back, as nothing was written in between.
TEST(RocksDbFoldIndex, AStoreShortOfItsDiskReserveOpensWithAKeptIndex) {
  OneStore one(7);
  std::mt19937_64& rng = one.rng;
  CountedCommits& counted = one.counted;
  const std::map<std::uint64_t, long>& committed = counted.committed;
  const TimeMs now = kT0 + 8 * 20 * 3 * kHourMs;
  {
    std::unique_ptr<Store> store = one.open();
    for (int i = 1; i <= 8 * 20; ++i) counted.commit(*store, commit_number(rng, i));
    fold_one_user_at_a_time(*store);
    counted.commit(*store, late_value(3, now - 10 * kDayMs, now));
  }
  RocksDbOptions short_of_space = one.options;
  short_of_space.reserve_bytes = std::uint64_t{1} << 62;
  {
    std::unique_ptr<Store> store;
    ASSERT_NO_THROW(store = open_rocksdb_store(short_of_space, one.merger));
    EXPECT_EQ(base_totals(*store), committed);
  }
  std::unique_ptr<Store> store = one.open();
  EXPECT_EQ(fold_one_user_at_a_time(*store), 1u) << "the index kept is still taken back";
  EXPECT_EQ(base_totals(*store), committed);
}

// The index on its own: what a fold asks of it after a scan, commits, folds, an overflow and
// a fold that failed.
TEST(RocksDbFoldIndex, TheIndexKnowsOnlyAfterAScanAndForgetsOnOverflowOrFailure) {
  using Due = std::vector<std::pair<std::uint64_t, TimeMs>>;
  const TimeMs d = kDayMs;
  UnfoldedDays days(3);
  days.wrote(9, 1 * d);
  EXPECT_FALSE(days.complete()) << "nothing scanned yet";

  days.start_scan();
  days.folded(1, 5 * d);
  days.folded(2, std::nullopt);
  days.finish_scan();
  ASSERT_TRUE(days.complete());
  EXPECT_EQ(days.due(6 * d), (Due{{1, 5 * d}})) << "a write before the scan is the scan's";

  days.wrote(3, 2 * d);
  days.wrote(1, 1 * d);  // a late value, before the day noted for user 1
  days.wrote(1, 4 * d);
  EXPECT_EQ(days.due(3 * d), (Due{{1, 1 * d}, {3, 2 * d}}));
  days.folded(1, 7 * d);
  days.folded(3, std::nullopt);
  EXPECT_EQ(days.due(7 * d), Due{});
  EXPECT_EQ(days.due(8 * d), (Due{{1, 7 * d}}));

  days.wrote(4, 1 * d);
  days.wrote(5, 1 * d);
  EXPECT_TRUE(days.complete()) << "three users noted: at the bound";
  days.wrote(6, 1 * d);  // a fourth, past it
  EXPECT_FALSE(days.complete()) << "past its bound the index forgets, and folds scan";
  EXPECT_EQ(days.due(9 * d), Due{});

  days.start_scan();
  days.folded(1, 1 * d);
  days.finish_scan();
  ASSERT_TRUE(days.complete());
  days.forget();
  EXPECT_FALSE(days.complete());

  // A scan in slices, with commits in between: their writes are noted whether the scan has
  // passed their user or not.
  days.start_scan();
  days.folded(1, 5 * d);  // the scan has passed user 1
  days.wrote(1, 3 * d);
  days.wrote(2, 4 * d);   // and not yet user 2, which it then folds through day 6
  days.folded(2, 6 * d);  // (a note that is early costs a seek, never a value)
  days.finish_scan();
  ASSERT_TRUE(days.complete());
  EXPECT_EQ(days.due(7 * d), (Due{{1, 3 * d}, {2, 4 * d}}));
  EXPECT_EQ(days.first_day(1), 3 * d);
  EXPECT_EQ(days.first_day(3), std::nullopt);
  days.forget();
  EXPECT_FALSE(days.complete());
  EXPECT_EQ(days.due(9 * d), Due{});

  // What a clean close keeps and the next open loads: every user noted, complete at once.
  days.start_scan();
  days.folded(7, 2 * d);
  days.folded(4, 3 * d);
  days.finish_scan();
  const Due kept = days.noted();
  EXPECT_EQ(kept, (Due{{4, 3 * d}, {7, 2 * d}}));
  UnfoldedDays reopened(3);
  reopened.load(kept);
  ASSERT_TRUE(reopened.complete());
  EXPECT_EQ(reopened.due(9 * d), kept);
  UnfoldedDays smaller(1);
  smaller.load(kept);
  EXPECT_FALSE(smaller.complete()) << "more users kept than the bound: the next fold scans";
}

}  // namespace
}  // namespace signalbox::testing
