// The RocksDB store's snapshots share one ReadMoment (the RocksDB snapshot, the records read at
// it, pooled iterators) while nothing is written: a moment is reused only at the sequence
// number it was taken at and for a bounded time, an iterator lent from a pool serves one
// reader at a time, and snapshots that share a moment still read on their own, alone or on
// several threads while commits run.

#include <gtest/gtest.h>

#include <rocksdb/db.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "numbered_commits.h"
#include "signalbox/common/time.h"
#include "signalbox/store/rocksdb/iterator_pool.h"
#include "signalbox/store/rocksdb/read_moment.h"
#include "signalbox/store/rocksdb/rocksdb_store.h"
#include "signalbox/store/tiles.h"

namespace signalbox::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

fs::path fresh_folder(const std::string& name) {
  fs::path dir = fs::temp_directory_path() /
                 ("signalbox-read-moment-test-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

// A bare RocksDB database, for the moment and the pool on their own.
class BareDatabase {
 public:
  BareDatabase() : dir_(fresh_folder("bare")) {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    EXPECT_TRUE(rocksdb::DB::Open(options, dir_.string(), &db).ok());
    db_.reset(db);
  }
  ~BareDatabase() {
    db_.reset();
    fs::remove_all(dir_);
  }
  rocksdb::DB& db() { return *db_; }
  void put(const std::string& key) {
    ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), key, "v").ok());
  }
  std::shared_ptr<const ReadMoment> moment(std::chrono::steady_clock::time_point taken_at) {
    return std::make_shared<ReadMoment>(*db_, db_->GetSnapshot(), UnflushedTiles::View(),
                                        db_->DefaultColumnFamily(), db_->DefaultColumnFamily(),
                                        taken_at);
  }

 private:
  fs::path dir_;
  std::unique_ptr<rocksdb::DB> db_;
};

TEST(LatestReadMoment, IsReusedAtItsSequenceNumberForLessThanTheBound) {
  BareDatabase bare;
  bare.put("a");
  const auto t = std::chrono::steady_clock::now();
  LatestReadMoment latest;
  EXPECT_EQ(latest.reusable(bare.db().GetLatestSequenceNumber(), t), nullptr);
  std::shared_ptr<const ReadMoment> moment = bare.moment(t);
  const std::uint64_t sequence = moment->sequence;
  EXPECT_EQ(sequence, bare.db().GetLatestSequenceNumber());
  latest.keep(moment);
  EXPECT_EQ(latest.reusable(sequence, t), moment);
  EXPECT_EQ(latest.reusable(sequence, t + LatestReadMoment::kReuseFor - milliseconds(1)), moment);
  EXPECT_EQ(latest.reusable(sequence, t + LatestReadMoment::kReuseFor), nullptr);
  bare.put("b");  // a write: the kept moment is of an older sequence number
  EXPECT_EQ(latest.reusable(bare.db().GetLatestSequenceNumber(), t), nullptr);
  latest.forget();
  EXPECT_EQ(latest.reusable(sequence, t), nullptr);
}

TEST(LatestReadMoment, KeepsTheLaterOfTwoMoments) {
  BareDatabase bare;
  const auto t = std::chrono::steady_clock::now();
  std::shared_ptr<const ReadMoment> older = bare.moment(t);
  bare.put("a");
  std::shared_ptr<const ReadMoment> newer = bare.moment(t);
  ASSERT_GT(newer->sequence, older->sequence);
  LatestReadMoment latest;
  latest.keep(newer);
  latest.keep(older);  // a snapshot that took its moment before a write, and kept it after
  EXPECT_EQ(latest.reusable(newer->sequence, t), newer);
  EXPECT_EQ(latest.reusable(older->sequence, t), nullptr);
}

TEST(IteratorPool, LendsAKeptIteratorAgainAndAFreshOneBeyondThoseLent) {
  BareDatabase bare;
  bare.put("a");
  bare.put("b");
  IteratorPool pool(&bare.db(), bare.db().DefaultColumnFamily(), rocksdb::ReadOptions());
  rocksdb::Iterator* first = nullptr;
  {
    IteratorPool::Lent lent = pool.lend();
    first = lent.get();
    lent->Seek("b");
    ASSERT_TRUE(lent->Valid());
  }
  IteratorPool::Lent again = pool.lend();
  EXPECT_EQ(again.get(), first) << "the iterator given back is lent again";
  again->Seek("a");  // wherever the last reader left it, a seek positions it
  ASSERT_TRUE(again->Valid());
  EXPECT_EQ(again->key().ToString(), "a");
  // Lent to many readers at once: each its own.
  std::vector<IteratorPool::Lent> many;
  std::set<rocksdb::Iterator*> distinct{again.get()};
  for (std::size_t i = 0; i < IteratorPool::kKept + 3; ++i) {
    many.push_back(pool.lend());
    distinct.insert(many.back().get());
  }
  EXPECT_EQ(distinct.size(), IteratorPool::kKept + 4);
}

std::vector<TimeMs> scan(StoreSnapshot& snapshot, TimeMs from, TimeMs to) {
  std::vector<TimeMs> out;
  snapshot.scan_events(kUser, from, to,
                       [&](std::string_view body) { out.push_back(parse_ts(body)); });
  return out;
}

class RocksDbReadMoments : public ::testing::Test {
 protected:
  RocksDbReadMoments() : dir_(fresh_folder("store")) {}
  ~RocksDbReadMoments() override { fs::remove_all(dir_); }
  std::unique_ptr<Store> open() {
    RocksDbOptions options;
    options.path = dir_;
    return open_rocksdb_store(options, merger_);
  }

  fs::path dir_;
  NoMerger merger_;
};

TEST_F(RocksDbReadMoments, SnapshotsOfOneMomentReadOnTheirOwnAndACommitIsSeenAtOnce) {
  std::unique_ptr<Store> store = open();
  for (int i = 1; i <= 3; ++i) store->commit(commit_number(i));
  std::unique_ptr<StoreSnapshot> a = store->snapshot();
  std::unique_ptr<StoreSnapshot> b = store->snapshot();
  // Interleaved scans of different ranges: each snapshot's iterator is its own.
  EXPECT_EQ(scan(*a, ts_of(1), ts_of(1)), std::vector<TimeMs>{ts_of(1)});
  EXPECT_EQ(scan(*b, ts_of(2), ts_of(3)), (std::vector<TimeMs>{ts_of(2), ts_of(3)}));
  EXPECT_EQ(scan(*a, ts_of(3), ts_of(3)), std::vector<TimeMs>{ts_of(3)});
  store->commit(commit_number(4));
  // Taken within the reuse bound of the moment before: the commit moved the sequence number.
  std::unique_ptr<StoreSnapshot> c = store->snapshot();
  EXPECT_EQ(c->high_water(), ts_of(4));
  EXPECT_EQ(scan(*c, ts_of(1), kLatestTimeMs).size(), 4u);
  EXPECT_EQ(a->high_water(), ts_of(3));
  EXPECT_EQ(scan(*a, ts_of(1), kLatestTimeMs).size(), 3u);
  a.reset();
  b.reset();
  // Snapshots taken and dropped one after another on a quiet store: each reads everything.
  for (int round = 0; round < 3 * static_cast<int>(IteratorPool::kKept); ++round)
    EXPECT_EQ(scan(*store->snapshot(), ts_of(1), kLatestTimeMs).size(), 4u);
}

// Readers on three threads take snapshots while a writer commits in bursts, pausing between
// them so that readers share moments. A snapshot's newest event is the newest commit it holds,
// whose ts is the stream time it must report, and every commit before it must be there.
TEST_F(RocksDbReadMoments, SharedMomentsMatchTheirDataWhileCommitsRun) {
  constexpr int kCommits = 3000;
  std::unique_ptr<Store> store = open();
  store->commit(commit_number(1));
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 2; i <= kCommits; ++i) {
      store->commit(commit_number(i));
      if (i % 100 == 0) std::this_thread::sleep_for(milliseconds(2));
    }
    done.store(true);
  });
  std::atomic<int> snapshots{0}, wrong{0};
  auto read = [&] {
    while (!done.load()) {
      std::unique_ptr<StoreSnapshot> snapshot = store->snapshot();
      const std::vector<TimeMs> events = scan(*snapshot, ts_of(1), kLatestTimeMs);
      const bool whole = !events.empty() && events.back() == ts_of(static_cast<int>(events.size()));
      if (!whole || snapshot->high_water() != events.back()) {
        if (wrong.fetch_add(1) < 5)
          ADD_FAILURE() << "a snapshot holds " << events.size() << " events, the newest at "
                        << (events.empty() ? 0 : events.back()) << ", and reports stream time "
                        << snapshot->high_water();
      }
      snapshots.fetch_add(1);
    }
  };
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) readers.emplace_back(read);
  writer.join();
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(wrong.load(), 0) << "of " << snapshots.load() << " snapshots";
  EXPECT_GT(snapshots.load(), 100);
  EXPECT_EQ(scan(*store->snapshot(), ts_of(1), kLatestTimeMs).size(),
            static_cast<std::size_t>(kCommits));
}

}  // namespace
}  // namespace signalbox::testing
