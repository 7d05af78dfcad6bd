#include "signalbox/store/rocksdb/read_moment.h"

#include <utility>

namespace signalbox {

ReadMoment::ReadMoment(rocksdb::DB& db_in, const rocksdb::Snapshot* snapshot_in,
                       UnflushedTiles::View unflushed_in, rocksdb::ColumnFamilyHandle* tiles_family,
                       rocksdb::ColumnFamilyHandle* events_family,
                       std::chrono::steady_clock::time_point taken_at_in)
    : held_(snapshot_in, GiveBack{&db_in}),
      db(db_in),
      sequence(snapshot_in->GetSequenceNumber()),
      read([snapshot_in] {
        rocksdb::ReadOptions at;
        at.snapshot = snapshot_in;
        return at;
      }()),
      unflushed(std::move(unflushed_in)),
      taken_at(taken_at_in),
      tiles(&db_in, tiles_family, read),
      events(&db_in, events_family, read) {}

std::shared_ptr<const ReadMoment> LatestReadMoment::reusable(
    std::uint64_t latest_sequence, std::chrono::steady_clock::time_point now) const {
  MutexLock lock(mutex_);
  if (kept_ && kept_->sequence == latest_sequence && now - kept_->taken_at < kReuseFor)
    return kept_;
  return nullptr;
}

void LatestReadMoment::keep(std::shared_ptr<const ReadMoment> moment) {
  {
    MutexLock lock(mutex_);
    if (kept_ && kept_->sequence > moment->sequence) return;
    kept_.swap(moment);
  }
  // The moment replaced (now in `moment`) is destroyed here, outside the lock, unless a
  // snapshot still holds it.
}

void LatestReadMoment::forget() {
  std::shared_ptr<const ReadMoment> dropped;
  {
    MutexLock lock(mutex_);
    dropped.swap(kept_);
  }
}

}  // namespace signalbox
