#include "signalbox/store/rocksdb/tile_journal.h"

#include "signalbox/common/bytes.h"
#include "signalbox/common/error.h"
#include "signalbox/store/rocksdb/key_layout.h"

namespace signalbox {

std::string encode_journal_record(std::span<const std::pair<TileKey, std::string>> tiles) {
  std::size_t size = 10;
  for (const auto& [key, value] : tiles) size += rocksdb_keys::kTileKeySize + value.size() + 12;
  std::string record;
  record.reserve(size);
  ByteWriter w(record);
  w.varint(tiles.size());
  std::string key_bytes;
  for (const auto& [key, value] : tiles) {
    rocksdb_keys::tile_key_into(key_bytes, key);
    w.str(key_bytes);
    w.str(value);
  }
  return record;
}

std::vector<std::pair<TileKey, std::string_view>> parse_journal_record(std::string_view record) {
  ByteReader r(record);
  const std::uint64_t n = r.count(2 + rocksdb_keys::kTileKeySize);
  std::vector<std::pair<TileKey, std::string_view>> tiles;
  tiles.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    const TileKey key = rocksdb_keys::parse_tile_key(r.str());
    tiles.emplace_back(key, r.str());
  }
  if (!r.done()) throw CorruptionError("journal record longer than its tiles");
  return tiles;
}

}  // namespace signalbox
