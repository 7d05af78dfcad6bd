// Bulk loading (store/rocksdb/bulk_load.h): a store that writes large commits' raw events as
// ingested table files, and their tiles' merge operands without the write-behind journal, reads
// the same as one that writes them through the memtable and the journal,
// whatever the mix of large and small commits, repeated keys within a commit, events kept
// without their raw copy, and reopens. A crash between a batch's ingestion and its commit is
// made on purpose (the files written and ingested with BulkLoad itself, the commit never
// written), as is a crash within the ingestion (a file linked into the database's folder but
// not listed in its MANIFEST): the next open rolls the batch back, and committing it again
// gives what a store that never crashed holds.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <rocksdb/db.h>

#include "rocksdb_ingestion.h"
#include "signalbox/common/temp_folder.h"
#include "signalbox/common/time.h"
#include "signalbox/store/rocksdb/bulk_load.h"
#include "signalbox/store/rocksdb/column_families.h"
#include "signalbox/store/rocksdb/key_layout.h"
#include "signalbox/store/rocksdb/rocksdb_store.h"
#include "signalbox/store/rocksdb/tile_merge_operator.h"
#include "summed_states.h"

namespace signalbox::testing {
namespace {

namespace fs = std::filesystem;

constexpr TimeMs kT0 = 1704067200000;  // 2024-01-01T00:00:00Z
constexpr std::uint64_t kUsers = 9;
constexpr std::size_t kBulkMin = 16;

// Commit `i`: `events` events of a few users over the last two hours of a stream that moves an
// hour a commit, each with its tile values; every fifth without its raw copy, and the last one
// a second write of the first's key with other bytes (the later wins, as in a write batch).
CommitBatch commit_number(std::mt19937_64& rng, int i, std::size_t events) {
  CommitBatch batch;
  const TimeMs now = kT0 + static_cast<TimeMs>(i) * kHourMs;
  for (std::size_t k = 0; k < events; ++k) {
    StoredEvent e;
    e.user_id = 1 + rng() % kUsers;
    e.ts = now - static_cast<TimeMs>(rng() % (2 * kHourMs));
    e.event_id = "e" + std::to_string(i) + "-" + std::to_string(k);
    e.bytes = "bytes of " + e.event_id;
    e.keep_raw = k % 5 != 4;
    add_summed_value(batch, e.user_id, e.ts, "1");
    batch.events.push_back(std::move(e));
  }
  if (events > 1) {
    StoredEvent again = batch.events.front();
    again.bytes = "rewritten " + again.bytes;
    batch.events.push_back(std::move(again));
  }
  batch.high_water = now;
  return batch;
}

RocksDbOptions options_at(const fs::path& path, bool bulk) {
  RocksDbOptions options;
  options.path = path;
  options.bulk_load = bulk;
  options.bulk_load_min_events = kBulkMin;
  return options;
}

std::unique_ptr<Store> open_at(const fs::path& path, bool bulk, const TileMerger& merger) {
  return open_rocksdb_store(options_at(path, bulk), merger);
}

// Everything a reader of `store` sees of `committed`: each user's raw events, whether each id
// is known, and every tile part, in one comparable text.
std::string contents(Store& store, const std::vector<CommitBatch>& committed) {
  std::string out;
  std::unique_ptr<StoreSnapshot> snapshot = store.snapshot();
  for (std::uint64_t user = 1; user <= kUsers; ++user) {
    out += "user " + std::to_string(user) + " events:";
    snapshot->scan_events(user, kT0 - kDayMs, kT0 + 100 * kDayMs,
                          [&](std::string_view bytes) { out += " [" + std::string(bytes) + "]"; });
    out += "\n";
    const std::uint64_t states[] = {kBaseState, kWindowState};
    for (const StoredTile& t : snapshot->tiles(user, states, kT0 - kDayMs, kT0 + 100 * kDayMs))
      out += " " + std::string(tile_kind_name(t.kind)) + "@" + std::to_string(t.start) + "#" +
             std::to_string(t.state_id) + "=" + std::string(t.state);
    out += "\n";
  }
  std::vector<std::pair<std::uint64_t, std::string>> ids;
  for (const CommitBatch& batch : committed)
    for (const StoredEvent& e : batch.events) ids.emplace_back(e.user_id, e.event_id);
  ids.emplace_back(1, "never-committed");
  for (bool known : store.contains(ids)) out += known ? '1' : '0';
  return out;
}

TEST(RocksDbBulkLoad, BulkLoadedCommitsReadAsCommitsThroughTheMemtable) {
  TempFolder folder(fs::temp_directory_path(), "signalbox-bulk-load-test");
  SumMerger merger;
  std::mt19937_64 rng(7);
  std::vector<CommitBatch> batches;
  for (int i = 0; i < 24; ++i) batches.push_back(commit_number(rng, i, i % 3 == 2 ? 5 : 40));
  std::unique_ptr<Store> plain = open_at(folder.path() / "plain", false, merger);
  std::unique_ptr<Store> bulk = open_at(folder.path() / "bulk", true, merger);
  std::vector<CommitBatch> committed;
  for (std::size_t i = 0; i < batches.size(); ++i) {
    plain->commit(batches[i]);
    bulk->commit(batches[i]);
    committed.push_back(batches[i]);
    ASSERT_EQ(contents(*bulk, committed), contents(*plain, committed)) << "after commit " << i;
    ASSERT_TRUE(fs::is_empty(bulk_load_folder(folder.path() / "bulk")))
        << "a committed batch's files stayed, after commit " << i;
    // A bulk-loaded batch merges its tiles itself, after the write-behind values of the small
    // commits before it; a small one leaves its values to the journal as the plain store does.
    if (batches[i].events.size() >= kBulkMin)
      ASSERT_EQ(bulk->stats().unflushed_tile_bytes, 0u)
          << "tile values left to the journal after bulk-loaded commit " << i;
    else
      ASSERT_GT(bulk->stats().unflushed_tile_bytes, 0u) << "small commit " << i;
    if (i == 11) {  // both reopened midway
      plain.reset();
      bulk.reset();
      plain = open_at(folder.path() / "plain", false, merger);
      bulk = open_at(folder.path() / "bulk", true, merger);
      ASSERT_EQ(contents(*bulk, committed), contents(*plain, committed)) << "after reopening";
    }
  }
  EXPECT_TRUE(rocksdb_ingested_a_file(folder.path() / "bulk")) << "no commit was bulk-loaded";
  EXPECT_FALSE(rocksdb_ingested_a_file(folder.path() / "plain"));
}

// A bulk load adds a batch's raw events before the write that carries its stream time, so a
// snapshot of such a store may show events after its stream time, and says so: queries then
// read the last hour's raw events rather than its tile (query_planner.h).
TEST(RocksDbBulkLoad, ASnapshotOfABulkLoadingStoreDoesNotVouchForItsStreamTime) {
  TempFolder folder(fs::temp_directory_path(), "signalbox-bulk-load-test");
  SumMerger merger;
  std::unique_ptr<Store> plain = open_at(folder.path() / "plain", false, merger);
  std::unique_ptr<Store> bulk = open_at(folder.path() / "bulk", true, merger);
  EXPECT_TRUE(plain->snapshot()->shows_no_event_after_high_water());
  EXPECT_FALSE(bulk->snapshot()->shows_no_event_after_high_water());
}

void must(const rocksdb::Status& status) {
  if (!status.ok()) throw std::runtime_error(status.ToString());
}

// Where an ingestion cut short left a file: a table file's name after the last number used.
fs::path unlisted_file(const fs::path& path) {
  std::uint64_t last = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(path)) {
    // 000014.sst, 000019.log, MANIFEST-000024, OPTIONS-000026: every name's number counts.
    const std::string name = entry.path().filename().string();
    const std::size_t start = name.find_first_of("0123456789");
    if (start != std::string::npos && !name.starts_with("LOG"))
      last = std::max<std::uint64_t>(last, std::stoull(name.substr(start)));
  }
  return path / fmt::format("{:06d}.sst", last + 1);
}

// The state a crash leaves between a batch's ingestion and its commit: `batch`'s raw events
// (and with `ids`, its ids, which the store keeps in the memtable but BulkLoad can load and
// roll back as well) written as the bulk-loaded files of the next batch number and ingested
// into the closed store at `path` (`ingest`), or only written, and the events' file linked
// into the database's folder under a table file's name that its MANIFEST does not list (an
// ingestion cut short). Returns the file's name in the database's folder, if one is left there.
fs::path leave_uncommitted_batch(const fs::path& path, const CommitBatch& batch, bool ingest,
                                 const TileMerger& merger, bool ids = false) {
  RocksDbOptions options = options_at(path, true);
  rocksdb::DBOptions db_options = database_options(options, nullptr);
  // With the store's merge operator: its write-ahead log holds tile merges, which RocksDB
  // cannot recover (it drops the log from the first) into a family without one.
  ColumnFamilyHooks hooks;
  hooks.tile_merge = std::make_shared<TileMergeOperator>(merger);
  std::vector<rocksdb::ColumnFamilyDescriptor> families = column_families(options, hooks);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  must(rocksdb::DB::Open(db_options, path.string(), families, &handles, &raw));
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string committed;
  must(db->Get(rocksdb::ReadOptions(), handles[kDefaultFamilyIndex],
               rocksdb_keys::kBulkCommittedKey, &committed));
  BulkLoad bulk(bulk_load_folder(path), rocksdb_keys::parse_sequence_value(committed));
  const std::uint64_t number = bulk.next_batch();

  std::map<std::string, std::string> events;
  for (const StoredEvent& e : batch.events)
    if (e.keep_raw) events[rocksdb_keys::event_key(e.user_id, e.ts, e.event_id)] = e.bytes;
  BulkLoad::TableWriter event_file(*db, handles[kEventsFamilyIndex],
                                   bulk.file_path(number, rocksdb_keys::kEventsFamily));
  for (const auto& [key, value] : events) event_file.put(key, value);
  std::vector<BulkLoad::File> files = {event_file.finish()};
  if (ids) {
    std::map<std::string, std::string> id_rows;
    for (const StoredEvent& e : batch.events)
      id_rows[rocksdb_keys::event_id_key(e.user_id, e.event_id)] =
          rocksdb_keys::event_id_value(e.ts);
    BulkLoad::TableWriter id_file(*db, handles[kEventIdsFamilyIndex],
                                  bulk.file_path(number, rocksdb_keys::kEventIdsFamily));
    for (const auto& [key, value] : id_rows) id_file.put(key, value);
    files.push_back(id_file.finish());
  }
  if (ingest) bulk.ingest(*db, files);
  for (rocksdb::ColumnFamilyHandle* handle : handles) db->DestroyColumnFamilyHandle(handle);
  // Closed first: a closing database deletes the table files its MANIFEST does not list.
  db.reset();
  if (ingest) return {};
  const fs::path unlisted = unlisted_file(path);
  fs::create_hard_link(files[0].path, unlisted);
  return unlisted;
}

void crash_and_recover(bool ingest, bool ids = false) {
  TempFolder folder(fs::temp_directory_path(), "signalbox-bulk-load-test");
  SumMerger merger;
  std::mt19937_64 rng(11);
  const CommitBatch first = commit_number(rng, 1, 40);
  const CommitBatch second = commit_number(rng, 2, 40);
  const fs::path path = folder.path() / "crashed";
  open_at(path, true, merger)->commit(first);
  const fs::path unlisted = leave_uncommitted_batch(path, second, ingest, merger, ids);
  if (ingest) {
    ASSERT_TRUE(rocksdb_ingested_a_file(path)) << "the crash's state was not made";
  }
  ASSERT_FALSE(fs::is_empty(bulk_load_folder(path)));

  std::unique_ptr<Store> plain = open_at(folder.path() / "plain", false, merger);
  plain->commit(first);
  std::unique_ptr<Store> recovered = open_at(path, true, merger);
  EXPECT_TRUE(fs::is_empty(bulk_load_folder(path))) << "the open left the batch's files";
  if (!unlisted.empty()) {
    EXPECT_FALSE(fs::exists(unlisted)) << "the open kept the unlisted file";
  }
  // Nothing of the uncommitted batch: its events are gone, the first batch's stay.
  ASSERT_EQ(contents(*recovered, {first, second}), contents(*plain, {first, second}));
  // Committed again, it is stored as in a store that never crashed.
  recovered->commit(second);
  plain->commit(second);
  EXPECT_EQ(contents(*recovered, {first, second}), contents(*plain, {first, second}));
}

TEST(RocksDbBulkLoad, AnOpenRollsBackABatchIngestedButNotCommitted) {
  crash_and_recover(/*ingest=*/true);
}

// The ids family's file of such a batch goes the same way: its ids are unknown again (contents()
// asks for each of them).
TEST(RocksDbBulkLoad, AnOpenRollsBackTheIdsOfABatchIngestedButNotCommitted) {
  crash_and_recover(/*ingest=*/true, /*ids=*/true);
}

TEST(RocksDbBulkLoad, AnOpenLetsGoOfAFileAnIngestionCutShortLeftUnlisted) {
  crash_and_recover(/*ingest=*/false);
}

}  // namespace
}  // namespace signalbox::testing
