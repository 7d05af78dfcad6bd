#include "signalbox/store/tile_value.h"

#include <algorithm>

#include "signalbox/common/bytes.h"
#include "signalbox/common/error.h"

namespace signalbox {

void append_tile_part(std::string& out, std::uint64_t state_id, std::string_view bytes) {
  ByteWriter w(out);
  w.fixed64_be(state_id);
  w.str(bytes);
}

void parse_tile_parts(std::string_view value, std::vector<TilePart>& parts) {
  for_each_tile_part(value, [&](const TilePart& part) { parts.push_back(part); });
}

std::string encode_tile_delta(const TileDelta& delta) {
  std::string out;
  for (const StateDelta& part : delta.states) append_tile_part(out, part.state_id, part.state);
  return out;
}

std::string merge_tile_values(TileKind kind, std::span<const std::string_view> operands,
                              const TileMerger& merger) {
  if (operands.empty()) return std::string();
  if (operands.size() == 1) return std::string(operands[0]);
  std::vector<TilePart> parts;
  for (std::string_view op : operands) parse_tile_parts(op, parts);
  // Oldest first within each state: the sort is stable.
  std::stable_sort(parts.begin(), parts.end(),
                   [](const TilePart& a, const TilePart& b) { return a.state_id < b.state_id; });
  std::string out;
  std::vector<std::string_view> states;
  for (std::size_t begin = 0; begin < parts.size();) {
    std::size_t end = begin + 1;
    while (end < parts.size() && parts[end].state_id == parts[begin].state_id) ++end;
    const std::uint64_t state_id = parts[begin].state_id;
    if (end - begin == 1) {
      append_tile_part(out, state_id, parts[begin].bytes);
    } else if (kind != TileKind::kBase) {
      states.clear();
      for (std::size_t i = begin; i < end; ++i) states.push_back(parts[i].bytes);
      append_tile_part(out, state_id, merger.merge(state_id, states));
    } else {
      TimeMs covered = kBeginningOfTime;
      states.clear();
      for (std::size_t i = begin; i < end; ++i) {
        ByteReader r(parts[i].bytes);
        covered = std::max(covered, r.time_be());
        states.push_back(r.rest());
      }
      std::string merged;
      ByteWriter(merged).time_be(covered);
      merged.append(merger.merge(state_id, states));
      append_tile_part(out, state_id, merged);
    }
    begin = end;
  }
  return out;
}

// A query calls this for every tile row it reads (hundreds for a heavy user): the parts are
// walked in place rather than collected into a vector first.
void append_stored_tiles(const TileKey& key, std::string_view value,
                         std::span<const std::uint64_t> state_ids, std::vector<StoredTile>& out) {
  for_each_tile_part(value, [&](const TilePart& part) {
    if (!std::binary_search(state_ids.begin(), state_ids.end(), part.state_id)) return;
    StoredTile& tile = out.emplace_back();
    tile.state_id = part.state_id;
    tile.kind = key.kind;
    tile.start = key.start;
    std::string_view bytes = part.bytes;
    if (key.kind == TileKind::kBase) {
      ByteReader r(bytes);
      tile.covered_through = r.time_be();
      bytes = r.rest();
    }
    tile.state = bytes;
  });
}

}  // namespace signalbox
