#pragma once

#include <filesystem>
#include <memory>

#include "signalbox/store/store.h"

namespace signalbox {

struct RocksDbOptions {
  std::filesystem::path path;
  // Opens without taking the write lock, for `signalbox get` beside a running server: reads
  // see the data as of opening. commit() and expire() then throw StorageError.
  bool read_only = false;
  // fsync the write-ahead log on every commit. Off: a commit survives a process crash but
  // not a power loss.
  bool sync = false;
  // commit() throws StorageError, writing nothing, while the file system holding `path` has
  // less free space than this (0: no check).
  std::uint64_t reserve_bytes = 0;
};

// The embedded default store on RocksDB. Column families: `events` (key: user, ts, event_id),
// `event_ids` (key: user, 64-bit hash of event_id; value: ts; for deduplication, kept for the
// late horizon), `tiles` (key: user, state, kind,
// start; updated with a merge operator that calls `merger`), and `default` for stream time.
// Raw events expire in compaction (a compaction filter), so expiry costs no scans. `merger`
// must outlive the store. Throws StorageError when the folder cannot be opened (for example
// when another process holds it).
std::unique_ptr<Store> open_rocksdb_store(const RocksDbOptions& options, const TileMerger& merger);

}  // namespace signalbox
