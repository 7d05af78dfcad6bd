#include "signalbox/engine/window_fold.h"

#include <algorithm>

namespace signalbox {

const State& DecodedTiles::state(std::size_t i) {
  if (!decoded_[i]) decoded_[i] = aggregator_.decode(stored_[i].state);
  return *decoded_[i];
}

namespace {

void merge_tile(const Aggregator& aggregator, State& into, DecodedTiles& tiles, std::size_t i,
                FoldObserver* observer) {
  const State& state = tiles.state(i);
  aggregator.merge(into, state);
  if (observer) observer->on_tile(tiles.tile(i), state);
}

// Calls `fn` with the index of each tile `piece` (a tile piece) covers, in the order stored
// (by start).
template <typename Fn>
void for_each_tile(const CoverPiece& piece, const DecodedTiles& tiles, Fn&& fn) {
  for (std::size_t i = 0; i < tiles.size(); ++i) {
    const StoredTile& t = tiles.tile(i);
    if (t.kind == piece.tile && t.start >= piece.from && t.start < piece.to) fn(i);
  }
}

// A window's run of whole days; cover_interval() gives a window at most one.
const CoverPiece* day_piece(const WindowPlan& plan) {
  for (const CoverPiece& piece : plan.pieces)
    if (piece.kind == CoverPiece::Kind::kTiles && piece.tile == TileKind::kDay) return &piece;
  return nullptr;
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
      if (t.kind == TileKind::kBase ||
          (t.kind == TileKind::kDay && t.start + kDayMs - 1 <= plan.base_through))
        fn(i);
    }
  }
  if (days) for_each_tile(*days, tiles, fn);
}

bool worth_caching(const WindowPlan& plan, const CoverPiece* days, const DecodedTiles& tiles) {
  std::size_t count = 0;
  std::size_t bytes = 0;
  for_each_leading_tile(plan, days, tiles, [&](std::size_t i) {
    ++count;
    bytes += tiles.tile(i).state.size();
  });
  return count >= kMinCachedRun && bytes >= kMinCachedRunBytes;
}

// The merge of the window's leading run, from `cache` or merged here (and then cached),
// encoded and decoded either way.
std::unique_ptr<State> merged_run(const Signal& signal, const WindowPlan& plan,
                                  const CoverPiece* days, DecodedTiles& tiles,
                                  FoldObserver* observer, SpanCache* cache) {
  const Aggregator& aggregator = signal.aggregator();
  std::vector<const StoredTile*> run;
  for_each_leading_tile(plan, days, tiles, [&](std::size_t i) { run.push_back(&tiles.tile(i)); });
  SpanKey key;
  if (cache) {
    key = span_key(signal.state_id(), run);
    if (std::shared_ptr<const std::string> hit = cache->find(key)) return aggregator.decode(*hit);
  }
  std::unique_ptr<State> merged = aggregator.make_state();
  for_each_leading_tile(plan, days, tiles, [&](std::size_t i) {
    merge_tile(aggregator, *merged, tiles, i, observer);
  });
  auto encoded = std::make_shared<std::string>();
  aggregator.encode(*merged, *encoded);
  if (cache) cache->insert(key, encoded);
  return aggregator.decode(*encoded);
}

}  // namespace

std::unique_ptr<State> fold_window(const Signal& signal, const WindowPlan& plan,
                                   DecodedTiles& tiles,
                                   const std::vector<MaterializedEvent>& events,
                                   FoldObserver* observer, SpanCache* cache) {
  const Aggregator& aggregator = signal.aggregator();
  const CoverPiece* days = day_piece(plan);
  std::unique_ptr<State> state;
  if (worth_caching(plan, days, tiles)) {
    state = merged_run(signal, plan, days, tiles, observer, cache);
  } else {
    state = aggregator.make_state();
    for_each_leading_tile(plan, days, tiles, [&](std::size_t i) {
      merge_tile(aggregator, *state, tiles, i, observer);
    });
  }
  for (const CoverPiece& piece : plan.pieces) {
    if (&piece == days) continue;
    if (piece.kind == CoverPiece::Kind::kTiles) {
      for_each_tile(piece, tiles,
                    [&](std::size_t i) { merge_tile(aggregator, *state, tiles, i, observer); });
      continue;
    }
    auto first =
        std::lower_bound(events.begin(), events.end(), piece.from,
                         [](const MaterializedEvent& e, TimeMs t) { return e.event.ts < t; });
    for (auto it = first; it != events.end() && it->event.ts <= piece.to; ++it) {
      std::optional<double> weight = signal.weight(*it);
      if (!weight) continue;
      aggregator.fold(*state, *it, *weight);
      if (observer) observer->on_event(*it, *weight);
    }
  }
  return state;
}

}  // namespace signalbox
