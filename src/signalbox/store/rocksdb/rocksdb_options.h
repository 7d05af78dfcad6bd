#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>

namespace signalbox {

enum class RocksDbCompression : std::uint8_t { kNone, kLz4, kZstd };

// Everything the RocksDB store is opened with: where, how, and every RocksDB setting it
// chooses (RocksDB's own defaults apply to the rest). Each default is stated beside its field.
// `path`, `sync` and `reserve_bytes` come from the config (`storage.path`, `storage.sync`,
// `storage.reserve`) and `read_only` from the command, all in open_store(); the tuning
// fields have no config keys, so a server always runs with their defaults.
// validate_rocksdb_options() names the first field out of range; the store checks it on open.
struct RocksDbOptions {
  // ---- where and how ----

  // The data folder; created (with its parents) when a writable store opens. No default.
  std::filesystem::path path;
  // Opens without taking the write lock, for `signalbox get` beside a running server: reads
  // see the data as of opening. commit() and expire() then throw StorageError.
  // Default: false.
  bool read_only = false;
  // fsync the write-ahead log on every commit (RocksDB's WriteOptions::sync). Off: a commit
  // survives a process crash but not a power loss; on, it costs about a millisecond per commit.
  // Default: false.
  bool sync = false;
  // commit() throws StorageError, writing nothing, while the file system holding `path` has
  // less free space than this, so that RocksDB's own flushes and compactions never meet a
  // full disk. Default: 0 (no check).
  std::uint64_t reserve_bytes = 0;
  // A commit of at least `bulk_load_min_events` events stores its raw events as a table file
  // ingested into the store (bulk_load.h) instead of through the memtable and the write-ahead
  // log, and its tile values as merge operands in its write, not through the tile journal
  // (unflushed_tile_bytes); the `events` family is compacted 16 level-0 files at a time
  // instead of 4. A query running meanwhile may see a batch's events before its tiles, so
  // this is for a store nothing queries while it loads: `signalbox replay` sets it. Any
  // writable open, with it or without, rolls back a bulk-loaded batch a crash left ingested
  // but not committed. Default: false.
  bool bulk_load = false;

  // ---- tuning ----

  // The LRU cache of uncompressed table blocks, shared by every column family: reads of a
  // user's recent events and tiles hit it instead of decompressing again. 0: no block cache
  // (every read goes to the operating system's page cache). Default: 256 MiB.
  std::size_t block_cache_bytes = std::size_t{256} << 20;
  // Bits per key of the bloom filters in table files (whole keys, and in `events` and `tiles`
  // the user prefix): a look-up of an id never seen, or of a user with no data, then skips
  // nearly every file without reading it. 10 gives about 1% false positives. 0: no filters.
  // Default: 10.
  double bloom_bits_per_key = 10;
  // The size a column family's memtable reaches before it is flushed to a table file; larger
  // means fewer, larger level-0 files and more memory, and a longer write-ahead log to replay
  // after a crash; smaller, faster ingest (inserts into a smaller skip list, in the commit
  // where ingest waits). At least 64 KiB. Default: 16 MiB (RocksDB's own is 64 MiB;
  // docs/performance.md, "The memtable's size").
  std::size_t write_buffer_bytes = std::size_t{16} << 20;
  // Compression of the `events`, `event_ids` and `tiles` table files below level 0 (encoded
  // events and tile states compress well, and LZ4 is cheap to decompress on every read that
  // misses the block cache; Zstandard makes the files smaller for more CPU, in compactions
  // and in reads that miss the block cache); what a flush writes to level 0 is left
  // uncompressed. The default family keeps RocksDB's default. Default: kLz4.
  RocksDbCompression compression = RocksDbCompression::kLz4;
  // Threads for background flushes and compactions (DBOptions::max_background_jobs and the
  // environment's thread pools). At least 1. Default: 2.
  int background_jobs = 2;
  // How many of RocksDB's informational LOG files are kept. At least 1. Default: 4.
  std::size_t info_log_files_kept = 4;
  // Checks what is read at open (table file sizes against the MANIFEST, checksums) and stops
  // writes after any background error instead of going on from a damaged state.
  // Default: true.
  bool paranoid_checks = true;
  // Tile values committed but not yet merged into the `tiles` family are kept in memory and in
  // the tile journal (unflushed_tiles.h), and merged into one operand per tile, in one atomic
  // write, once they reach this many bytes: a tile that many commits touch is then written once
  // per flush instead of once per commit. Also the most a crash leaves to recover at the next
  // open. 0: each commit writes its tiles' merge operands itself (no journal).
  // Default: 32 MiB.
  std::size_t unflushed_tile_bytes = std::size_t{32} << 20;
  // ... or once one tile has gathered this many values (a query of its user merges them all).
  // At least 1. Default: 16.
  std::size_t unflushed_values_per_tile = 16;
  // Past this many merge operands of one tile pending in the memtable, RocksDB merges them at
  // write time so that reads do not redo it every time; the price is a memtable search to
  // count them at every tile merge written (5 % of a replay's instructions). With write-behind
  // tiles a hot tile (a heavy user's current hour) gets one operand per flush, not one per
  // commit, so none is needed; without them (unflushed_tile_bytes = 0), 8 is a good value.
  // 0: never at write time. Default: 0.
  std::size_t tile_max_successive_merges = 0;
  // The share of the `event_ids` memtable given to a bloom filter of its keys: nearly every
  // id looked up at ingest is new, and the filter answers those without searching the
  // memtable. 0: none; at most 0.25. Default: 0.05.
  double event_id_memtable_bloom_ratio = 0.05;
  // Level-0 files of the `event_ids` family compacted at once. Every commit looks up each of
  // its events' ids, probing the filter of every level-0 file that may hold it: fewer files
  // than RocksDB's 4 mean fewer probes, for more (small) compactions (docs/performance.md).
  // Default: 2.
  int event_id_level0_files = 2;
  // Memtable inserts start from where the same user's previous insert went (every key starts
  // with the user, and a user's new keys land next to its last ones) instead of searching the
  // whole skip list. Default: true.
  bool memtable_insert_hints = true;
  // A fold into base tiles (expire()) visits only the users with day tiles written since the
  // fold before, known from the commits (unfolded_days.h), for up to this many users (about
  // 50 bytes each); past it, and in the first fold after an open that finds no index kept
  // by a clean close (after a crash), it scans every user's tiles. 0: always scan.
  // Default: 1 048 576.
  std::size_t fold_index_users = std::size_t{1} << 20;
  // With `bulk_load`, the fewest events a commit must carry to be bulk-loaded: a smaller one
  // is not worth a table file and its ingestion (a few file syncs). At least 1.
  // Default: 1024.
  std::size_t bulk_load_min_events = 1024;
};

// Throws ConfigError naming the first field of `options` out of its documented range.
void validate_rocksdb_options(const RocksDbOptions& options);

}  // namespace signalbox
