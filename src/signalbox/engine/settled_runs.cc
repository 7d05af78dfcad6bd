#include "signalbox/engine/settled_runs.h"

namespace signalbox {

std::optional<SpanKey> windowed_run_key(const SpanLookup& runs, std::uint64_t state_id,
                                        const WindowPlan& plan) {
  if (!runs.by_version() || plan.all_history) return std::nullopt;
  const CoverPiece* days = day_piece(plan);
  if (!days || days->to > runs.settled_before) return std::nullopt;
  return settled_run_key(runs.user_id, state_id, *runs.tile_version, false, days->from, days->to);
}

std::optional<SpanKey> all_history_run_key(const SpanLookup& runs, std::uint64_t state_id,
                                           TimeMs as_of) {
  // cover_interval's whole days of any interval ending at as_of end here.
  const TimeMs end_day = floor_day(as_of + 1);
  if (!runs.by_version() || end_day > runs.settled_before) return std::nullopt;
  return settled_run_key(runs.user_id, state_id, *runs.tile_version, true, 0, end_day);
}

bool settled_base(const SpanLookup& runs, std::optional<TimeMs> base_through) {
  return !base_through || *base_through < runs.settled_before;
}

std::optional<SpanKey> leading_run_key(const SpanLookup& runs, std::uint64_t state_id,
                                       const WindowPlan& plan) {
  if (!plan.all_history) return windowed_run_key(runs, state_id, plan);
  if (!settled_base(runs, plan.base ? std::optional<TimeMs>(plan.base_through) : std::nullopt))
    return std::nullopt;
  return all_history_run_key(runs, state_id, runs.as_of);
}

}  // namespace signalbox
