#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "signalbox/store/store.h"

namespace signalbox {

// A record of the tile journal of the RocksDB store (unflushed_tiles.h): the tile values one
// commit adds, written in that commit's atomic write and deleted in the atomic write that
// merges them into the `tiles` family. After a crash, the records left are exactly the values
// not yet merged. Layout: the number of tiles (varint), then for each its tile key
// (key_layout.h) and its value (tile_value.h) as length-prefixed strings. Any change is a new
// store format. Pure functions; thread-safe.
std::string encode_journal_record(std::span<const std::pair<TileKey, std::string>> tiles);

// The tiles of `record`; the values point into it. Throws CorruptionError for bytes not so
// written.
std::vector<std::pair<TileKey, std::string_view>> parse_journal_record(std::string_view record);

}  // namespace signalbox
