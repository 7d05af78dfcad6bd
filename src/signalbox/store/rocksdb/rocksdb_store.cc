#include "signalbox/store/rocksdb/rocksdb_store.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <functional>
#include <future>
#include <limits>
#include <memory_resource>
#include <numeric>
#include <optional>
#include <set>
#include <span>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/table_properties.h>
#include <rocksdb/write_batch.h>
#include <boost/system/system_error.hpp>

#include "signalbox/common/asio.h"
#include "signalbox/common/error.h"
#include "signalbox/store/rocksdb/base_fold.h"
#include "signalbox/store/rocksdb/bulk_load.h"
#include "signalbox/store/rocksdb/check_status.h"
#include "signalbox/store/rocksdb/column_families.h"
#include "signalbox/store/rocksdb/expiry_filters.h"
#include "signalbox/store/rocksdb/holding_file_system.h"
#include "signalbox/store/rocksdb/key_layout.h"
#include "signalbox/store/rocksdb/read_moment.h"
#include "signalbox/store/rocksdb/tile_flush.h"
#include "signalbox/store/rocksdb/tile_journal.h"
#include "signalbox/store/rocksdb/tile_merge_operator.h"
#include "signalbox/store/rocksdb/tile_versions.h"
#include "signalbox/store/rocksdb/unflushed_tiles.h"
#include "signalbox/store/rocksdb/unfolded_days.h"
#include "signalbox/store/rocksdb/visible_time_cache.h"
#include "signalbox/store/tile_value.h"
#include "signalbox/store/tiles.h"

// The store itself: opening (the format check, table files the MANIFEST does not list),
// commits, expiry, notes and snapshots. Keys come from key_layout.h, RocksDB's options from
// column_families.h; the merge operator, compaction filters and base fold are plugged in.

namespace signalbox {

namespace {

using rocksdb_keys::event_key;
using rocksdb_keys::kExpiredKey;
using rocksdb_keys::kFormat;
using rocksdb_keys::kFormatKey;
using rocksdb_keys::kHighWaterKey;
using rocksdb_keys::kIdsExpiredKey;
using rocksdb_keys::note_key;
using rocksdb_keys::parse_event_key;
using rocksdb_keys::parse_tile_key;
using rocksdb_keys::parse_time_value;
using rocksdb_keys::tile_key;
using rocksdb_keys::time_value;
using rocksdb_keys::user_prefix;

// Ends the unflushed tiles' write on every way out of the scope that began it.
class UnflushedWrite {
 public:
  UnflushedWrite(UnflushedTiles& tiles, rocksdb::SequenceNumber latest) : tiles_(tiles) {
    tiles_.begin_write(latest);
  }
  ~UnflushedWrite() { tiles_.end_write(); }
  UnflushedWrite(const UnflushedWrite&) = delete;
  UnflushedWrite& operator=(const UnflushedWrite&) = delete;

 private:
  UnflushedTiles& tiles_;
};

// One key of a commit by the numbers it is made of, so that a batch is put in key order
// before any key is encoded (key_layout.h: the tuples sort as the bytes do).
struct CommitOrder {
  std::uint64_t user = 0;
  std::uint64_t second = 0;  // an event's ts as sortable_time, or an id's hash
  std::string_view rest;     // an event's id
  std::uint32_t index = 0;   // into the batch, so that equal keys keep the batch's order
  friend auto operator<=>(const CommitOrder&, const CommitOrder&) = default;
};

// A time as the unsigned number whose order is the order of its key bytes (time_be).
std::uint64_t sortable_time(TimeMs ts) { return static_cast<std::uint64_t>(ts) ^ (1ULL << 63); }

// What to do about a store that does not open because its files are damaged.
constexpr char kDamagedAdvice[] =
    "restore the folder from a backup, or replay the events into a new storage.path; the "
    "folder was left as it is";

class RocksDbSnapshot;

class RocksDbStore final : public Store {
 public:
  RocksDbStore(const RocksDbOptions& options, const TileMerger& merger)
      : options_(options),
        merger_(merger),
        merge_operator_(std::make_shared<TileMergeOperator>(merger)),
        event_filter_(expired_through_),
        id_filter_(ids_expired_through_),
        tile_filter_(expired_through_, policy_) {
    validate_rocksdb_options(options);
    if (!options.read_only) {
      holding_fs_ = std::make_shared<HoldingFileSystem>(rocksdb::FileSystem::Default());
      env_ = rocksdb::NewCompositeEnv(holding_fs_);
    }
    const rocksdb::DBOptions db_options = database_options(options, env_.get());
    const std::vector<rocksdb::ColumnFamilyDescriptor> families = column_families(
        options, ColumnFamilyHooks{&event_filter_, &id_filter_, &tile_filter_, merge_operator_});
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    std::string path = options.path.string();
    if (!options.read_only) {
      std::error_code ec;
      std::filesystem::create_directories(options.path, ec);
      if (ec) throw StorageError(fmt::format("cannot create {}: {}", path, ec.message()));
    }
    // Table files the open finds unlisted are held, not deleted, until checked below (and for
    // good when the store refuses to open: closing it would delete them too).
    if (holding_fs_) holding_fs_->hold(true);
    rocksdb::Status status =
        options.read_only ? rocksdb::DB::OpenForReadOnly(db_options, path, families, &handles, &db)
                          : rocksdb::DB::Open(db_options, path, families, &handles, &db);
    // RocksDB's text for a LOCK file held by another process says nothing of what to do.
    if (status.IsIOError() && status.ToString().find("While lock file") != std::string::npos) {
      throw StorageError(fmt::format(
          "the store {} is in use by another process (a running signalbox serve or replay): "
          "stop it first, or send events to the running server (POST /v1/events)",
          path));
    }
    if (status.IsCorruption())
      throw StorageError(fmt::format("rocksdb: open {}: the store is damaged ({}): {}", path,
                                     status.ToString(), kDamagedAdvice));
    check_rocksdb(status, fmt::format("open {}", path));
    db_.reset(db);
    default_ = handles[kDefaultFamilyIndex];
    events_ = handles[kEventsFamilyIndex];
    event_ids_ = handles[kEventIdsFamilyIndex];
    tiles_ = handles[kTilesFamilyIndex];
    try {
      const KeptFoldIndex kept = check_format_and_load(path);
      std::set<std::pair<dev_t, ino_t>> bulk_files;
      if (!options_.read_only) bulk_files = recover_bulk_load();
      if (holding_fs_) release_unlisted_tables(path, bulk_files);
      if (!options_.read_only) take_back_fold_index(kept);
    } catch (...) {
      close();  // a constructor that throws runs no destructor
      throw;
    }
  }

  ~RocksDbStore() override {
    // What is left unflushed is safe in the journal; flushing it now spares the next open
    // (or a read-only reader) from merging it.
    if (!options_.read_only) {
      try {
        flush_unflushed();
      } catch (const std::exception&) {
      }
      try {
        keep_fold_index();
      } catch (const std::exception&) {
      }
    }
    close();
  }

  // A clean close keeps the fold index (key_layout.h): without it, the first fold after the
  // next open would visit every user's tiles. An index that does not know (a scan under way,
  // an overflow) is not kept: the next open scans, as it would anyway.
  void keep_fold_index() {
    if (!unfolded_days_.complete()) return;
    const std::vector<std::pair<std::uint64_t, TimeMs>> noted = unfolded_days_.noted();
    const std::span<const std::pair<std::uint64_t, TimeMs>> all(noted);
    rocksdb::WriteBatch chunks;
    for (std::size_t from = 0; from < all.size(); from += rocksdb_keys::kFoldIndexChunkUsers) {
      const std::size_t count = std::min(rocksdb_keys::kFoldIndexChunkUsers, all.size() - from);
      check_rocksdb(
          chunks.Put(default_,
                     rocksdb_keys::fold_index_key(from / rocksdb_keys::kFoldIndexChunkUsers),
                     rocksdb_keys::fold_index_value(all.subspan(from, count))),
          "keep fold index");
    }
    if (chunks.Count() > 0) write(chunks, "keep fold index");
    rocksdb::WriteBatch sequence;
    check_rocksdb(sequence.Put(default_, rocksdb_keys::kFoldIndexSequenceKey,
                               rocksdb_keys::sequence_value(db_->GetLatestSequenceNumber())),
                  "keep fold index");
    write(sequence, "keep fold index");
  }

  // The fold index a clean close kept, as the open found it.
  struct KeptFoldIndex {
    std::vector<std::string> keys;  // every record of it
    bool current = false;           // nothing was written after it: it may be taken back
    std::vector<std::pair<std::uint64_t, TimeMs>> noted;
  };

  // Reads the fold index a clean close kept, before the open writes anything (a write would
  // make it look stale).
  KeptFoldIndex read_kept_fold_index() {
    KeptFoldIndex kept;
    if (std::optional<std::string> sequence =
            read_record(rocksdb_keys::kFoldIndexSequenceKey, "read kept fold index")) {
      kept.keys.emplace_back(rocksdb_keys::kFoldIndexSequenceKey);
      kept.current =
          rocksdb_keys::parse_sequence_value(*sequence) + 1 == db_->GetLatestSequenceNumber();
    }
    for_each_record(rocksdb_keys::kFoldIndexPrefix, "read kept fold index",
                    [&](std::string_view key, std::string_view value) {
                      kept.keys.emplace_back(key);
                      if (!kept.current) return;
                      std::vector<std::pair<std::uint64_t, TimeMs>> chunk =
                          rocksdb_keys::parse_fold_index_value(value);
                      kept.noted.insert(kept.noted.end(), chunk.begin(), chunk.end());
                    });
    return kept;
  }

  // Once the open has accepted the store: takes back the fold index `kept` if it is current,
  // and deletes it (durably, before any commit) so that no later open takes it back once
  // commits have made it stale. A store without tiles (a new one) has no day tile for a fold
  // to find: its index knows everything from the start.
  void take_back_fold_index(const KeptFoldIndex& kept) {
    if (!kept.keys.empty()) {
      rocksdb::WriteBatch drop;
      for (const std::string& key : kept.keys)
        check_rocksdb(drop.Delete(default_, key), "drop kept fold index");
      // A disk short of its reserve refuses the write, and must not refuse the open (reads
      // are served meanwhile): the records then stay until a later open, and the sequence
      // check alone keeps them out once a commit has made them stale.
      try {
        write(drop, "drop kept fold index", /*sync=*/true);
      } catch (const StorageError&) {
      }
    }
    if (kept.current)
      unfolded_days_.load(kept.noted);
    else if (holds_no_tiles())
      unfolded_days_.load({});
  }

  // Checks the format and loads the records; returns the fold index a clean close kept, read
  // before the open writes anything.
  KeptFoldIndex check_format_and_load(const std::string& path) {
    rocksdb::Status status;
    std::string format;
    status = db_->Get(rocksdb::ReadOptions(), default_, kFormatKey, &format);
    if (status.IsNotFound()) {
      if (!options_.read_only)
        check_rocksdb(db_->Put(write_options(), default_, kFormatKey, kFormat), "write format");
    } else {
      check_rocksdb(status, "read format");
      if (std::optional<std::string_view> difference =
              rocksdb_keys::earlier_format_difference(format))
        throw StorageError(fmt::format(
            "{}: this store was written by an earlier version of Signalbox (format \"{}\", {}); "
            "this version reads \"{}\" only. Replay the events into a new storage.path to rebuild "
            "it",
            path, format, *difference, kFormat));
      const bool upgradable = rocksdb_keys::upgradable_format(format);
      if (upgradable && !options_.read_only)
        check_rocksdb(db_->Put(write_options(), default_, kFormatKey, kFormat), "write format");
      else if (format != kFormat && !upgradable)
        throw StorageError(
            fmt::format("{}: stored format \"{}\" is not \"{}\"", path, format, kFormat));
    }
    KeptFoldIndex kept;
    if (!options_.read_only) kept = read_kept_fold_index();
    recover_journal();
    high_water_ = read_time(kHighWaterKey);
    expired_through_ = read_time(kExpiredKey);
    ids_expired_through_ = read_time(kIdsExpiredKey);
    // A read-only store is not the writer: it leaves the caches empty and its snapshots read
    // the records (a writer in another process does not tell it of its writes).
    if (!options_.read_only) {
      const rocksdb::SequenceNumber latest = db_->GetLatestSequenceNumber();
      snapshot_high_water_.after_write(high_water_.load(), latest);
      snapshot_expired_through_.after_write(expired_through_.load(), latest);
      tile_versions_.start(latest);
    }
    return kept;
  }

  bool holds_no_tiles() {
    rocksdb::ReadOptions scan;
    scan.total_order_seek = true;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(scan, tiles_));
    it->SeekToFirst();
    check_rocksdb(it->status(), "read tiles");
    return !it->Valid();
  }

  // The journal records a crash left (tile_journal.h): a writable store merges them into their
  // tiles and deletes them in one atomic write; a read-only store, whose view is frozen at
  // open, keeps them in memory for its snapshots to add.
  void recover_journal() {
    rocksdb::WriteBatch wb;
    for_each_record(
        rocksdb_keys::kJournalPrefix, "read journal",
        [&](std::string_view record, std::string_view content) {
          const std::uint64_t number = rocksdb_keys::parse_journal_key(record);
          std::vector<std::pair<TileKey, std::string_view>> tiles = parse_journal_record(content);
          if (options_.read_only) {
            std::vector<std::pair<TileKey, std::string>> values;
            values.reserve(tiles.size());
            for (const auto& [key, value] : tiles) values.emplace_back(key, std::string(value));
            unflushed_.add(number, db_->GetLatestSequenceNumber(), std::move(values));
            return;
          }
          for (const auto& [key, value] : tiles)
            check_rocksdb(
                wb.Merge(tiles_, tile_key(key), rocksdb::Slice(value.data(), value.size())),
                "recover tile");
          check_rocksdb(wb.Delete(default_, rocksdb::Slice(record.data(), record.size())),
                        "recover journal");
        });
    if (wb.Count() > 0) write(wb, "recover journal");
  }

  // Calls fn(key, value) for each record of the default family whose key starts with
  // `prefix`, in key order; `what` names a failed read.
  void for_each_record(std::string_view prefix, std::string_view what,
                       const std::function<void(std::string_view, std::string_view)>& fn) {
    rocksdb::ReadOptions scan;
    scan.total_order_seek = true;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(scan, default_));
    for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size()));
         it->Valid() && it->key().ToStringView().starts_with(prefix); it->Next())
      fn(it->key().ToStringView(), it->value().ToStringView());
    check_rocksdb(it->status(), what);
  }

  // Rolls back the bulk-loaded batches a crash left ingested but not committed, removes the
  // bulk folder's files and returns their identities (bulk_load.h); sets up bulk loading when
  // the options ask for it.
  std::set<std::pair<dev_t, ino_t>> recover_bulk_load() {
    std::uint64_t committed = 0;
    if (std::optional<std::string> record =
            read_record(rocksdb_keys::kBulkCommittedKey, "read bulk load record"))
      committed = rocksdb_keys::parse_sequence_value(*record);
    const std::filesystem::path folder = bulk_load_folder(options_.path);
    std::set<std::pair<dev_t, ino_t>> files = BulkLoad::recover(
        folder, committed, [&](std::string_view family, std::span<const std::string> keys) {
          rocksdb::ColumnFamilyHandle* handle = family == rocksdb_keys::kEventsFamily ? events_
                                                : family == rocksdb_keys::kEventIdsFamily
                                                    ? event_ids_
                                                    : nullptr;
          if (!handle || keys.empty()) return;
          rocksdb::WriteBatch wb;
          for (const std::string& key : keys)
            check_rocksdb(wb.Delete(handle, key), "roll back bulk load");
          write(wb, "roll back bulk load", /*sync=*/true);
        });
    if (options_.bulk_load) bulk_.emplace(folder, committed);
    return files;
  }

  // Deletes the table files the open found unlisted in the MANIFEST when the store holds all
  // they hold: those are left by a flush or compaction a crash interrupted (their data is in
  // the write-ahead log, or in the compaction's inputs), or are inputs of a compaction whose
  // deletion a crash interrupted (their data is in its outputs, or expired). A raw event or
  // event id in such a file, not expired and not in the store, means that the MANIFEST lost
  // what it listed (truncated or damaged): then the store refuses to open and the files stay.
  // A file that is also one of `bulk_files` (device, inode) is what an ingestion a crash cut
  // short had linked in: recover_bulk_load() rolled back whatever of it the store holds.
  void release_unlisted_tables(const std::string& path,
                               const std::set<std::pair<dev_t, ino_t>>& bulk_files) {
    std::vector<std::string> files = holding_fs_->take_held();
    check_unlisted_tables(path, files, bulk_files);
    holding_fs_->hold(false);
    // Those deleted by background work while the first were checked.
    std::vector<std::string> more = holding_fs_->take_held();
    check_unlisted_tables(path, more, bulk_files);
    files.insert(files.end(), more.begin(), more.end());
    for (const std::string& file : files)
      holding_fs_->DeleteFile(file, rocksdb::IOOptions(), nullptr).PermitUncheckedError();
  }

  void check_unlisted_tables(const std::string& path, const std::vector<std::string>& files,
                             const std::set<std::pair<dev_t, ino_t>>& bulk_files) {
    for (const std::string& file : files) {
      struct stat status {};
      if (::stat(file.c_str(), &status) == 0 && bulk_files.contains({status.st_dev, status.st_ino}))
        continue;
      if (std::optional<std::string> lost = data_only_in(file))
        throw StorageError(fmt::format(
            "rocksdb: open {}: the MANIFEST does not list table file {}, which holds data the "
            "store does not have ({}): the MANIFEST is damaged or truncated, and opening would "
            "delete that file. Refusing to open: {}",
            path, std::filesystem::path(file).filename().string(), *lost, kDamagedAdvice));
    }
  }

  // A description of the first unexpired event or event id in table `file` that the store
  // lacks, or nullopt. A file that does not open as a table (cut short by a crash) holds
  // nothing stored only there.
  std::optional<std::string> data_only_in(const std::string& file) {
    rocksdb::SstFileReader reader{rocksdb::Options()};
    if (!reader.Open(file).ok()) return std::nullopt;
    const std::string family = reader.GetTableProperties()->column_family_name;
    const bool events = family == rocksdb_keys::kEventsFamily;
    if (!events && family != rocksdb_keys::kEventIdsFamily) return std::nullopt;
    std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(rocksdb::ReadOptions()));
    std::string value;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view key = it->key().ToStringView();
      if (key.size() < (events ? rocksdb_keys::kEventKeyMinSize : rocksdb_keys::kEventIdKeySize))
        continue;
      const TimeMs ts = events ? parse_event_key(key).ts
                               : rocksdb_keys::parse_event_id_value(it->value().ToStringView())
                                     .value_or(kBeginningOfTime);
      if (ts <= (events ? expired_through_.load() : ids_expired_through_.load())) continue;
      rocksdb::Status status =
          db_->Get(rocksdb::ReadOptions(), events ? events_ : event_ids_, it->key(), &value);
      if (status.IsNotFound())
        return fmt::format("{} of user {} at ts {}", events ? "an event" : "an event id",
                           rocksdb_keys::key_user(key), ts);
      check_rocksdb(status, "check table file");
    }
    return std::nullopt;
  }

  void close() {
    // A merge on the side puts the tiles family's handle in its batch.
    if (merging_.valid()) merging_.wait();
    latest_moment_.forget();
    // Debian's RocksDB keeps its assertions: handles must go before the database.
    for (auto** handle : {&events_, &event_ids_, &tiles_, &default_}) {
      if (*handle) db_->DestroyColumnFamilyHandle(*handle);
      *handle = nullptr;
    }
    db_.reset();
  }

  TimeMs high_water() const override { return high_water_.load(std::memory_order_acquire); }
  TimeMs ids_expired_through() const override {
    return ids_expired_through_.load(std::memory_order_acquire);
  }

  std::vector<bool> contains(std::span<const std::pair<std::uint64_t, std::string>> ids) override {
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);  // see commit()
    // The batched MultiGet, not the one over vectors (a Get per key): it probes each table
    // file's filter for all of the keys at once and reads each data block once for the keys in
    // it, where the ids of a long-running store lie in many files (docs/performance.md). The
    // keys go in sorted, as commit() orders them (on their numbers, the order of their bytes),
    // which spares MultiGet its own sort through the comparator.
    std::vector<CommitOrder> order;
    order.reserve(ids.size());
    for (std::uint32_t i = 0; i < ids.size(); ++i)
      order.push_back({ids[i].first, rocksdb_keys::event_id_hash(ids[i].second), {}, i});
    std::sort(order.begin(), order.end());
    std::vector<std::string> keys(order.size());
    std::vector<rocksdb::Slice> slices(order.size());
    for (std::size_t k = 0; k < order.size(); ++k) {
      rocksdb_keys::event_id_key_into(keys[k], order[k].user, order[k].second);
      slices[k] = keys[k];
    }
    std::vector<rocksdb::PinnableSlice> values(order.size());
    std::vector<rocksdb::Status> statuses(order.size());
    db_->MultiGet(rocksdb::ReadOptions(), event_ids_, order.size(), slices.data(), values.data(),
                  statuses.data(), /*sorted_input=*/true);
    std::vector<bool> found(order.size());
    for (std::size_t k = 0; k < order.size(); ++k) {
      if (statuses[k].IsNotFound()) continue;
      check_rocksdb(statuses[k], "read event id");
      found[order[k].index] = true;
    }
    return found;
  }

  void commit(const CommitBatch& batch) override {
    require_writable();
    // RocksDB counts into a thread-local perf context by default, which costs a TLS lookup
    // in every key comparison of a memtable insert; nothing here reads those counts.
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
    // Keys go in in key order: the memtable's skip list then finds each insert point next to
    // the previous one instead of searching from the top, which halves the cost of a batch.
    // The order is worked out on the numbers the keys are made of (key_layout.h: the same
    // order as the bytes), and each key is encoded only when it is written.
    const std::vector<StoredEvent>& events = batch.events;
    std::vector<CommitOrder> event_order, id_order;
    event_order.reserve(events.size());
    id_order.reserve(events.size());
    for (std::uint32_t i = 0; i < events.size(); ++i) {
      const StoredEvent& e = events[i];
      if (e.keep_raw) event_order.push_back({e.user_id, sortable_time(e.ts), e.event_id, i});
      id_order.push_back({e.user_id, rocksdb_keys::event_id_hash(e.event_id), {}, i});
    }
    std::vector<std::uint32_t> tile_order(batch.tiles.size());
    std::iota(tile_order.begin(), tile_order.end(), 0);
    for (auto* order : {&event_order, &id_order}) std::sort(order->begin(), order->end());
    std::sort(tile_order.begin(), tile_order.end(), [&](std::uint32_t a, std::uint32_t b) {
      const TileKey& x = batch.tiles[a].key;
      const TileKey& y = batch.tiles[b].key;
      return std::tuple(x.user_id, x.kind, x.start, a) < std::tuple(y.user_id, y.kind, y.start, b);
    });

    rocksdb::WriteBatch wb;
    std::string key;
    // Bulk loading (bulk_load.h): the raw events go in as a table file first, visible at once;
    // the write below (ids, tiles, stream time) commits the batch by its number.
    std::vector<BulkLoad::File> bulk_files;
    std::uint64_t bulk_batch = 0;
    if (bulk_interrupted_)
      throw StorageError(
          "rocksdb: commit: a bulk-loaded batch was ingested but its write failed; writes stay "
          "refused until the process restarts (the open rolls that batch back)");
    const bool bulk = bulk_ && events.size() >= options_.bulk_load_min_events;
    // A bulk-loaded batch writes its tiles' merge operands itself (below), after those of the
    // commits before it, so theirs are written first.
    if (bulk && unflushed_.bytes() > 0) flush_unflushed();
    if (bulk) {
      check_free_space("commit");
      bulk_batch = bulk_->next_batch();
      bulk_files = write_bulk_tables(bulk_batch, events, event_order);
      bulk_->ingest(*db_, bulk_files);
      check_rocksdb(wb.Put(default_, rocksdb_keys::kBulkCommittedKey,
                           rocksdb_keys::sequence_value(bulk_batch)),
                    "batch bulk record");
      event_order.clear();
    }
    for (const CommitOrder& at : event_order) {
      const StoredEvent& e = events[at.index];
      rocksdb_keys::event_key_into(key, e.user_id, e.ts, e.event_id);
      check_rocksdb(wb.Put(events_, key, e.bytes), "batch event");
    }
    for (const CommitOrder& at : id_order) {
      rocksdb_keys::event_id_key_into(key, at.user, at.second);
      check_rocksdb(wb.Put(event_ids_, key, rocksdb_keys::event_id_value(events[at.index].ts)),
                    "batch id");
    }
    // Write-behind: the tiles' values go to one journal record and to memory, and reach the
    // tiles family merged, at the next flush (unflushed_tiles.h); else one merge per tile.
    // Not for a bulk-loaded batch: it already holds one value per tile for tens of thousands of
    // events, so there is little left to merge in memory, and the journal would put every
    // tile's bytes through the write-ahead log twice (docs/performance.md).
    const bool write_behind = options_.unflushed_tile_bytes > 0 && !batch.tiles.empty() && !bulk;
    std::vector<std::pair<TileKey, std::string>> unflushed;
    if (write_behind) {
      unflushed.reserve(batch.tiles.size());
      for (std::uint32_t at : tile_order)
        unflushed.emplace_back(batch.tiles[at].key, encode_tile_delta(batch.tiles[at]));
      check_rocksdb(wb.Put(default_, rocksdb_keys::journal_key(next_journal_),
                           encode_journal_record(unflushed)),
                    "batch journal");
    } else {
      for (std::uint32_t at : tile_order) {
        const TileDelta& t = batch.tiles[at];
        rocksdb_keys::tile_key_into(key, t.key);
        check_rocksdb(wb.Merge(tiles_, key, encode_tile_delta(t)), "batch tile");
      }
    }
    TimeMs high_water = std::max(batch.high_water, high_water_.load());
    check_rocksdb(wb.Put(default_, kHighWaterKey, time_value(high_water)), "batch high water");
    for (const auto& [name, value] : batch.notes)
      check_rocksdb(wb.Put(default_, note_key(name), value), "batch note");
    const std::vector<std::uint64_t> settling = users_with_settled_tiles(batch.tiles, high_water);
    snapshot_high_water_.before_write();
    {
      TileVersions::Writing versions(tile_versions_, settling, *db_);
      UnflushedWrite writing(unflushed_, db_->GetLatestSequenceNumber());
      try {
        // A bulk-loaded batch's files go once its write is durable: synced.
        write(wb, "commit", /*sync=*/bulk_batch != 0);
      } catch (const StorageError&) {
        if (bulk_batch != 0) bulk_interrupted_ = true;
        throw;
      }
      if (write_behind)
        unflushed_.add(next_journal_++, db_->GetLatestSequenceNumber(), std::move(unflushed));
    }
    snapshot_high_water_.after_write(high_water, db_->GetLatestSequenceNumber());
    high_water_.store(high_water, std::memory_order_release);
    if (bulk_batch != 0) bulk_->committed(bulk_batch, bulk_files);
    for (const TileDelta& t : batch.tiles)
      if (t.key.kind == TileKind::kDay) unfolded_days_.wrote(t.key.user_id, t.key.start);
    // The commit is stored whatever happens here: a flush refused (the disk reserve) leaves
    // the values in the journal and memory, and a later commit tries again.
    try {
      flush_behind();
    } catch (const StorageError&) {
    }
  }

  // After a commit: writes the flush being merged on the side once its merge is done, and
  // starts merging the next once a generation has gathered enough. So the commit that fills
  // a generation does not wait for its merge, only a later one for the write. A merge still
  // running when the next generation has gathered enough too is waited for: at most two
  // generations are unflushed, one merging and one gathering.
  void flush_behind() {
    // Of the generation gathering, which writing a sealed one's flush leaves as it is.
    const bool gathered =
        unflushed_.gathered(options_.unflushed_tile_bytes, options_.unflushed_values_per_tile);
    if (merging_.valid()) {
      const bool merged = merging_.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
      if (!merged && !gathered) return;
      write_tile_flush(merging_.get());
    }
    if (!gathered) return;
    std::shared_ptr<const UnflushedTiles::Generation> generation = unflushed_.seal();
    if (!generation) return;
    try {
      if (!merging_thread_) merging_thread_.emplace(1);
      merging_ = boost::asio::post(*merging_thread_, boost::asio::use_future([this, generation] {
        return flush_of(generation);
      }));
    } catch (const boost::system::system_error&) {
      // No thread to be had: merged and written by this commit.
      write_tile_flush(flush_of(std::move(generation)));
    }
  }

  // The flush of a sealed generation (build_tile_flush: pure, so on any thread).
  TileFlush flush_of(std::shared_ptr<const UnflushedTiles::Generation> generation) const {
    return build_tile_flush(std::move(generation), merger_, tiles_, default_);
  }

  // Writes the table file of bulk-loaded batch `number`: the events in `event_order` (sorted
  // by key), each key once, the batch's last of equal keys kept as a write batch keeps it.
  // The ids stay in the batch's write: they are looked up at every ingest, and a lookup in a
  // memtable (with its bloom filter) is far cheaper than in a dozen level-0 files.
  std::vector<BulkLoad::File> write_bulk_tables(std::uint64_t number,
                                                const std::vector<StoredEvent>& events,
                                                const std::vector<CommitOrder>& event_order) {
    std::string key;
    BulkLoad::TableWriter event_file(*db_, events_,
                                     bulk_->file_path(number, rocksdb_keys::kEventsFamily));
    for (std::size_t i = 0; i < event_order.size(); ++i) {
      const CommitOrder& at = event_order[i];
      if (i + 1 < event_order.size() && at.user == event_order[i + 1].user &&
          at.second == event_order[i + 1].second && at.rest == event_order[i + 1].rest)
        continue;
      const StoredEvent& e = events[at.index];
      rocksdb_keys::event_key_into(key, e.user_id, e.ts, e.event_id);
      event_file.put(key, e.bytes);
    }
    return {event_file.finish()};
  }

  // The users of `tiles` some of whose settled tiles (tile_versions.h) a write with stream
  // time `high_water` changes: a base tile, or a tile of a day before that time's day.
  static std::vector<std::uint64_t> users_with_settled_tiles(const std::vector<TileDelta>& tiles,
                                                             TimeMs high_water) {
    std::vector<std::uint64_t> users;
    const TimeMs head_day = floor_day(high_water);
    for (const TileDelta& t : tiles)
      if (t.key.kind == TileKind::kBase || t.key.start < head_day) users.push_back(t.key.user_id);
    return users;
  }

  // Merges every unflushed tile value into the tiles family: the flush being merged on the
  // side first (flush_behind()), then each generation left, oldest first.
  void flush_unflushed() {
    if (merging_.valid()) write_tile_flush(merging_.get());
    while (std::shared_ptr<const UnflushedTiles::Generation> generation = unflushed_.seal())
      write_tile_flush(flush_of(std::move(generation)));
  }

  // Writes one generation's flush in one atomic write; snapshots from then on read its values
  // from the tiles family. A write refused leaves the generation sealed and unflushed: the next
  // flush merges and writes it again.
  void write_tile_flush(TileFlush flush) {
    UnflushedWrite writing(unflushed_, db_->GetLatestSequenceNumber());
    write(flush.batch, "flush tiles");
    unflushed_.flushed(flush.generation, db_->GetLatestSequenceNumber());
  }

  std::unique_ptr<StoreSnapshot> snapshot() override;
  // The shared part of the snapshots at the latest sequence number, taken now.
  std::shared_ptr<const ReadMoment> take_moment(std::chrono::steady_clock::time_point now);

  void expire(const RetentionPolicy& policy, ExpireOptions options) override {
    require_writable();
    // A fold begun before is finished before another begins, or a compaction; moving the
    // horizons alone leaves it to continue_fold(): a user it has not reached yet keeps its old
    // day tiles (compactions drop day tiles of base-keeping states only by folding them).
    if (options.fold_base || options.compact_tiles || options.compact) fold_slice(0);
    // Folding reads the tiles family, and a compaction is asked for one value per tile: both
    // need every committed value there. Moving the horizons alone does not: a value flushed
    // later into a tile no window reaches any more is dropped by a later compaction.
    if (options.fold_base || options.compact_tiles || options.compact) flush_unflushed();
    policy_.set(policy);
    TimeMs high = high_water();
    if (high == kBeginningOfTime) return;
    TimeMs through = std::max(expired_through_.load(), policy.raw_events_through(high));
    // Persist the horizon before anything is dropped by it, so a snapshot never sees data
    // missing below a horizon it does not know.
    snapshot_expired_through_.before_write();
    check_rocksdb(db_->Put(write_options(), default_, kExpiredKey, time_value(through)),
                  "write horizon");
    snapshot_expired_through_.after_write(through, db_->GetLatestSequenceNumber());
    expired_through_.store(through, std::memory_order_release);
    // The id horizon is persisted too: after a restart the engine judges inputs it has no
    // clock for by it.
    const TimeMs ids_from = options.ids_hold ? std::min(high, *options.ids_hold) : high;
    const TimeMs ids_through = std::max(ids_expired_through_.load(), policy.ids_through(ids_from));
    if (ids_through != ids_expired_through_.load()) {
      check_rocksdb(db_->Put(write_options(), default_, kIdsExpiredKey, time_value(ids_through)),
                    "write id horizon");
      ids_expired_through_.store(ids_through, std::memory_order_release);
    }
    if (options.fold_base) {
      start_fold(policy, through);
      fold_slice(options.users_now());
    }
    rocksdb::CompactRangeOptions compact;
    compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    if (options.compact) {
      for (auto* family : {events_, event_ids_})
        check_rocksdb(db_->CompactRange(compact, family, nullptr, nullptr), "compact");
    }
    if (options.compact || options.compact_tiles)
      check_rocksdb(db_->CompactRange(compact, tiles_, nullptr, nullptr), "compact tiles");
    // A compaction writes no sequence number: the moment kept would hold its input files.
    if (options.compact || options.compact_tiles) latest_moment_.forget();
  }

  // Folds `user`'s day tiles from the one starting at `from` up to `keep_from`; returns the
  // start of the first day tile left, if any (what the next fold starts from).
  template <typename FoldTile>
  std::optional<TimeMs> fold_days_of(rocksdb::Iterator& it, std::uint64_t user, TimeMs from,
                                     TimeMs keep_from, const FoldTile& fold_tile) {
    for (it.Seek(tile_key(TileKey{user, TileKind::kDay, from})); it.Valid(); it.Next()) {
      TileKey tile = parse_tile_key(it.key().ToStringView());
      if (tile.user_id != user || tile.kind != TileKind::kDay) break;
      if (tile.start >= keep_from) return tile.start;
      fold_tile(tile, it.key().ToStringView(), it.value().ToStringView());
    }
    return std::nullopt;
  }

  bool continue_fold(std::size_t max_users) override {
    require_writable();
    return fold_slice(max_users);
  }

  // Begins a fold into base tiles through `through`: the parts of base-keeping states in day
  // tiles older than the hour tiles kept go to their base tile, and each such day tile is
  // rewritten (or deleted) without them in the same atomic batch. fold_slice() does the work.
  void start_fold(const RetentionPolicy& policy, TimeMs through) {
    FoldRound round;
    round.policy = policy;
    round.keep_from = floor_day(through) - kDayMs;
    if (unfolded_days_.complete()) {
      for (const auto& [user, first_day] : unfolded_days_.due(round.keep_from))
        round.users.push_back(user);
    } else {
      // Not known which users are due: every user's day tiles, noting what each has left.
      round.walk = true;
      unfolded_days_.start_scan();
    }
    fold_round_ = std::move(round);
  }

  // Folds at most `max_users` more users (0: all) of the fold begun; returns whether some are
  // left. Commits may come between two calls: a slice first flushes the write-behind tiles, so
  // that it reads every value committed, and each user's day tiles and base tile change in one
  // atomic write, so a snapshot finds every user either folded or not.
  bool fold_slice(std::size_t max_users) {
    if (!fold_round_) return false;
    flush_unflushed();
    FoldRound& round = *fold_round_;
    // A fold that fails midway (a read or a write refused) leaves the index unsure of what it
    // folded: the next one walks every user again.
    struct ForgetOnError {
      UnfoldedDays& days;
      std::optional<FoldRound>& round;
      const int exceptions = std::uncaught_exceptions();
      ~ForgetOnError() {
        if (std::uncaught_exceptions() > exceptions) {
          days.forget();
          round.reset();
        }
      }
    } forget_on_error{unfolded_days_, fold_round_};
    rocksdb::ReadOptions across_users;
    across_users.total_order_seek = true;  // the seeks below go from user to user
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(across_users, tiles_));
    rocksdb::WriteBatch wb;
    std::vector<std::uint64_t> folded_users;  // those with tiles in wb
    auto flush = [&] {
      if (wb.Count() == 0) return;
      {
        TileVersions::Writing versions(tile_versions_, folded_users, *db_);
        check_rocksdb(db_->Write(write_options(), &wb), "fold tiles");
      }
      latest_moment_.forget();
      wb.Clear();
      folded_users.clear();
    };
    // A user's day tiles come one after another: their parts go to the base tile as one
    // operand, merged here, rather than one operand per day tile.
    std::uint64_t user = 0;
    std::vector<std::string> to_bases;
    auto write_base = [&] {
      if (to_bases.empty()) return;
      std::string key = tile_key(TileKey{user, TileKind::kBase, 0});
      std::vector<std::string_view> operands(to_bases.begin(), to_bases.end());
      std::string merged;
      if (!merge_operator_->merge(key, operands, &merged))
        throw CorruptionError("a day tile cannot be merged");
      check_rocksdb(wb.Merge(tiles_, key, merged), "fold into base");
      to_bases.clear();
    };
    auto fold_tile = [&](const TileKey& tile, std::string_view key, std::string_view value) {
      if (tile.user_id != user) {
        write_base();
        if (wb.Count() >= 4096) flush();
        user = tile.user_id;
      }
      DayTileFold fold = fold_day_tile(tile.start, value, round.policy);
      if (fold.to_base.empty()) return;
      if (folded_users.empty() || folded_users.back() != user) folded_users.push_back(user);
      to_bases.push_back(std::move(fold.to_base));
      const std::string& kept = fold.kept;
      if (kept.empty())
        check_rocksdb(wb.Delete(tiles_, rocksdb::Slice(key.data(), key.size())),
                      "drop folded tile");
      else
        check_rocksdb(wb.Put(tiles_, rocksdb::Slice(key.data(), key.size()), kept),
                      "rewrite folded tile");
    };
    std::size_t visited = 0;
    auto room = [&] { return max_users == 0 || visited < max_users; };
    bool done = false;
    if (!round.walk) {
      // Only the day tiles written since the last fold: each due user's from its first one
      // (as noted now: a late value committed since the round began may come first).
      for (; round.next < round.users.size() && room(); ++round.next, ++visited) {
        const std::uint64_t due = round.users[round.next];
        const TimeMs first_day = unfolded_days_.first_day(due).value_or(kBeginningOfTime);
        std::optional<TimeMs> left = fold_days_of(*it, due, first_day, round.keep_from, fold_tile);
        // An index that forgot (it overflowed) meanwhile is refilled by the next walk.
        if (unfolded_days_.complete()) unfolded_days_.folded(due, left);
      }
      done = round.next == round.users.size();
    } else {
      it->Seek(tile_key(TileKey{round.walk_from, TileKind::kBase, kBeginningOfTime}));
      while (it->Valid() && room()) {
        const std::uint64_t next = parse_tile_key(it->key().ToStringView()).user_id;
        unfolded_days_.folded(
            next, fold_days_of(*it, next, kBeginningOfTime, round.keep_from, fold_tile));
        ++visited;
        if (next == std::numeric_limits<std::uint64_t>::max()) {
          done = true;
          break;
        }
        round.walk_from = next + 1;
        it->Seek(tile_key(TileKey{next + 1, TileKind::kBase, kBeginningOfTime}));
      }
      if (!it->Valid()) done = true;  // an error is thrown just below, before `done` counts
    }
    check_rocksdb(it->status(), "scan tiles");
    it.reset();
    write_base();
    flush();
    if (done) {
      if (round.walk) unfolded_days_.finish_scan();
      fold_round_.reset();
    }
    return !done;
  }

  StoreStats stats() override {
    StoreStats s;
    std::uint64_t v = 0;
    if (db_->GetIntProperty(events_, "rocksdb.estimate-num-keys", &v)) s.events = v;
    if (db_->GetIntProperty(tiles_, "rocksdb.estimate-num-keys", &v)) s.tiles = v;
    for (auto* family : {default_, events_, event_ids_, tiles_})
      if (db_->GetIntProperty(family, "rocksdb.total-sst-files-size", &v)) s.bytes_on_disk += v;
    s.unflushed_tile_bytes = unflushed_.bytes();
    return s;
  }

  void flush() override {
    if (options_.read_only) return;
    flush_unflushed();
    rocksdb::FlushOptions options;
    options.wait = true;
    check_rocksdb(db_->Flush(options, {default_, events_, event_ids_, tiles_}), "flush");
  }

  // The write-ahead log keeps writes in order, so a note written after a commit is never
  // recovered without it.
  std::optional<std::string> read_note(std::string_view name) override {
    return read_record(note_key(name), "read note");
  }

  void write_note(std::string_view name, std::optional<std::string_view> value) override {
    require_writable();
    const std::string key = note_key(name);
    if (value)
      check_rocksdb(
          db_->Put(write_options(), default_, key, rocksdb::Slice(value->data(), value->size())),
          "write note");
    else
      check_rocksdb(db_->Delete(write_options(), default_, key), "delete note");
  }

  rocksdb::ColumnFamilyHandle* events() { return events_; }
  const TileMerger& merger() const { return merger_; }
  TimeMs expired_through_now() const { return expired_through_.load(std::memory_order_acquire); }
  // Whether a batch's raw events are ingested as a table file ahead of the write that carries
  // its stream time and tiles (bulk_load.h), so that a snapshot between the two shows them.
  bool bulk_loads() const { return bulk_.has_value(); }
  // The versions of the users' settled tiles, for snapshots (tile_versions.h); never started
  // when the store is read-only.
  const TileVersions& tile_versions() const { return tile_versions_; }

 private:
  rocksdb::WriteOptions write_options() const {
    rocksdb::WriteOptions w;
    w.sync = options_.sync;
    return w;
  }
  // Applies `batch`, unless the disk is short of space. Refusing writes while the reserve is
  // not free keeps RocksDB from meeting a full disk: after a failed write it refuses every
  // write until it recovers, and the RocksDB of Debian aborts the process when asked to
  // recover from a failed write of its log. Reads are served meanwhile.
  void write(rocksdb::WriteBatch& batch, std::string_view what, bool sync = false) {
    check_free_space(what);
    rocksdb::WriteOptions options = write_options();
    options.sync = options.sync || sync;
    rocksdb::Status status = db_->Write(options, &batch);
    latest_moment_.forget();  // it will not be reused: its memtables and files may go
    if (status.ok()) return;
    throw StorageError(fmt::format(
        "rocksdb: {}: {}; writes stay refused until the process restarts (it then recovers "
        "from the write-ahead log)",
        what, status.ToString()));
  }

  void check_free_space(std::string_view what) const {
    if (options_.reserve_bytes == 0) return;
    struct statvfs fs;
    if (::statvfs(options_.path.c_str(), &fs) != 0) return;  // unknown: let the write tell
    const std::uint64_t free = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
    if (free >= options_.reserve_bytes) return;
    throw StorageError(fmt::format(
        "rocksdb: {}: no space: {} has {} bytes free, less than storage.reserve ({} bytes); "
        "writes are refused until space is freed",
        what, options_.path.string(), free, options_.reserve_bytes));
  }

  void require_writable() const {
    if (options_.read_only) throw StorageError("the store is open read-only");
  }
  // The time record `key` (the latest, or as of `at`'s snapshot); kBeginningOfTime when absent.
  TimeMs read_time(const char* key, const rocksdb::ReadOptions& at = rocksdb::ReadOptions()) {
    std::optional<std::string> value = read_record(key, "read meta", at);
    return value ? parse_time_value(*value) : kBeginningOfTime;
  }
  // The value of record `key` of the default family (the latest, or as of `at`'s snapshot),
  // or nullopt when there is none; `what` names a failed read.
  std::optional<std::string> read_record(std::string_view key, std::string_view what,
                                         const rocksdb::ReadOptions& at = rocksdb::ReadOptions()) {
    std::string value;
    rocksdb::Status status = db_->Get(at, default_, rocksdb::Slice(key.data(), key.size()), &value);
    if (status.IsNotFound()) return std::nullopt;
    check_rocksdb(status, what);
    return value;
  }

  RocksDbOptions options_;
  const TileMerger& merger_;
  std::shared_ptr<TileMergeOperator> merge_operator_;
  // Tile values journaled but not merged into tiles_ yet, and the number of the next
  // journal record (numbers start again after an open: it leaves the journal empty).
  UnflushedTiles unflushed_;
  std::uint64_t next_journal_ = 1;
  // The flush of the oldest sealed generation being merged on merging_thread_
  // (flush_behind()), until a commit writes it; invalid when there is none.
  std::future<TileFlush> merging_;
  // Where flushes are merged on the side (started with the first): one thread for the store's
  // life, not a std::async thread a flush, whose end cost mimalloc ~4 M instructions
  // (docs/performance.md).
  std::optional<boost::asio::thread_pool> merging_thread_;
  // The users whose day tiles the next fold into base tiles must visit (commit() and
  // expire() only).
  UnfoldedDays unfolded_days_{options_.fold_index_users};
  // A fold into base tiles begun by expire() and not finished yet (ExpireOptions::
  // fold_slice_users): where it stands, for continue_fold().
  struct FoldRound {
    RetentionPolicy policy;
    TimeMs keep_from = 0;  // day tiles before this are folded
    // With a complete index: the users due when the round began, ascending, and how many are
    // done. Else every user's tiles are walked, from user `walk_from` on.
    bool walk = false;
    std::vector<std::uint64_t> users;
    std::size_t next = 0;
    std::uint64_t walk_from = 0;
  };
  std::optional<FoldRound> fold_round_;
  std::atomic<TimeMs> high_water_{kBeginningOfTime};
  std::atomic<TimeMs> expired_through_{kBeginningOfTime};
  std::atomic<TimeMs> ids_expired_through_{kBeginningOfTime};
  // kHighWaterKey and kExpiredKey as written last, for snapshots; only commit() and expire()
  // write those keys, and they do not overlap (store.h), as the caches require.
  VisibleTimeCache snapshot_high_water_;
  VisibleTimeCache snapshot_expired_through_;
  // Moved by commit() and the fold's writes, which do not overlap either.
  TileVersions tile_versions_;
  SharedRetentionPolicy policy_;
  EventExpiryFilter event_filter_;
  EventIdExpiryFilter id_filter_;
  TileExpiryFilter tile_filter_;
  // The file system and environment of a writable store; they outlive the database.
  std::shared_ptr<HoldingFileSystem> holding_fs_;
  std::unique_ptr<rocksdb::Env> env_;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* default_ = nullptr;
  rocksdb::ColumnFamilyHandle* events_ = nullptr;
  rocksdb::ColumnFamilyHandle* event_ids_ = nullptr;
  rocksdb::ColumnFamilyHandle* tiles_ = nullptr;
  // What the snapshots taken while nothing is written share (snapshot()).
  LatestReadMoment latest_moment_;
  // Set when the options ask for bulk loading (commit() only); bulk_interrupted_ once a
  // batch's files were ingested and its write failed.
  std::optional<BulkLoad> bulk_;
  bool bulk_interrupted_ = false;
};

// Iterators are created with the snapshot: they pin the files they read, so a compaction that
// drops expired events afterwards cannot take anything from under this view.
class RocksDbSnapshot final : public StoreSnapshot {
 public:
  // A snapshot on `moment` (shared with the others at its sequence number, read_moment.h).
  RocksDbSnapshot(RocksDbStore& store, std::shared_ptr<const ReadMoment> moment)
      : moment_(std::move(moment)),
        db_(&moment_->db),
        merger_(store.merger()),
        tile_versions_(store.tile_versions()),
        unflushed_(moment_->unflushed),
        read_(moment_->read),
        events_family_(store.events()),
        tiles_(moment_->tiles.lend()),
        high_water_(moment_->high_water),
        // The horizon may have moved since the moment was taken, before its record is written.
        expired_through_(std::max(moment_->expired_through, store.expired_through_now())),
        bounded_by_high_water_(moment_->bounded_by_high_water) {
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);  // see RocksDbStore::commit
  }

  TimeMs high_water() const override { return high_water_; }
  TimeMs expired_through() const override { return expired_through_; }
  // Stream time is read at the snapshot's sequence number, written in one batch with the
  // events and tiles of each commit; but for a bulk load's table files, added before it.
  bool shows_no_event_after_high_water() const override { return bounded_by_high_water_; }

  void scan_events(std::uint64_t user, TimeMs from, TimeMs to,
                   const std::function<void(std::string_view)>& fn) override {
    std::string prefix = user_prefix(user);
    std::string start = event_key(user, from, "");
    // After a scan of this user up to `to`, the iterator rests on the first key past that
    // range (or past the user, or at the end). A later range of the same user starts after it,
    // so when that key is not before `start` it is also the first key at or after `start`, and
    // the seek, a scan's dearest step (it positions an iterator in every level), is saved: a
    // query scans its raw ranges in ascending order, and most gaps between them hold no event.
    rocksdb::Iterator& events = events_iterator();
    const bool positioned = scanned_ && scanned_->user == user && from > scanned_->to &&
                            (!events.Valid() || events.key().compare(rocksdb::Slice(start)) >= 0);
    scanned_.reset();
    if (!positioned) events.Seek(start);
    for (; events.Valid(); events.Next()) {
      std::string_view key = events.key().ToStringView();
      if (!rocksdb_keys::is_event_key(key) || !key.starts_with(prefix)) break;
      if (parse_event_key(key).ts > to) break;
      fn(events.value().ToStringView());
    }
    check_rocksdb(events.status(), "scan events");
    scanned_ = ScannedRange{user, to};
  }

  std::vector<std::uint64_t> users(std::uint64_t from, std::size_t limit) override {
    std::vector<std::uint64_t> out;
    if (limit == 0) return out;
    // Seeks cross user prefixes here, which the prefix bloom filters of the default
    // iterators do not support.
    rocksdb::ReadOptions total_order = read_;
    total_order.total_order_seek = true;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(total_order, events_family_));
    for (it->Seek(user_prefix(from)); out.size() < limit && it->Valid();) {
      std::string_view key = it->key().ToStringView();
      const std::uint64_t user = parse_event_key(key).user;
      out.push_back(user);
      if (user == std::numeric_limits<std::uint64_t>::max()) break;
      it->Seek(user_prefix(user + 1));  // skip the rest of this user's events
    }
    check_rocksdb(it->status(), "list users");
    return out;
  }

  // One prefix seek per column family; the prefix bloom filters answer most of them for a
  // user never seen without reading a block.
  bool holds_user(std::uint64_t user) override {
    if (unflushed_.holds_user(user)) return true;
    const std::string prefix = user_prefix(user);
    scanned_.reset();  // events_ moves
    for (rocksdb::Iterator* it : {&events_iterator(), tiles_.get()}) {
      it->Seek(prefix);
      const bool found = it->Valid() && it->key().starts_with(rocksdb::Slice(prefix));
      check_rocksdb(it->status(), "look up user");
      if (found) return true;
    }
    return false;
  }

  std::optional<std::uint64_t> tile_version(std::uint64_t user) override {
    return tile_versions_.at(user, moment_->sequence);
  }

  using StoreSnapshot::tiles;
  std::vector<StoredTile> tiles(std::uint64_t user, std::span<const std::uint64_t> state_ids,
                                const TileSelection& selection) override {
    std::vector<StoredTile> out;
    bool positioned = false;
    if (selection.base) read_tiles(user, TileKind::kBase, 0, 0, state_ids, positioned, out);
    for (const auto& [first, last] : selection.day_ranges)
      read_tiles(user, TileKind::kDay, first, last, state_ids, positioned, out);
    for (const auto& [first, last] : selection.hour_ranges)
      read_tiles(user, TileKind::kHour, first, last, state_ids, positioned, out);
    return out;
  }

 private:
  // Made at first use: a light user's query often reads no raw event (its raw ranges hold
  // none, which the hour tiles tell), and an iterator costs some 4 k instructions to make
  // and destroy.
  rocksdb::Iterator& events_iterator() {
    if (!events_) events_ = moment_->events.lend();
    return *events_;
  }

  // Appends the parts of the user's tiles of `kind` starting in [first, last] (the base tile
  // for kBase). A seek costs far more than a step (it positions an iterator in every level),
  // and a user's base, day and hour tiles are adjacent keys: once `positioned`, the iterator
  // walks on from where the range before left it and seeks only to skip tiles before `first`.
  // The keys stepped over lie between ones already read, so none of the range is missed.
  void read_tiles(std::uint64_t user, TileKind kind, TimeMs first, TimeMs last,
                  std::span<const std::uint64_t> state_ids, bool& positioned,
                  std::vector<StoredTile>& out) {
    const bool base = kind == TileKind::kBase;
    const std::string start = tile_key(TileKey{user, kind, first});
    const std::string prefix = rocksdb_keys::tile_kind_prefix(user, kind);
    // The values not flushed yet, by start, each added to its stored tile or alone.
    const std::vector<UnflushedTiles::Tile> unflushed = unflushed_.tiles(user, kind, first, last);
    std::size_t next = 0;
    if (!positioned || !tiles_->Valid() || tiles_->key().compare(rocksdb::Slice(start)) < 0)
      tiles_->Seek(start);
    positioned = true;
    for (; tiles_->Valid(); tiles_->Next()) {
      std::string_view key = tiles_->key().ToStringView();
      if (!key.starts_with(prefix)) break;
      TileKey parsed = parse_tile_key(key);
      if (!base && parsed.start > last) break;
      for (; next < unflushed.size() && unflushed[next].key.start < parsed.start; ++next)
        append_unflushed(unflushed[next], std::nullopt, state_ids, out);
      const std::string_view value = tiles_->value().ToStringView();
      if (next < unflushed.size() && unflushed[next].key.start == parsed.start)
        append_unflushed(unflushed[next++], value, state_ids, out);
      else
        append_stored_tiles(parsed, keep(value), state_ids, out);
      if (base) {
        tiles_->Next();  // a user has one base tile
        break;
      }
    }
    check_rocksdb(tiles_->status(), "read tiles");
    for (; next < unflushed.size(); ++next)
      append_unflushed(unflushed[next], std::nullopt, state_ids, out);
  }

  // One tile's stored value (if any) merged with its unflushed values, then as
  // append_stored_tiles. Each group of values is merged first, as its flush will merge it.
  void append_unflushed(const UnflushedTiles::Tile& tile, std::optional<std::string_view> stored,
                        std::span<const std::uint64_t> state_ids, std::vector<StoredTile>& out) {
    std::vector<std::string> merged_groups(tile.groups.size());
    std::vector<std::string_view> operands;
    if (stored) operands.push_back(*stored);
    std::vector<std::string_view> group_values;
    for (std::size_t g = 0; g < tile.groups.size(); ++g) {
      group_values.clear();
      for (const std::shared_ptr<const std::string>& v : tile.groups[g]) group_values.push_back(*v);
      operands.push_back(merged_operand(tile.key.kind, group_values, merger_, merged_groups[g]));
    }
    std::string merged;
    append_stored_tiles(tile.key, keep(merged_operand(tile.key.kind, operands, merger_, merged)),
                        state_ids, out);
  }

  // A copy of `bytes` that lives as long as the snapshot, for the StoredTile views into it:
  // one copy per tile row read, from a buffer that grows in large blocks.
  std::string_view keep(std::string_view bytes) {
    if (bytes.empty()) return {};
    char* copy = static_cast<char*>(kept_.allocate(bytes.size(), 1));
    std::memcpy(copy, bytes.data(), bytes.size());
    return {copy, bytes.size()};
  }

  // First, so destroyed last: the iterators lent from it go back before it may go.
  std::shared_ptr<const ReadMoment> moment_;
  rocksdb::DB* db_;
  const TileMerger& merger_;
  const TileVersions& tile_versions_;
  const UnflushedTiles::View& unflushed_;
  const rocksdb::ReadOptions& read_;
  rocksdb::ColumnFamilyHandle* events_family_ = nullptr;
  IteratorPool::Lent events_;
  // The last scan_events() range that left events_ on the first key past it.
  struct ScannedRange {
    std::uint64_t user = 0;
    TimeMs to = 0;
  };
  std::optional<ScannedRange> scanned_;
  IteratorPool::Lent tiles_;
  std::pmr::monotonic_buffer_resource kept_{16 * 1024};  // see keep()
  TimeMs high_water_ = kBeginningOfTime;
  TimeMs expired_through_ = kBeginningOfTime;
  bool bounded_by_high_water_ = true;
};

std::unique_ptr<StoreSnapshot> RocksDbStore::snapshot() {
  const auto now = std::chrono::steady_clock::now();
  std::shared_ptr<const ReadMoment> moment =
      latest_moment_.reusable(db_->GetLatestSequenceNumber(), now);
  if (!moment) {
    moment = take_moment(now);
    latest_moment_.keep(moment);
  }
  return std::make_unique<RocksDbSnapshot>(*this, std::move(moment));
}

std::shared_ptr<const ReadMoment> RocksDbStore::take_moment(
    std::chrono::steady_clock::time_point now) {
  const rocksdb::Snapshot* taken = nullptr;
  UnflushedTiles::View unflushed = unflushed_.view([&] {
    taken = db_->GetSnapshot();
    return taken->GetSequenceNumber();
  });
  auto moment =
      std::make_shared<ReadMoment>(*db_, taken, std::move(unflushed), tiles_, events_, now);
  // Stream time and the horizon as of the snapshot, from the caches when they can tell
  // (nearly always: the snapshot is of the latest write; never in a read-only store, which
  // leaves them empty), else read at the snapshot.
  auto at_snapshot = [&](const VisibleTimeCache& cache, const char* key) {
    const std::optional<TimeMs> cached = cache.at(moment->sequence);
    return cached ? *cached : read_time(key, moment->read);
  };
  moment->high_water = at_snapshot(snapshot_high_water_, kHighWaterKey);
  moment->bounded_by_high_water = !bulk_loads();
  moment->expired_through = at_snapshot(snapshot_expired_through_, kExpiredKey);
  return moment;
}

}  // namespace

std::unique_ptr<Store> open_rocksdb_store(const RocksDbOptions& options, const TileMerger& merger) {
  return std::make_unique<RocksDbStore>(options, merger);
}

}  // namespace signalbox
