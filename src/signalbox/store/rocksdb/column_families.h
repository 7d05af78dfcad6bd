#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>

#include "signalbox/store/rocksdb/rocksdb_options.h"

namespace signalbox {

// How RocksDbOptions become RocksDB's own options: the database's, and each column family's
// (key_layout.h says what each family holds). Pure functions of their arguments.

// The position of each family in column_families()' list, and so in the handles DB::Open
// returns.
enum ColumnFamilyIndex : std::size_t {
  kDefaultFamilyIndex = 0,
  kEventsFamilyIndex,
  kEventIdsFamilyIndex,
  kTilesFamilyIndex
};

// What the store plugs into its families; it owns them, and they must outlive the database.
struct ColumnFamilyHooks {
  const rocksdb::CompactionFilter* event_filter = nullptr;
  const rocksdb::CompactionFilter* event_id_filter = nullptr;
  const rocksdb::CompactionFilter* tile_filter = nullptr;
  std::shared_ptr<rocksdb::MergeOperator> tile_merge;
};

// The database's options; `env` (null: RocksDB's default) gets options.background_jobs
// threads. Creates what is missing unless options.read_only.
rocksdb::DBOptions database_options(const RocksDbOptions& options, rocksdb::Env* env);

// The default, events, event_ids and tiles families, in ColumnFamilyIndex order.
std::vector<rocksdb::ColumnFamilyDescriptor> column_families(const RocksDbOptions& options,
                                                             const ColumnFamilyHooks& hooks);

}  // namespace signalbox
