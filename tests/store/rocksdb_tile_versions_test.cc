// A RocksDB snapshot's tile version of a user (StoreSnapshot::tile_version) stands for the
// user's settled tiles (base tiles, and tiles of days before the snapshot's stream-time day):
// two snapshots that give a user the same version read the same tiles among those settled in
// both, also when they
// are taken while commits (live and late values), folds into base tiles and write-behind
// flushes run on another thread (store/rocksdb/tile_versions.h).

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "signalbox/common/temp_folder.h"
#include "signalbox/common/time.h"
#include "signalbox/store/rocksdb/rocksdb_store.h"
#include "signalbox/store/rocksdb/tile_versions.h"
#include "signalbox/store/tiles.h"
#include "summed_states.h"

namespace signalbox::testing {
namespace {

namespace fs = std::filesystem;

constexpr TimeMs kT0 = 1704067200000;  // 2024-01-01T00:00:00Z
constexpr std::uint64_t kUsers = 6;

TEST(TileVersions, AnswerOnlyForSettledSlotsAtOrBelowTheSnapshot) {
  TileVersions versions(16);
  EXPECT_EQ(versions.at(1, 100), std::nullopt) << "not started: a read-only store";
  versions.start(10);
  EXPECT_EQ(versions.at(1, 10), 10u);
  EXPECT_EQ(versions.at(1, 9), std::nullopt) << "a snapshot older than the version";
  const std::uint64_t user[] = {1};
  versions.before_write(user);
  EXPECT_EQ(versions.at(1, 1000), std::nullopt) << "a write in flight";
  versions.after_write(user, 15);
  EXPECT_EQ(versions.at(1, 14), std::nullopt);
  EXPECT_EQ(versions.at(1, 15), 15u);
  // Of many other users, most are in other slots and keep their version.
  int kept = 0;
  for (std::uint64_t other = 2; other < 34; ++other) kept += versions.at(other, 15) == 10u;
  EXPECT_GT(kept, 16);
}

// Commit `i`: stream time moves 20 minutes a commit; two users get values at stream time (the
// day and hour tiles of the head day), and one commit in five a value up to 10 days back.
CommitBatch commit_number(std::mt19937_64& rng, int i) {
  CommitBatch batch;
  const TimeMs now = kT0 + static_cast<TimeMs>(i) * 20 * 60'000;
  auto add = [&](std::uint64_t user, TimeMs ts) {
    add_summed_value(batch, user, ts, std::to_string(1 + rng() % 9));
  };
  for (int k = 0; k < 2; ++k) add(1 + rng() % kUsers, now);
  if (rng() % 5 == 0)
    add(1 + rng() % kUsers, std::max(kT0, now - static_cast<TimeMs>(rng() % (10 * kDayMs))));
  batch.high_water = now;
  return batch;
}

// The user's settled tiles in a snapshot, each as comparable text: the base tile (start
// kBeginningOfTime here) and the tiles of days before the snapshot's stream-time day.
struct Settled {
  TimeMs head_day = 0;
  std::vector<std::pair<TimeMs, std::string>> tiles;  // by start
  // The tiles settled in both `this` and `other`, as one text.
  std::string common_with(const Settled& other) const {
    const TimeMs before = std::min(head_day, other.head_day);
    std::string out;
    for (const auto& [start, text] : tiles)
      if (start < before) out += text;
    return out;
  }
};

Settled settled_tiles(StoreSnapshot& snapshot, std::uint64_t user) {
  const std::uint64_t states[] = {kBaseState, kWindowState};
  Settled out;
  out.head_day = floor_day(snapshot.high_water());
  for (const StoredTile& t : snapshot.tiles(user, states, kT0 - kDayMs, snapshot.high_water())) {
    const TimeMs start = t.kind == TileKind::kBase ? kBeginningOfTime : t.start;
    if (start < out.head_day)
      out.tiles.emplace_back(start, std::string(tile_kind_name(t.kind)) + " " +
                                        std::to_string(t.start) + " " + std::to_string(t.state_id) +
                                        " " + std::to_string(t.covered_through) + " " +
                                        std::string(t.state) + "\n");
  }
  std::stable_sort(out.tiles.begin(), out.tiles.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

class RocksDbTileVersions : public ::testing::TestWithParam<bool> {};

// Snapshots taken on one thread while another commits, folds and flushes: a (user, version)
// seen again must come with the same tiles settled in both snapshots. The parameter: write-behind
// tiles or not.
TEST_P(RocksDbTileVersions, EqualVersionsReadEqualSettledTilesWhileWritesRun) {
  TempFolder folder(fs::temp_directory_path(), "signalbox-tile-versions-test");
  SumMerger merger;
  RocksDbOptions options;
  options.path = folder.path() / "store";
  options.unflushed_tile_bytes = GetParam() ? 4096 : 0;
  std::unique_ptr<Store> store = open_rocksdb_store(options, merger);

  // The writer waits for the reader to have taken a snapshot per 4 commits, so that the reader
  // gets its share however slow the build (a sanitizer's) makes it; they still run at once.
  std::atomic<bool> done{false}, stop{false};
  std::atomic<int> rounds{0};
  std::thread writer([&] {
    std::mt19937_64 rng(5);
    for (int i = 1; i <= 3 * 24 * 20 && !stop; ++i) {  // 20 days
      store->commit(commit_number(rng, i));
      if (i % (3 * 24 * 2) == 0)  // every 2 days
        store->expire(summed_states_policy(),
                      Store::ExpireOptions{.fold_base = true, .fold_slice_users = 2});
      else
        store->continue_fold(2);
      while (rounds.load() < i / 4 && !stop) std::this_thread::yield();
    }
    done = true;
  });

  std::map<std::pair<std::uint64_t, std::uint64_t>, Settled> seen;
  std::size_t answered = 0, repeated = 0;
  std::string mismatch;
  while (!done && mismatch.empty()) {
    std::unique_ptr<StoreSnapshot> snapshot = store->snapshot();
    for (std::uint64_t user = 1; user <= kUsers && mismatch.empty(); ++user) {
      const std::optional<std::uint64_t> version = snapshot->tile_version(user);
      if (!version) continue;
      ++answered;
      Settled tiles = settled_tiles(*snapshot, user);
      auto [it, added] = seen.emplace(std::pair(user, *version), tiles);
      if (added) continue;
      ++repeated;
      const std::string before = it->second.common_with(tiles);
      const std::string now = tiles.common_with(it->second);
      if (before != now) {
        mismatch = "user " + std::to_string(user) + " at version " + std::to_string(*version) +
                   " read different tiles settled in both snapshots:\n" + before + "then\n" + now;
      }
      if (tiles.head_day > it->second.head_day) it->second = std::move(tiles);
    }
    ++rounds;
  }
  stop = true;
  writer.join();
  ASSERT_EQ(mismatch, "");
  EXPECT_GT(answered, 100u);
  EXPECT_GT(repeated, 50u) << "no version was seen twice: the test compares nothing";
  EXPECT_GT(seen.size(), 20u) << "versions never moved";
  // The last state, read twice after the writes, has every user's version.
  for (std::uint64_t user = 1; user <= kUsers; ++user) {
    std::unique_ptr<StoreSnapshot> a = store->snapshot();
    std::unique_ptr<StoreSnapshot> b = store->snapshot();
    ASSERT_TRUE(a->tile_version(user).has_value());
    EXPECT_EQ(a->tile_version(user), b->tile_version(user));
  }
}

INSTANTIATE_TEST_SUITE_P(WriteBehind, RocksDbTileVersions, ::testing::Bool());

// A read-only store is not the writer: it never answers a version.
TEST(RocksDbTileVersionsReadOnly, AReadOnlyStoreGivesNoVersion) {
  TempFolder folder(fs::temp_directory_path(), "signalbox-tile-versions-test");
  SumMerger merger;
  RocksDbOptions options;
  options.path = folder.path() / "store";
  {
    std::unique_ptr<Store> store = open_rocksdb_store(options, merger);
    std::mt19937_64 rng(1);
    for (int i = 1; i <= 100; ++i) store->commit(commit_number(rng, i));
    EXPECT_TRUE(store->snapshot()->tile_version(1).has_value());
  }
  options.read_only = true;
  std::unique_ptr<Store> store = open_rocksdb_store(options, merger);
  EXPECT_EQ(store->snapshot()->tile_version(1), std::nullopt);
}

}  // namespace
}  // namespace signalbox::testing
