#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class SstFileWriter;
}  // namespace rocksdb

namespace signalbox {

// Bulk loading: a large batch's raw events go into the store as a table file (RocksDB's
// SstFileWriter, then IngestExternalFiles) instead of through the memtable, the write-ahead log
// and a flush, which cost a replay about 9 000 instructions an event (the skip list's
// insert, with the assertions of the packaged library) where a table file written from keys
// already sorted costs about 2 500. The files take any column family; the store gives it the
// events only (rocksdb_store.cc says why not the ids).
//
// A bulk-loaded batch is stored in two steps: its table files are ingested (atomically: all
// or none), then the rest of the batch (ids, tile values, stream time, notes and the batch's
// number, rocksdb_keys::kBulkCommittedKey) goes in one write, synced. A crash between the two
// would leave raw events without their ids and tile values: queries would count them at the
// edges of windows though no tile holds them. So the table files stay in the store's `bulk`
// folder until their batch's write is durable, and an open rolls back the batches ingested but
// not committed: it deletes every key of their files (keys that no earlier batch wrote, since
// a batch holds only events whose ids were new), then the files. A batch rolled back is one
// whose replay was not acknowledged; a resumed replay stores it again.
//
// Between the two steps a reader sees the batch's events without its tiles: bulk loading is
// for a store that nothing queries while it loads (`signalbox replay`).
//
// Not synchronised: the store calls it from its writer only.
class BulkLoad {
 public:
  // One table file of a batch: the family it goes to and where it waits.
  struct File {
    rocksdb::ColumnFamilyHandle* family = nullptr;
    std::filesystem::path path;
  };

  // Writes one table file of a batch: keys ascending, each once, each with its value.
  // Uncompressed, as the store's flushes write level 0 (compaction compresses lower levels).
  class TableWriter {
   public:
    TableWriter(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family, std::filesystem::path path);
    ~TableWriter();
    TableWriter(const TableWriter&) = delete;
    TableWriter& operator=(const TableWriter&) = delete;
    void put(std::string_view key, std::string_view value);
    // Finishes the file and syncs it to disk. A file of no key is not kept: its path is then
    // empty, and ingest() and committed() pass over it.
    File finish();

   private:
    rocksdb::ColumnFamilyHandle* family_;
    std::filesystem::path path_;
    std::unique_ptr<rocksdb::SstFileWriter> writer_;
    std::size_t keys_ = 0;
  };

  // `folder` is the store's `bulk` folder (created when missing); `committed` the number of the
  // last batch committed (rocksdb_keys::kBulkCommittedKey, 0 when absent).
  BulkLoad(std::filesystem::path folder, std::uint64_t committed);

  // The number of the next batch and the path of its file for `family_name`.
  std::uint64_t next_batch() const { return committed_ + 1; }
  std::filesystem::path file_path(std::uint64_t batch, std::string_view family_name) const;

  // Makes the folder's entries of `files` durable, then adds the files to the database in one
  // atomic step (each moved in by a hard link, so the folder keeps its own name of it).
  // Throws StorageError; a batch whose ingestion failed is in the store in full or not at all.
  void ingest(rocksdb::DB& db, std::span<const File> files) const;

  // The batch's write (holding kBulkCommittedKey = `batch`) is durable: its files go.
  void committed(std::uint64_t batch, std::span<const File> files);

  // The files of `folder` at an open, before anything is written: those of batches up to
  // `committed` are removed; those of later batches were ingested (or not) without their
  // commit, and `remove_keys(family_name, keys)` is called with each one's keys before it
  // goes. Returns the files' identities (device, inode): a file ingested is also in the
  // database's folder under another name, and an ingestion cut short by a crash leaves that
  // name unlisted in the MANIFEST (the store's check of unlisted files must let it go).
  using RemoveKeys =
      std::function<void(std::string_view family_name, std::span<const std::string> keys)>;
  static std::set<std::pair<dev_t, ino_t>> recover(const std::filesystem::path& folder,
                                                   std::uint64_t committed,
                                                   const RemoveKeys& remove_keys);

 private:
  std::filesystem::path folder_;
  std::uint64_t committed_;
};

// The folder of a store at `store_path` where bulk-loaded files wait.
std::filesystem::path bulk_load_folder(const std::filesystem::path& store_path);

}  // namespace signalbox
