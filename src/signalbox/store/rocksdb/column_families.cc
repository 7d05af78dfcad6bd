#include "signalbox/store/rocksdb/column_families.h"

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>

#include "signalbox/store/rocksdb/key_layout.h"

namespace signalbox {

rocksdb::DBOptions database_options(const RocksDbOptions& options, rocksdb::Env* env) {
  rocksdb::DBOptions db;
  db.paranoid_checks = options.paranoid_checks;
  if (env) db.env = env;
  db.create_if_missing = !options.read_only;
  db.create_missing_column_families = !options.read_only;
  db.IncreaseParallelism(options.background_jobs);
  db.max_background_jobs = options.background_jobs;
  db.keep_log_file_num = options.info_log_files_kept;
  return db;
}

std::vector<rocksdb::ColumnFamilyDescriptor> column_families(const RocksDbOptions& options,
                                                             const ColumnFamilyHooks& hooks) {
  rocksdb::BlockBasedTableOptions table;
  // A seek ends in a linear scan from the restart point before its key, and seeks are most of
  // what a light user's query reads: a point every 4 keys rather than 16 takes ~1.3 k
  // instructions off each, for ~3 % more bytes (docs/performance.md).
  table.block_restart_interval = 4;
  if (options.bloom_bits_per_key > 0)
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(options.bloom_bits_per_key));
  if (options.block_cache_bytes > 0)
    table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  else
    table.no_block_cache = true;
  std::shared_ptr<rocksdb::TableFactory> table_factory(rocksdb::NewBlockBasedTableFactory(table));

  const rocksdb::CompressionType compression =
      options.compression == RocksDbCompression::kLz4    ? rocksdb::kLZ4Compression
      : options.compression == RocksDbCompression::kZstd ? rocksdb::kZSTD
                                                         : rocksdb::kNoCompression;
  // Level 0 holds what flushes write: left uncompressed, a flush costs no compression (an
  // eighth of a replay's instructions), and compaction compresses it on its way down.
  std::vector<rocksdb::CompressionType> by_level(7, compression);
  by_level[0] = rocksdb::kNoCompression;
  std::shared_ptr<const rocksdb::SliceTransform> by_user;
  if (options.memtable_insert_hints)
    by_user.reset(rocksdb::NewFixedPrefixTransform(rocksdb_keys::kUserPrefixSize));

  auto family = [&] {
    rocksdb::ColumnFamilyOptions cf;
    cf.table_factory = table_factory;
    cf.write_buffer_size = options.write_buffer_bytes;
    cf.memtable_insert_with_hint_prefix_extractor = by_user;
    return cf;
  };

  // Queries seek within one user: a prefix bloom filter on the user answers a seek for a user
  // with no data without reading a block.
  rocksdb::ColumnFamilyOptions events = family();
  events.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(rocksdb_keys::kUserPrefixSize));
  events.compaction_filter = hooks.event_filter;
  events.compression = compression;
  events.compression_per_level = by_level;
  if (options.bulk_load) {
    // A bulk load adds a level-0 file per batch, each spanning every user: compacted four at
    // a time (RocksDB's default), level 1 is rewritten again and again (a quarter of a
    // million-event replay's instructions). Sixteen at a time costs a third of that; nothing
    // reads the events while a replay runs, and the next open (without bulk loading) compacts
    // the rest.
    events.level0_file_num_compaction_trigger = 16;
    events.level0_slowdown_writes_trigger = 40;
    events.level0_stop_writes_trigger = 56;
  }

  rocksdb::ColumnFamilyOptions ids = family();
  ids.level0_file_num_compaction_trigger = options.event_id_level0_files;
  ids.compaction_filter = hooks.event_id_filter;
  ids.compression = compression;
  ids.compression_per_level = by_level;
  if (options.event_id_memtable_bloom_ratio > 0) {
    ids.memtable_whole_key_filtering = true;
    ids.memtable_prefix_bloom_size_ratio = options.event_id_memtable_bloom_ratio;
  }

  rocksdb::ColumnFamilyOptions tiles = family();
  tiles.merge_operator = hooks.tile_merge;
  tiles.compaction_filter = hooks.tile_filter;
  tiles.max_successive_merges = options.tile_max_successive_merges;
  tiles.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(rocksdb_keys::kUserPrefixSize));
  tiles.compression = compression;
  tiles.compression_per_level = by_level;

  rocksdb::ColumnFamilyOptions meta;
  meta.write_buffer_size = options.write_buffer_bytes;

  std::vector<rocksdb::ColumnFamilyDescriptor> families(4);
  families[kDefaultFamilyIndex] = {rocksdb::kDefaultColumnFamilyName, meta};
  families[kEventsFamilyIndex] = {rocksdb_keys::kEventsFamily, events};
  families[kEventIdsFamilyIndex] = {rocksdb_keys::kEventIdsFamily, ids};
  families[kTilesFamilyIndex] = {rocksdb_keys::kTilesFamily, tiles};
  return families;
}

}  // namespace signalbox
