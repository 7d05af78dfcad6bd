#pragma once

#include <limits>
#include <optional>

#include <rocksdb/types.h>

#include "signalbox/common/mutex.h"
#include "signalbox/common/time.h"

namespace signalbox {

// The last written value of one time record of the RocksDB store's default column family
// (stream time, the expiry horizon) and the sequence number from which that value is
// visible, so that a snapshot learns the record's value at its sequence number without a Get
// (two of them cost about 4 % of a light query).
//
// Contract: the record has one writer at a time (the store's commit() and expire() do not
// overlap), which calls before_write() before each write of the record, and after_write()
// with the value written and the database's latest sequence number once that write has
// returned. Any thread may call at() at any time. A cache that after_write() was never
// called on (a read-only store, whose files another process may be changing) answers
// nothing.
//
// Why at(s) is the record's value in a snapshot at sequence number s, when it answers:
// * An answer (v, from) was stored by after_write() after the write of v returned, so that
//   write's sequence number is <= from (the latest number then); a snapshot at s >= from
//   contains it.
// * Nor does such a snapshot contain a later write of the record. That write's
//   before_write() emptied the cache before the write got its sequence number; a snapshot
//   at s >= that number was taken after the write was published, hence after the emptying,
//   and reads the cache after it was taken: the mutex orders that read after the emptying,
//   so it finds the cache empty, or filled by the later write's own after_write() (then
//   s >= its `from` is needed to answer, and s contains that write: the first point again).
// * A snapshot taken before a write (s below its sequence number) may read the cache at any
//   point of that write: empty, it asks the database; filled by the write's after_write(),
//   `from` >= the write's number > s, so it asks the database too.
// A write that fails leaves the cache empty until the record's next write succeeds; the
// snapshots meanwhile read the record from the database.
class VisibleTimeCache {
 public:
  // Before a write of the record: no snapshot may take the cached value for the new one.
  void before_write() {
    MutexLock lock(mutex_);
    visible_from_ = kNever;
  }

  // After a write of `value` returned, `latest` being the database's latest sequence number
  // read after it (see the contract: no other write of the record in between).
  void after_write(TimeMs value, rocksdb::SequenceNumber latest) {
    MutexLock lock(mutex_);
    value_ = value;
    visible_from_ = latest;
  }

  // The record's value in a snapshot at `sequence`, or nullopt when the cache cannot tell
  // (an older snapshot, a write in flight, a read-only store): then read it at the snapshot.
  std::optional<TimeMs> at(rocksdb::SequenceNumber sequence) const {
    MutexLock lock(mutex_);
    if (sequence < visible_from_) return std::nullopt;
    return value_;
  }

 private:
  static constexpr rocksdb::SequenceNumber kNever =
      std::numeric_limits<rocksdb::SequenceNumber>::max();

  mutable Mutex mutex_;
  TimeMs value_ SIGNALBOX_GUARDED_BY(mutex_) = kBeginningOfTime;
  rocksdb::SequenceNumber visible_from_ SIGNALBOX_GUARDED_BY(mutex_) = kNever;
};

}  // namespace signalbox
