// How far back the online state can answer a user's signals: the query planner run without
// the reads, so that a caller (the explorer page) can find the edge without being refused.

#include <limits>

#include <fmt/format.h>

#include "signalbox/common/error.h"
#include "signalbox/engine/engine.h"
#include "signalbox/engine/query_planner.h"

namespace signalbox {

bool Engine::answerable(StoreSnapshot& snapshot, std::uint64_t user_id,
                        const std::vector<SignalRequest>& requests, TimeMs as_of) const {
  // A signal without windows is refused before its base tile's span: read that one tile.
  std::vector<std::optional<TimeMs>> base_through(signals_.size());
  for (std::size_t s = 0; s < signals_.size(); ++s) {
    if (requests[s].name.empty() || requests[s].windowed) continue;
    const std::uint64_t state_id = signals_[s]->state_id();
    for (const StoredTile& t : snapshot.tiles(user_id, std::span(&state_id, 1), as_of, as_of))
      if (t.kind == TileKind::kBase) base_through[s] = t.covered_through;
  }
  const OnlineState online = online_state_of(snapshot);
  for (std::size_t s = 0; s < signals_.size(); ++s) {
    if (requests[s].name.empty()) continue;
    try {
      // Whether a window is answerable does not depend on how its last hour is read.
      plan_signal(requests[s], as_of, online, base_through[s], std::numeric_limits<TimeMs>::max());
    } catch (const QueryError&) {
      return false;
    }
  }
  return true;
}

std::optional<TimeMs> Engine::earliest_answerable(std::uint64_t user_id,
                                                  const std::vector<std::string>& requested,
                                                  TimeMs from, TimeMs to, TimeMs precision) {
  if (from < 0) throw QueryError("from: must be a time in milliseconds since the epoch, >= 0");
  if (from > to) throw QueryError(fmt::format("from: {} is after to ({})", from, to));
  const std::vector<SignalRequest> requests =
      requested.empty() ? all_requests_ : requests_for(name_refs(requested));
  // One snapshot for the whole search, so that every probe sees the same stream time.
  std::unique_ptr<StoreSnapshot> snapshot = store_->snapshot();
  if (answerable(*snapshot, user_id, requests, from)) return from;
  if (!answerable(*snapshot, user_id, requests, to)) return std::nullopt;
  TimeMs lo = from, hi = to;  // lo cannot be answered, hi can
  while (hi - lo > std::max<TimeMs>(precision, 1)) {
    const TimeMs mid = lo + (hi - lo) / 2;
    (answerable(*snapshot, user_id, requests, mid) ? hi : lo) = mid;
  }
  return hi;
}

}  // namespace signalbox
