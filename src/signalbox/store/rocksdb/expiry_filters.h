#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <rocksdb/compaction_filter.h>

#include "signalbox/common/mutex.h"
#include "signalbox/common/time.h"
#include "signalbox/store/store.h"

namespace signalbox {

// The compaction filters that expire data: what they drop is what no query can reach any
// more, so expiry costs no scans. Each reads horizons the store advances (only expire() does)
// and that must outlive the filter. Thread-safe: RocksDB calls them from its compaction
// threads while the store moves the horizons.

// Drops raw events (the `events` family) whose key ts is at or before `expired_through`.
// Keys too short to be event keys are kept.
class EventExpiryFilter final : public rocksdb::CompactionFilter {
 public:
  explicit EventExpiryFilter(const std::atomic<TimeMs>& expired_through)
      : expired_through_(expired_through) {}

  bool Filter(int level, const rocksdb::Slice& key, const rocksdb::Slice& value,
              std::string* new_value, bool* value_changed) const override;
  const char* Name() const override { return "signalbox.EventExpiry"; }

 private:
  const std::atomic<TimeMs>& expired_through_;
};

// Drops id records (the `event_ids` family) whose value ts is at or before
// `ids_expired_through`. Values that are not a time are kept.
class EventIdExpiryFilter final : public rocksdb::CompactionFilter {
 public:
  explicit EventIdExpiryFilter(const std::atomic<TimeMs>& ids_expired_through)
      : ids_expired_through_(ids_expired_through) {}

  bool Filter(int level, const rocksdb::Slice& key, const rocksdb::Slice& value,
              std::string* new_value, bool* value_changed) const override;
  const char* Name() const override { return "signalbox.EventIdExpiry"; }

 private:
  const std::atomic<TimeMs>& ids_expired_through_;
};

// The retention policy expire() last set, shared with the compaction threads; none until then.
class SharedRetentionPolicy {
 public:
  void set(const RetentionPolicy& policy);
  std::shared_ptr<const RetentionPolicy> get() const;

 private:
  mutable Mutex mutex_;
  std::shared_ptr<const RetentionPolicy> policy_ SIGNALBOX_GUARDED_BY(mutex_);
};

// Drops what no query of the tiles (the `tiles` family) can reach any more, with `through` the
// raw horizon: hour tiles that start before the day preceding the horizon's day; in day
// tiles, the parts of window-only states that start before the day preceding the day of
// (through - the state's longest window); and the parts of states the policy does not know
// (in a tile of any kind). A tile left with no part goes; one left with some is rewritten
// with those. Queries never rely on such tiles (they check what the horizon guarantees), so
// dropping them in compaction, snapshot or not, changes no answer. The day tile parts of
// base-keeping states are left to expire(), which folds them into the base first. Nothing is
// dropped before a policy is set and the horizon has moved, nor from a tile that does not
// parse.
class TileExpiryFilter final : public rocksdb::CompactionFilter {
 public:
  TileExpiryFilter(const std::atomic<TimeMs>& expired_through, const SharedRetentionPolicy& policy)
      : expired_through_(expired_through), policy_(policy) {}

  Decision FilterV2(int level, const rocksdb::Slice& key, ValueType type,
                    const rocksdb::Slice& value, std::string* new_value,
                    std::string* skip_until) const override;
  const char* Name() const override { return "signalbox.TileExpiry"; }

 private:
  const std::atomic<TimeMs>& expired_through_;
  const SharedRetentionPolicy& policy_;
};

}  // namespace signalbox
