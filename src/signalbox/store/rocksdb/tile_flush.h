#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "signalbox/store/rocksdb/unflushed_tiles.h"
#include "signalbox/store/store.h"

namespace signalbox {

// One tile value standing for `values` (oldest first): the value itself when there is one,
// else their merge, kept in `storage`. A flush writes it for a generation's values of a tile,
// and a reader merges each generation's the same way, so that both group them alike.
std::string_view merged_operand(TileKind kind, std::span<const std::string_view> values,
                                const TileMerger& merger, std::string& storage);

// The write that flushes one sealed generation of write-behind tiles (unflushed_tiles.h): a
// merge operand per tile of it, in key order, into `tiles`, and the deletion of the journal
// records its values came from, from `journal`.
struct TileFlush {
  std::shared_ptr<const UnflushedTiles::Generation> generation;
  rocksdb::WriteBatch batch;
};

// Builds the flush of `generation`, which must be sealed. Pure: reads only the generation,
// which no longer changes once sealed, and calls `merger` (thread-safe, as TileMerger is), so
// it may run on any thread while the store's writer goes on with other commits. Throws
// CorruptionError for a value that is not a tile's, StorageError if the batch refuses a key.
TileFlush build_tile_flush(std::shared_ptr<const UnflushedTiles::Generation> generation,
                           const TileMerger& merger, rocksdb::ColumnFamilyHandle* tiles,
                           rocksdb::ColumnFamilyHandle* journal);

}  // namespace signalbox
