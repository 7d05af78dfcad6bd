// The RocksDB store's write-behind tiles (unflushed_tiles.h): a commit journals its tile
// values and keeps them in memory; a flush merges them into the tiles family. Whatever a
// snapshot reads counts every committed value once: while flushes run beside it, in a reader
// opened beside the writer, and after a crash (a copy of the folder taken with values
// unflushed, opened as the next process would).

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include "signalbox/common/temp_folder.h"
#include "signalbox/common/time.h"
#include "signalbox/store/rocksdb/rocksdb_store.h"
#include "signalbox/store/tiles.h"

namespace signalbox::testing {
namespace {

namespace fs = std::filesystem;

constexpr TimeMs kT0 = 1704067200000;  // 2024-01-01T00:00:00Z, a day's and an hour's start
constexpr std::uint64_t kUser = 7;
constexpr std::uint64_t kState = 1;

// A state is a count: 8 bytes, merged by adding.
std::string count_bytes(std::uint64_t n) {
  std::string bytes(8, '\0');
  std::memcpy(bytes.data(), &n, 8);
  return bytes;
}

std::uint64_t parse_count(std::string_view bytes) {
  std::uint64_t n = 0;
  if (bytes.size() == 8) std::memcpy(&n, bytes.data(), 8);
  return n;
}

class CountMerger final : public TileMerger {
 public:
  std::string merge(std::uint64_t, std::span<const std::string_view> operands) const override {
    std::uint64_t sum = 0;
    for (std::string_view op : operands) sum += parse_count(op);
    return count_bytes(sum);
  }
};

// Commit `i`: one event at kT0 + i ms and a count of 1 in its day and hour tiles.
CommitBatch commit_number(int i) {
  CommitBatch batch;
  const TimeMs ts = kT0 + i;
  batch.events.push_back(StoredEvent{kUser, ts, "e" + std::to_string(i), "x", true});
  for (TileKind kind : {TileKind::kDay, TileKind::kHour})
    batch.tiles.push_back(
        TileDelta{TileKey{kUser, kind, kT0}, {StateDelta{kState, count_bytes(1)}}});
  batch.high_water = ts;
  return batch;
}

struct Counts {
  std::uint64_t events = 0;
  std::uint64_t day = 0;
  std::uint64_t hour = 0;
};

Counts read_counts(StoreSnapshot& snapshot) {
  Counts counts;
  snapshot.scan_events(kUser, kT0, kT0 + kDayMs, [&](std::string_view) { ++counts.events; });
  for (const StoredTile& t : snapshot.tiles(kUser, std::span(&kState, 1), kT0, kT0 + kDayMs))
    (t.kind == TileKind::kDay ? counts.day : counts.hour) += parse_count(t.state);
  return counts;
}

class RocksDbUnflushedTiles : public ::testing::Test {
 protected:
  std::unique_ptr<Store> open(const fs::path& path, bool read_only = false,
                              std::size_t values_per_tile = 1000) {
    RocksDbOptions options;
    options.path = path;
    options.read_only = read_only;
    options.unflushed_values_per_tile = values_per_tile;
    return open_rocksdb_store(options, merger_);
  }

  TempFolder folder_{fs::temp_directory_path(), "signalbox-unflushed-tiles-test"};
  const fs::path dir_ = folder_.path();
  CountMerger merger_;
};

TEST_F(RocksDbUnflushedTiles, CommitsAreReadBeforeTheirFlushAndAfterIt) {
  std::unique_ptr<Store> store = open(dir_ / "store");
  for (int i = 1; i <= 10; ++i) store->commit(commit_number(i));
  EXPECT_GT(store->stats().unflushed_tile_bytes, 0u);
  std::unique_ptr<StoreSnapshot> before_flush = store->snapshot();
  store->flush();
  EXPECT_EQ(store->stats().unflushed_tile_bytes, 0u);
  for (int i = 11; i <= 15; ++i) store->commit(commit_number(i));
  std::unique_ptr<StoreSnapshot> after = store->snapshot();
  Counts old = read_counts(*before_flush);
  EXPECT_EQ(old.events, 10u);
  EXPECT_EQ(old.day, 10u);
  EXPECT_EQ(old.hour, 10u);
  Counts now = read_counts(*after);
  EXPECT_EQ(now.events, 15u);
  EXPECT_EQ(now.day, 15u);
  EXPECT_EQ(now.hour, 15u);
  EXPECT_TRUE(after->holds_user(kUser));
}

// The writer commits while a flush follows every third commit; each snapshot must find in its
// tiles exactly the events it holds: a value read both unflushed and flushed (a snapshot of a
// flush's write that still sees the flushed values in memory), or read in neither, fails.
TEST_F(RocksDbUnflushedTiles, ConcurrentSnapshotsWhileCommitsAndFlushesRunCountEachCommitOnce) {
  constexpr int kCommits = 6000;
  std::unique_ptr<Store> store = open(dir_ / "store", false, /*values_per_tile=*/3);
  std::atomic<bool> reading{false}, done{false};
  std::thread writer([&] {
    while (!reading.load()) std::this_thread::yield();
    for (int i = 1; i <= kCommits; ++i) store->commit(commit_number(i));
    done.store(true);
  });
  auto reader = [&](int* snapshots, int* wrong) {
    while (!done.load()) {
      std::unique_ptr<StoreSnapshot> snapshot = store->snapshot();
      const Counts counts = read_counts(*snapshot);
      reading.store(true);
      ++*snapshots;
      if (counts.day != counts.events || counts.hour != counts.events) {
        if (++*wrong <= 5)
          ADD_FAILURE() << "a snapshot holds " << counts.events << " events but counts "
                        << counts.day << " in the day tile and " << counts.hour << " in the hour";
      }
    }
  };
  int snapshots[2] = {0, 0}, wrong[2] = {0, 0};
  std::thread second(reader, &snapshots[1], &wrong[1]);
  reader(&snapshots[0], &wrong[0]);
  second.join();
  writer.join();
  EXPECT_EQ(wrong[0] + wrong[1], 0) << "of " << snapshots[0] + snapshots[1] << " snapshots";
  EXPECT_GT(snapshots[0] + snapshots[1], 100);
  const Counts last = read_counts(*store->snapshot());
  EXPECT_EQ(last.events, static_cast<std::uint64_t>(kCommits));
  EXPECT_EQ(last.day, static_cast<std::uint64_t>(kCommits));
}

// `signalbox get` opens the store read-only beside a running server: the values the server
// has not flushed are in the journal it reads at open.
TEST_F(RocksDbUnflushedTiles, AReaderOpenedBesideTheWriterSeesTheUnflushedValues) {
  std::unique_ptr<Store> writer = open(dir_ / "store");
  for (int i = 1; i <= 7; ++i) writer->commit(commit_number(i));
  ASSERT_GT(writer->stats().unflushed_tile_bytes, 0u);
  std::unique_ptr<Store> reader = open(dir_ / "store", /*read_only=*/true);
  const Counts counts = read_counts(*reader->snapshot());
  EXPECT_EQ(counts.events, 7u);
  EXPECT_EQ(counts.day, 7u);
  EXPECT_EQ(counts.hour, 7u);
}

// A copy of the folder taken while values are unflushed is what a crash leaves: opened
// read-only it reads them from the journal; opened writable it merges the journal into the
// tiles at once (nothing is left unflushed in memory) and deletes it.
TEST_F(RocksDbUnflushedTiles, ACrashLeavesTheJournalWhichTheNextOpenMerges) {
  const fs::path crashed = dir_ / "crashed";
  {
    std::unique_ptr<Store> store = open(dir_ / "store");
    for (int i = 1; i <= 9; ++i) store->commit(commit_number(i));
    ASSERT_GT(store->stats().unflushed_tile_bytes, 0u);
    fs::copy(dir_ / "store", crashed, fs::copy_options::recursive);
  }
  {
    std::unique_ptr<Store> reader = open(crashed, /*read_only=*/true);
    const Counts counts = read_counts(*reader->snapshot());
    EXPECT_EQ(counts.events, 9u);
    EXPECT_EQ(counts.day, 9u);
  }
  {
    std::unique_ptr<Store> store = open(crashed);
    EXPECT_EQ(store->stats().unflushed_tile_bytes, 0u);
    const Counts counts = read_counts(*store->snapshot());
    EXPECT_EQ(counts.day, 9u);
    EXPECT_EQ(counts.hour, 9u);
    store->commit(commit_number(10));
    EXPECT_EQ(read_counts(*store->snapshot()).day, 10u);
  }
  // Merged once: a second open finds no journal to merge again.
  std::unique_ptr<Store> store = open(crashed);
  EXPECT_EQ(read_counts(*store->snapshot()).day, 10u);
}

TEST_F(RocksDbUnflushedTiles, NoneWhenWriteBehindIsOff) {
  RocksDbOptions options;
  options.path = dir_ / "store";
  options.unflushed_tile_bytes = 0;
  std::unique_ptr<Store> store = open_rocksdb_store(options, merger_);
  for (int i = 1; i <= 4; ++i) store->commit(commit_number(i));
  EXPECT_EQ(store->stats().unflushed_tile_bytes, 0u);
  EXPECT_EQ(read_counts(*store->snapshot()).day, 4u);
}

}  // namespace
}  // namespace signalbox::testing
