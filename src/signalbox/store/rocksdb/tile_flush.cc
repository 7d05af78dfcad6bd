#include "signalbox/store/rocksdb/tile_flush.h"

#include <algorithm>
#include <vector>

#include "signalbox/store/rocksdb/check_status.h"
#include "signalbox/store/rocksdb/key_layout.h"
#include "signalbox/store/tile_value.h"

namespace signalbox {

std::string_view merged_operand(TileKind kind, std::span<const std::string_view> values,
                                const TileMerger& merger, std::string& storage) {
  if (values.size() == 1) return values.front();
  storage = merge_tile_values(kind, values, merger);
  return storage;
}

TileFlush build_tile_flush(std::shared_ptr<const UnflushedTiles::Generation> generation,
                           const TileMerger& merger, rocksdb::ColumnFamilyHandle* tiles,
                           rocksdb::ColumnFamilyHandle* journal) {
  TileFlush flush;
  using UserTiles = std::pair<const std::uint64_t, UnflushedTiles::Generation::UserTiles>;
  std::vector<const UserTiles*> users;
  users.reserve(generation->users.size());
  for (const UserTiles& user : generation->users) users.push_back(&user);
  // Keys in key order, as a commit writes them: inserts into the memtable find their place
  // from the one before.
  std::sort(users.begin(), users.end(),
            [](const UserTiles* a, const UserTiles* b) { return a->first < b->first; });
  std::string key, merged;
  std::vector<std::string_view> values;
  for (const UserTiles* user : users) {
    for (const auto& [kind_start, tile_values] : user->second) {
      const TileKey tile{user->first, kind_start.first, kind_start.second};
      rocksdb_keys::tile_key_into(key, tile);
      values.clear();
      for (const UnflushedTiles::Generation::Value& v : tile_values) values.push_back(*v.bytes);
      check_rocksdb(
          flush.batch.Merge(tiles, key, merged_operand(tile.kind, values, merger, merged)),
          "flush tile");
    }
  }
  for (std::uint64_t number : generation->batches)
    check_rocksdb(flush.batch.Delete(journal, rocksdb_keys::journal_key(number)), "flush journal");
  flush.generation = std::move(generation);
  return flush;
}

}  // namespace signalbox
