#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "signalbox/store/store.h"

namespace signalbox {

// The stored value of one tile, shared by the store backends: for each state present, by
// ascending state id, the state id (fixed64 big-endian), then the length and bytes of its
// part. A base tile's part starts with the time it covers through (time_be).
struct TilePart {
  std::uint64_t state_id;
  std::string_view bytes;
};

void append_tile_part(std::string& out, std::uint64_t state_id, std::string_view bytes);

// Appends the parts of `value` to `parts`; throws CorruptionError for bytes not so written.
void parse_tile_parts(std::string_view value, std::vector<TilePart>& parts);

// The tile value of a delta's states.
std::string encode_tile_delta(const TileDelta& delta);

// Merges tile values of one tile of kind `kind` (oldest first) state by state through
// `merger`; a state found in one operand only is copied as it is, and a base tile's parts
// keep the latest covered-through time. Throws CorruptionError for a value not a tile's.
std::string merge_tile_values(TileKind kind, std::span<const std::string_view> operands,
                              const TileMerger& merger);

// Appends to `out` the parts of one tile's value that are in `state_ids` (ascending), as
// StoredTile (a base tile's covered-through time split off its state).
void append_stored_tiles(const TileKey& key, std::string_view value,
                         std::span<const std::uint64_t> state_ids, std::vector<StoredTile>& out);

}  // namespace signalbox
