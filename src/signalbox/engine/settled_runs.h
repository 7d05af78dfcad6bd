#pragma once

#include <cstdint>
#include <optional>

#include "signalbox/engine/query_planner.h"
#include "signalbox/engine/span_cache.h"

namespace signalbox {

// Which leading runs of a query can be found in the span cache before the user's tiles are
// read: those keyed by the user's tile version (settled_run_key), whose tiles all lie before
// the day of the snapshot's stream time. A query looks these up first and reads only the day
// tiles of the runs it did not find (Engine::read_cover); a run it merges is cached under the
// same key, at any size, since finding it costs no hash of its bytes. Pure functions.

// The key of the leading run (its whole days) of a plan of a windowed signal, when `runs`
// keys by version and those days all lie before runs.settled_before; nullopt otherwise.
std::optional<SpanKey> windowed_run_key(const SpanLookup& runs, std::uint64_t state_id,
                                        const WindowPlan& plan);

// The key of the leading run of a signal without windows as of `as_of` (its base tile, the
// day tiles not yet folded into it, and its whole days up to the day of `as_of`), when `runs`
// keys by version and those days all lie before runs.settled_before; nullopt otherwise. The
// run may be used only if its base tile is settled too (settled_base), which is known once
// it was read or found.
std::optional<SpanKey> all_history_run_key(const SpanLookup& runs, std::uint64_t state_id,
                                           TimeMs as_of);

// Whether a base tile covered through `base_through` (absent: none) lies, with every day tile
// it spans, before runs.settled_before.
bool settled_base(const SpanLookup& runs, std::optional<TimeMs> base_through);

// The key under which `plan`'s leading run is cached by version (one of the two above, the
// base checked), or nullopt when it cannot be.
std::optional<SpanKey> leading_run_key(const SpanLookup& runs, std::uint64_t state_id,
                                       const WindowPlan& plan);

}  // namespace signalbox
