// A RocksDB snapshot's stream time and expiry horizon are those of the data it reads, also
// when it is taken while commits and expiries run on another thread: the store answers them
// from what it wrote last when the snapshot contains that write (visible_time_cache.h), and
// reads them at the snapshot otherwise.

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>

#include "numbered_commits.h"
#include "signalbox/common/time.h"
#include "signalbox/store/rocksdb/rocksdb_store.h"
#include "signalbox/store/tiles.h"

namespace signalbox::testing {
namespace {

namespace fs = std::filesystem;

class RocksDbSnapshotTimes : public ::testing::Test {
 protected:
  RocksDbSnapshotTimes() {
    dir_ =
        fs::temp_directory_path() / ("signalbox-snapshot-times-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  ~RocksDbSnapshotTimes() override { fs::remove_all(dir_); }

  std::unique_ptr<Store> open(bool read_only = false) {
    RocksDbOptions options;
    options.path = dir_;
    options.read_only = read_only;
    return open_rocksdb_store(options, merger_);
  }

  fs::path dir_;
  NoMerger merger_;
};

TEST_F(RocksDbSnapshotTimes, AreTheLastWrittenAndSurviveAReopen) {
  RetentionPolicy policy;
  policy.retention = 5000;
  {
    std::unique_ptr<Store> store = open();
    EXPECT_EQ(store->snapshot()->high_water(), kBeginningOfTime);
    EXPECT_EQ(store->snapshot()->expired_through(), kBeginningOfTime);
    store->commit(commit_number(10));
    std::unique_ptr<StoreSnapshot> before_expiry = store->snapshot();
    store->expire(policy, {.fold_base = false});
    store->commit(commit_number(20));
    EXPECT_EQ(before_expiry->high_water(), ts_of(10));
    EXPECT_EQ(before_expiry->expired_through(), kBeginningOfTime);
    std::unique_ptr<StoreSnapshot> after = store->snapshot();
    EXPECT_EQ(after->high_water(), ts_of(20));
    EXPECT_EQ(after->expired_through(), ts_of(10) - policy.retention);
  }
  for (bool read_only : {false, true}) {
    std::unique_ptr<Store> store = open(read_only);
    std::unique_ptr<StoreSnapshot> snapshot = store->snapshot();
    EXPECT_EQ(snapshot->high_water(), ts_of(20)) << "read_only " << read_only;
    EXPECT_EQ(snapshot->expired_through(), ts_of(10) - policy.retention)
        << "read_only " << read_only;
  }
}

// The writer commits one event after another and expires every few commits; the reader takes
// snapshots meanwhile. What a snapshot can read tells which commits it holds: its newest event
// is the newest commit it holds, whose ts is the stream time the snapshot must report. A
// snapshot taken just after a commit's write, before the store noted the new stream time,
// must not report the previous one; one taken just before must not report the new one.
TEST_F(RocksDbSnapshotTimes, MatchTheDataOfSnapshotsTakenWhileWritesRun) {
  constexpr int kCommits = 20000;
  constexpr int kExpireEvery = 8;
  RetentionPolicy policy;
  policy.retention = 5000;
  std::unique_ptr<Store> store = open();

  std::atomic<bool> reading{false}, done{false};
  std::thread writer([&] {
    while (!reading.load()) std::this_thread::yield();  // so that the snapshots overlap writes
    for (int i = 1; i <= kCommits; ++i) {
      store->commit(commit_number(i));
      if (i % kExpireEvery == 0) store->expire(policy, {.fold_base = false});
    }
    done.store(true);
  });

  int snapshots = 0, wrong_high_water = 0, wrong_horizon = 0;
  TimeMs newest = kBeginningOfTime;  // the newest event of the previous snapshot
  while (!done.load()) {
    std::unique_ptr<StoreSnapshot> snapshot = store->snapshot();
    // Each snapshot holds at least what the previous one held: scan from its newest event.
    snapshot->scan_events(kUser, newest == kBeginningOfTime ? kT0 : newest, kLatestTimeMs,
                          [&](std::string_view body) { newest = parse_ts(body); });
    ++snapshots;
    reading.store(true);
    if (snapshot->high_water() != newest) {
      if (++wrong_high_water <= 5)
        ADD_FAILURE() << "snapshot " << snapshots << " holds commits up to ts " << newest
                      << " but reports stream time " << snapshot->high_water();
    }
    // The expiry after the last multiple of kExpireEvery below the newest commit held had
    // finished before that commit began.
    const int held = static_cast<int>((newest - kT0) / 1000);
    const int expired_after = (held - 1) / kExpireEvery * kExpireEvery;
    if (expired_after > 0 && snapshot->expired_through() < ts_of(expired_after) - policy.retention)
      ++wrong_horizon;
  }
  writer.join();
  EXPECT_EQ(wrong_high_water, 0) << "of " << snapshots << " snapshots";
  EXPECT_EQ(wrong_horizon, 0) << "of " << snapshots << " snapshots";
  EXPECT_GT(snapshots, 100);
  EXPECT_EQ(store->snapshot()->high_water(), ts_of(kCommits));
}

}  // namespace
}  // namespace signalbox::testing
