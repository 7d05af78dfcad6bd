#pragma once

#include <memory>

#include "signalbox/store/rocksdb/rocksdb_options.h"
#include "signalbox/store/store.h"

namespace signalbox {

// The embedded default store on RocksDB: one process, one data folder. Column families
// `events` (raw events by user and time), `event_ids` (a hash of each event id, for
// deduplication; kept for the late horizon), `tiles` (one value per user, kind and start,
// holding every state's part; commits add merge operands that TileMergeOperator folds through
// `merger`) and `default` (stream time, horizons, format, notes); key_layout.h lays out each
// key. Raw events, ids and unreachable tiles expire in compaction (expiry_filters.h), so
// expiry costs no scans. `merger` must outlive the store.
//
// Throws ConfigError when `options` are out of range (validate_rocksdb_options), and
// StorageError when the folder cannot be opened: another process holds it, it is damaged, or
// it was written in another format. Thread-safety as Store's.
std::unique_ptr<Store> open_rocksdb_store(const RocksDbOptions& options, const TileMerger& merger);

}  // namespace signalbox
