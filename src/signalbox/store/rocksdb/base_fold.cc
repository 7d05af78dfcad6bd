#include "signalbox/store/rocksdb/base_fold.h"

#include <vector>

#include "signalbox/common/bytes.h"
#include "signalbox/store/tile_value.h"

namespace signalbox {

DayTileFold fold_day_tile(TimeMs day_start, std::string_view value, const RetentionPolicy& policy) {
  std::vector<TilePart> parts;
  parse_tile_parts(value, parts);
  DayTileFold fold;
  std::string covered;
  for (const TilePart& part : parts) {
    auto state = policy.states.find(part.state_id);
    if (state == policy.states.end() || !state->second.keep_base) {
      append_tile_part(fold.kept, part.state_id, part.bytes);
      continue;
    }
    covered.clear();
    ByteWriter(covered).time_be(day_start + kDayMs - 1);
    covered.append(part.bytes);
    append_tile_part(fold.to_base, part.state_id, covered);
  }
  return fold;
}

}  // namespace signalbox
