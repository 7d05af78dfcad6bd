#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "signalbox/common/bytes.h"
#include "signalbox/common/error.h"
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

// Calls fn(TilePart) for each part of `value`, in order; throws CorruptionError for bytes
// not so written (the parts before the bad one have been passed to fn by then).
template <typename Fn>
void for_each_tile_part(std::string_view value, Fn&& fn);

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
// StoredTile (a base tile's covered-through time split off its state), each viewing its bytes
// in `value`, which must outlive them. On CorruptionError `out` may already hold some of the
// tile's parts.
void append_stored_tiles(const TileKey& key, std::string_view value,
                         std::span<const std::uint64_t> state_ids, std::vector<StoredTile>& out);

// ---- implementation ----

template <typename Fn>
void for_each_tile_part(std::string_view value, Fn&& fn) {
  ByteReader r(value);
  std::uint64_t previous = 0;
  bool first = true;
  while (!r.done()) {
    const std::uint64_t state = r.fixed64_be();
    if (!first && state <= previous) throw CorruptionError("tile states out of order");
    fn(TilePart{state, r.str()});
    previous = state;
    first = false;
  }
}

}  // namespace signalbox
