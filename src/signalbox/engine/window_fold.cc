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

}  // namespace

std::unique_ptr<State> fold_window(const Signal& signal, const WindowPlan& plan,
                                   DecodedTiles& tiles,
                                   const std::vector<MaterializedEvent>& events,
                                   FoldObserver* observer) {
  const Aggregator& aggregator = signal.aggregator();
  std::unique_ptr<State> state = aggregator.make_state();
  if (plan.base) {
    // A late event of a day already folded into the base lands in a day tile of its own
    // until the next fold moves it there too: it belongs to the base's span.
    for (std::size_t i = 0; i < tiles.size(); ++i) {
      const StoredTile& t = tiles.tile(i);
      if (t.kind == TileKind::kBase ||
          (t.kind == TileKind::kDay && t.start + kDayMs - 1 <= plan.base_through))
        merge_tile(aggregator, *state, tiles, i, observer);
    }
  }
  for (const CoverPiece& piece : plan.pieces) {
    if (piece.kind == CoverPiece::Kind::kTiles) {
      for (std::size_t i = 0; i < tiles.size(); ++i) {
        const StoredTile& t = tiles.tile(i);
        if (t.kind == piece.tile && t.start >= piece.from && t.start < piece.to)
          merge_tile(aggregator, *state, tiles, i, observer);
      }
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
