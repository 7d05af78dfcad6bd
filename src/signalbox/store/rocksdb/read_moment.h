#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include <rocksdb/db.h>

#include "signalbox/common/mutex.h"
#include "signalbox/common/time.h"
#include "signalbox/store/rocksdb/iterator_pool.h"
#include "signalbox/store/rocksdb/unflushed_tiles.h"

namespace signalbox {

// What every snapshot of the RocksDB store taken at one sequence number sees alike: the RocksDB
// snapshot, the unflushed tiles visible at it, the store's records as of it, and iterators at
// it. Taking these costs some 6 000 instructions (the database's mutex, the unflushed tiles'
// lock, an iterator made and later destroyed), near a tenth of a light user's whole query;
// while nothing is written, the snapshots taken one after another share one moment instead
// (LatestReadMoment). Two snapshots at the same sequence number read the same data, so sharing
// changes no answer.
//
// Immutable once made but for its iterator pools, which are thread-safe: any number of
// snapshots on any threads may share one. Must be destroyed before the database closes; it
// gives the RocksDB snapshot back when it goes, after its iterators.
struct ReadMoment {
 private:
  struct GiveBack {
    rocksdb::DB* db;
    void operator()(const rocksdb::Snapshot* snapshot) const { db->ReleaseSnapshot(snapshot); }
  };
  // First of the members, so destroyed last: after the pools' iterators.
  std::unique_ptr<const rocksdb::Snapshot, GiveBack> held_;

 public:
  // Takes over `snapshot`, of `db`; the iterator pools read `tiles` and `events` at it.
  ReadMoment(rocksdb::DB& db, const rocksdb::Snapshot* snapshot, UnflushedTiles::View unflushed,
             rocksdb::ColumnFamilyHandle* tiles, rocksdb::ColumnFamilyHandle* events,
             std::chrono::steady_clock::time_point taken_at);
  ReadMoment(const ReadMoment&) = delete;
  ReadMoment& operator=(const ReadMoment&) = delete;

  rocksdb::DB& db;
  const std::uint64_t sequence;     // the snapshot's
  const rocksdb::ReadOptions read;  // at the snapshot
  const UnflushedTiles::View unflushed;
  const std::chrono::steady_clock::time_point taken_at;
  // The store's records as of `sequence`, set by the store before it shares the moment.
  TimeMs high_water = kBeginningOfTime;
  TimeMs expired_through = kBeginningOfTime;
  bool bounded_by_high_water = true;
  mutable IteratorPool tiles;
  mutable IteratorPool events;
};

// The RocksDB store's latest ReadMoment, kept for the snapshots taken after it while the
// database's latest sequence number has not moved (nothing written) and for at most
// kReuseFor: the kept iterators hold on to the memtables and table files of the moment they
// were made at, so a compaction that finishes with nothing written after it (its output has
// no new sequence number) has its input files deleted at most that long after.
//
// Thread-safe. Nothing here waits for anything but its own short lock; a moment is destroyed
// outside it.
class LatestReadMoment {
 public:
  static constexpr std::chrono::milliseconds kReuseFor{1000};

  // The kept moment when it is at `latest_sequence` and was taken less than kReuseFor before
  // `now`; else null.
  std::shared_ptr<const ReadMoment> reusable(std::uint64_t latest_sequence,
                                             std::chrono::steady_clock::time_point now) const;
  // Keeps `moment` for the snapshots after it, unless the one kept is of a later sequence
  // number.
  void keep(std::shared_ptr<const ReadMoment> moment);
  // Drops the kept moment: after a write (it will not be reused: its memtables and files can
  // go as soon as the snapshots on it end), and before the database closes.
  void forget();

 private:
  mutable Mutex mutex_;
  std::shared_ptr<const ReadMoment> kept_ SIGNALBOX_GUARDED_BY(mutex_);
};

}  // namespace signalbox
