#include "signalbox/engine/window_fold.h"

#include <algorithm>
#include <stdexcept>
#include <tuple>

#include "signalbox/engine/settled_runs.h"

namespace signalbox {

namespace {

bool tile_before(const StoredTile& a, const StoredTile& b) {
  return std::tie(a.kind, a.start) < std::tie(b.kind, b.start);
}

}  // namespace

DecodedTiles::DecodedTiles(const Aggregator& aggregator, const std::vector<StoredTile>& stored)
    : aggregator_(aggregator), stored_(stored), decoded_(stored.size()) {
  if (!std::is_sorted(stored.begin(), stored.end(), tile_before))
    throw std::logic_error("DecodedTiles: tiles not in StoreSnapshot::tiles order");
  for (const StoredTile& t : stored) bytes_of_[static_cast<std::size_t>(t.kind)] += t.state.size();
}

std::size_t DecodedTiles::first_at(TileKind kind, TimeMs start) const {
  StoredTile probe;
  probe.kind = kind;
  probe.start = start;
  return static_cast<std::size_t>(
      std::lower_bound(stored_.begin(), stored_.end(), probe, tile_before) - stored_.begin());
}

const State& DecodedTiles::state(std::size_t i) {
  if (!decoded_[i]) decoded_[i] = aggregator_.decode(stored_[i].state);
  return *decoded_[i];
}

namespace {

// For std::lower_bound over events ascending by ts.
bool ts_before(const MaterializedEvent& e, TimeMs t) { return e.event.ts < t; }

// The events of `events` (ascending by ts) with from <= ts <= to that `signal` weighs, folded
// into a state of their own, `observer` told of each; null when it weighs none.
std::unique_ptr<State> fold_raw(const Signal& signal, TimeMs from, TimeMs to,
                                const std::vector<MaterializedEvent>& events,
                                FoldObserver* observer) {
  const Aggregator& aggregator = signal.aggregator();
  std::unique_ptr<State> state;
  for (auto it = std::lower_bound(events.begin(), events.end(), from, ts_before);
       it != events.end() && it->event.ts <= to; ++it) {
    std::optional<double> weight = signal.weight(*it);
    if (!weight) continue;
    if (!state) state = aggregator.make_state();
    aggregator.fold(*state, *it, *weight);
    if (observer) observer->on_event(*it, *weight);
  }
  return state;
}

}  // namespace

const SharedPieces::Kept* SharedPieces::find(const CoverPiece& piece) const {
  for (const Kept& kept : kept_) {
    const CoverPiece& k = kept.piece;
    if (k.kind == piece.kind && k.tile == piece.tile && k.from == piece.from && k.to == piece.to)
      return &kept;
  }
  return nullptr;
}

const State* SharedPieces::raw_hour(TimeMs from, TimeMs to,
                                    const std::vector<MaterializedEvent>& events) {
  const CoverPiece key{CoverPiece::Kind::kRaw, TileKind::kHour, from, to};
  if (const Kept* kept = find(key)) return kept->state.get();
  kept_.push_back({key, fold_raw(signal_, from, to, events, nullptr)});
  return kept_.back().state.get();
}

namespace {

void merge_tile(const Aggregator& aggregator, State& into, DecodedTiles& tiles, std::size_t i,
                FoldObserver* observer) {
  const State& state = tiles.state(i);
  aggregator.merge(into, state);
  if (observer) observer->on_tile(tiles.tile(i), state);
}

// Whether tile `i`, at or after the first tile of tile piece `piece` (DecodedTiles::first_at),
// is still one the piece covers.
bool covers(const CoverPiece& piece, const DecodedTiles& tiles, std::size_t i) {
  return i < tiles.size() && tiles.tile(i).kind == piece.tile && tiles.tile(i).start < piece.to;
}

// Calls `fn` with the index of each tile `piece` (a tile piece) covers, in the order stored
// (by start).
template <typename Fn>
void for_each_tile(const CoverPiece& piece, const DecodedTiles& tiles, Fn&& fn) {
  for (std::size_t i = tiles.first_at(piece.tile, piece.from); covers(piece, tiles, i); ++i) fn(i);
}

// Calls `fn` with the index of each tile of the window's leading run, in the order merged:
// the base tile and the day tiles it spans that were not yet folded into it (when the plan
// has a base), then the tiles of `days`, its run of whole days (may be null).
template <typename Fn>
void for_each_leading_tile(const WindowPlan& plan, const CoverPiece* days,
                           const DecodedTiles& tiles, Fn&& fn) {
  if (plan.base) {
    // A late event of a day already folded into the base lands in a day tile of its own
    // until the next fold moves it there too: it belongs to the base's span.
    for (std::size_t i = 0; i < tiles.size(); ++i) {
      const StoredTile& t = tiles.tile(i);
      if (t.kind == TileKind::kHour ||
          (t.kind == TileKind::kDay && t.start + kDayMs - 1 > plan.base_through))
        break;  // the rest start later still
      fn(i);
    }
  }
  if (days) for_each_tile(*days, tiles, fn);
}

// Whether merging the tiles `for_each_index` visits costs more than finding their merge in the
// cache. Counted without collecting them: most runs (all of a light user's) are not.
template <typename ForEachIndex>
bool worth_caching(ForEachIndex&& for_each_index, const DecodedTiles& tiles,
                   std::size_t bytes_bound) {
  if (bytes_bound < kMinCachedRunBytes) return false;
  std::size_t count = 0;
  std::size_t bytes = 0;
  for_each_index([&](std::size_t i) {
    ++count;
    bytes += tiles.tile(i).state.size();
  });
  return count >= kMinCachedRun && bytes >= kMinCachedRunBytes;
}

// The key of the run of `stored` tiles in the cache: by the user's tile version when every
// tile of it is settled and the store gave one, else by the tiles' bytes.
SpanKey run_key(const Signal& signal, const std::vector<const StoredTile*>& stored,
                const SpanLookup& runs) {
  const bool settled = std::all_of(stored.begin(), stored.end(), [&](const StoredTile* t) {
    return t->kind == TileKind::kBase || t->start < runs.settled_before;
  });
  if (runs.tile_version && settled)
    return versioned_span_key(runs.user_id, signal.state_id(), *runs.tile_version, stored);
  return span_key(signal.state_id(), stored);
}

// The tiles `for_each_index` visits (in the order merged), merged into a state of their own;
// `count` is how many.
template <typename ForEachIndex>
std::unique_ptr<State> merge_run(const Aggregator& aggregator, ForEachIndex&& for_each_index,
                                 DecodedTiles& tiles, FoldObserver* observer, std::size_t& count) {
  std::unique_ptr<State> state = aggregator.make_state();
  count = 0;
  for_each_index([&](std::size_t i) {
    merge_tile(aggregator, *state, tiles, i, observer);
    ++count;
  });
  return state;
}

// What the cache keeps of `state`, the merge of `tiles` stored tiles: a copy (the query goes
// on merging onto its own), counted by the size of its encoding.
std::shared_ptr<CachedRun> entry_of(const Aggregator& aggregator, const State& state,
                                    std::size_t tiles) {
  auto run = std::make_shared<CachedRun>();
  std::string encoded;
  aggregator.encode(state, encoded);
  run->encoded_bytes = encoded.size();
  run->state = aggregator.copy(state);
  run->tiles = tiles;
  return run;
}

// The merge of `run` (tile indices, in the order merged) into a state of its own: a copy of
// the one in the cache of `runs`, or merged here (and then cached).
std::unique_ptr<State> merged_run(const Signal& signal, const std::vector<std::size_t>& run,
                                  DecodedTiles& tiles, FoldObserver* observer,
                                  const SpanLookup* runs) {
  const Aggregator& aggregator = signal.aggregator();
  SpanCache* cache = runs ? runs->cache : nullptr;
  SpanKey key;
  if (cache) {
    std::vector<const StoredTile*> stored;
    stored.reserve(run.size());
    for (std::size_t i : run) stored.push_back(&tiles.tile(i));
    key = run_key(signal, stored, *runs);
    if (std::shared_ptr<const CachedRun> hit = cache->find(key))
      return aggregator.copy(*hit->state);
  }
  std::size_t count = 0;
  std::unique_ptr<State> merged = merge_run(
      aggregator,
      [&](auto&& fn) {
        for (std::size_t i : run) fn(i);
      },
      tiles, observer, count);
  if (cache) cache->insert(key, entry_of(aggregator, *merged, count));
  return merged;
}

// The leading run of `plan` merged at any size and cached under `key` (settled_runs.h) in the
// user's set of settled runs, with what a query needs to use it before reading. The merged
// state itself goes on; a query that finds the run gets a copy of it.
template <typename ForEachLeading>
std::unique_ptr<State> merged_settled_run(const Signal& signal, const WindowPlan& plan,
                                          ForEachLeading&& leading, DecodedTiles& tiles,
                                          FoldObserver* observer, const SpanLookup& runs,
                                          const SpanKey& key) {
  std::size_t count = 0;
  std::unique_ptr<State> merged = merge_run(signal.aggregator(), leading, tiles, observer, count);
  std::shared_ptr<CachedRun> entry = entry_of(signal.aggregator(), *merged, count);
  if (plan.base) entry->base_through = plan.base_through;
  runs.cache->insert_into(runs.settled_key, key, std::move(entry));
  return merged;
}

// Merges onto `state` the events of the raw `piece` a clock hour at a time (fold_window), only
// the hours that hold an event: a piece may span many. Apart from fold_window, whose loop over
// tile pieces the compiler then keeps inline.
[[gnu::noinline]] void merge_raw_piece(const Signal& signal, const CoverPiece& piece,
                                       const std::vector<MaterializedEvent>& events, State& state,
                                       FoldObserver* observer, SharedPieces* shared) {
  const Aggregator& aggregator = signal.aggregator();
  for (auto it = std::lower_bound(events.begin(), events.end(), piece.from, ts_before);
       it != events.end() && it->event.ts <= piece.to;) {
    const TimeMs hour = floor_hour(it->event.ts);
    const TimeMs from = std::max(piece.from, hour);
    const TimeMs to = std::min(piece.to, hour + kHourMs - 1);
    if (shared && !observer) {
      if (const State* folded = shared->raw_hour(from, to, events))
        aggregator.merge(state, *folded);
    } else if (std::unique_ptr<State> folded = fold_raw(signal, from, to, events, observer)) {
      aggregator.merge(state, *folded);
    }
    it = std::lower_bound(it, events.end(), to + 1, ts_before);
  }
}

}  // namespace

std::unique_ptr<State> fold_window(const Signal& signal, const WindowPlan& plan,
                                   DecodedTiles& tiles,
                                   const std::vector<MaterializedEvent>& events,
                                   FoldObserver* observer, const SpanLookup* runs,
                                   const CachedRun* leading_found, SharedPieces* shared) {
  const Aggregator& aggregator = signal.aggregator();
  const CoverPiece* days = day_piece(plan);
  // The tiles `for_each_index` visits, merged into a state of their own (as one cached run)
  // when the tiles `judged_by` visits are worth it (worth_caching), else null; null too when
  // there are none.
  auto cached_run = [&](auto&& judged_by, auto&& for_each_index,
                        std::size_t bytes_bound) -> std::unique_ptr<State> {
    if (!worth_caching(judged_by, tiles, bytes_bound)) return nullptr;
    std::vector<std::size_t> run;
    for_each_index([&](std::size_t i) { run.push_back(i); });
    if (run.empty()) return nullptr;
    return merged_run(signal, run, tiles, observer, runs);
  };
  auto leading = [&](auto&& fn) { for_each_leading_tile(plan, days, tiles, fn); };
  // A run keyed by version was looked up before the read: found, or to be merged and cached.
  const std::optional<SpanKey> settled_key = !leading_found && runs && runs->by_version()
                                                 ? leading_run_key(*runs, signal.state_id(), plan)
                                                 : std::nullopt;
  std::unique_ptr<State> state;
  if (leading_found)
    state = aggregator.copy(*leading_found->state);
  else if (settled_key)
    state = merged_settled_run(signal, plan, leading, tiles, observer, *runs, *settled_key);
  else
    state = cached_run(leading, leading,
                       tiles.bytes_of(TileKind::kBase) + tiles.bytes_of(TileKind::kDay));
  if (!state) {
    state = aggregator.make_state();
    leading([&](std::size_t i) { merge_tile(aggregator, *state, tiles, i, observer); });
  }
  for (const CoverPiece& piece : plan.pieces) {
    if (&piece == days) continue;
    if (piece.kind == CoverPiece::Kind::kTiles) {
      // One tile or none (most pieces of a light user) merged directly; two or more into the
      // piece's own state (a cached run when it is one), which the windows sharing it merge.
      const std::size_t first = tiles.first_at(piece.tile, piece.from);
      if (!covers(piece, tiles, first)) continue;
      if (!covers(piece, tiles, first + 1)) {
        merge_tile(aggregator, *state, tiles, first, observer);
        continue;
      }
      // A run ending in the tile of as_of's hour (read in place of that hour's events at
      // stream time, query_planner.h) is cached without it: that tile changes with each new
      // event of the user, the hours before it only with late ones. It is merged last either
      // way, so the doubles add in the same order.
      const bool ends_at_head = runs && piece.tile == TileKind::kHour &&
                                piece.to == floor_hour(runs->as_of) + kHourMs &&
                                piece.to - kHourMs > piece.from;
      CoverPiece run_piece = piece;
      if (ends_at_head) run_piece.to -= kHourMs;
      auto of_piece = [&](auto&& fn) { for_each_tile(piece, tiles, fn); };
      auto of_run = [&](auto&& fn) { for_each_tile(run_piece, tiles, fn); };
      auto merged_piece = [&]() -> std::unique_ptr<State> {
        // Judged by the whole piece: the run alone may fall under the size worth caching.
        std::unique_ptr<State> own = cached_run(of_piece, of_run, tiles.bytes_of(piece.tile));
        if (!own) {
          own = aggregator.make_state();
          of_run([&](std::size_t i) { merge_tile(aggregator, *own, tiles, i, observer); });
        }
        if (!ends_at_head) return own;
        const std::size_t head = tiles.first_at(piece.tile, run_piece.to);
        if (covers(piece, tiles, head)) merge_tile(aggregator, *own, tiles, head, observer);
        return own;
      };
      if (shared && !observer) {
        aggregator.merge(*state, *shared->tiles(piece, merged_piece));
      } else {
        aggregator.merge(*state, *merged_piece());
      }
      continue;
    }
    // Most raw pieces of a light user's windows hold no event: no call for those.
    if (!events.empty() && events.back().event.ts >= piece.from &&
        events.front().event.ts <= piece.to)
      merge_raw_piece(signal, piece, events, *state, observer, shared);
  }
  return state;
}

}  // namespace signalbox
