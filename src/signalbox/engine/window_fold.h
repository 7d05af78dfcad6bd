#pragma once

#include <memory>
#include <vector>

#include "signalbox/aggregate/signal.h"
#include "signalbox/engine/query_planner.h"
#include "signalbox/engine/span_cache.h"
#include "signalbox/event/event.h"
#include "signalbox/store/store.h"

namespace signalbox {

// The stored tiles of one user and one state, each decoded by the state's aggregator when a
// window first merges it, so that windows sharing a tile decode it once. Not thread-safe; lives
// for one query.
class DecodedTiles {
 public:
  // `stored` in the order StoreSnapshot::tiles gives (by kind: base, day, hour; each by start),
  // which a window's pieces are found by; std::logic_error otherwise.
  DecodedTiles(const Aggregator& aggregator, const std::vector<StoredTile>& stored);

  std::size_t size() const { return stored_.size(); }
  const StoredTile& tile(std::size_t i) const { return stored_[i]; }
  const State& state(std::size_t i);
  // The index of the first tile of `kind` starting at or after `start` (or of the first tile
  // of a later kind, or size()).
  std::size_t first_at(TileKind kind, TimeMs start) const;
  // The stored bytes of all tiles of `kind`: a bound on any run of them.
  std::size_t bytes_of(TileKind kind) const { return bytes_of_[static_cast<std::size_t>(kind)]; }

 private:
  const Aggregator& aggregator_;
  const std::vector<StoredTile>& stored_;
  std::vector<std::unique_ptr<State>> decoded_;
  std::size_t bytes_of_[3] = {0, 0, 0};  // by TileKind
};

// The pieces of one signal's windows that fold into a state of their own (see fold_window),
// kept so that the windows of a query that share a piece fold it once: every window of a query
// ends in the same partial hour, which for an active user holds most of the raw events the query
// reads, and every window of a day or more in the same hours of the current day. Not
// thread-safe; lives for one signal of one query.
class SharedPieces {
 public:
  explicit SharedPieces(const Signal& signal) : signal_(signal) {}
  // The state of the events of `events` (ascending by ts) with from <= ts <= to, a range
  // within one clock hour, that the signal weighs; null when it weighs none of them.
  const State* raw_hour(TimeMs from, TimeMs to, const std::vector<MaterializedEvent>& events);
  // The state `merge()` returns for tile piece `piece`, called the first time the piece is
  // asked for.
  template <typename Merge>
  const State* tiles(const CoverPiece& piece, Merge&& merge) {
    if (const Kept* kept = find(piece)) return kept->state.get();
    kept_.push_back({piece, merge()});
    return kept_.back().state.get();
  }

 private:
  struct Kept {
    CoverPiece piece;  // a raw piece is of one clock hour
    std::unique_ptr<State> state;
  };
  const Kept* find(const CoverPiece& piece) const;

  const Signal& signal_;
  std::vector<Kept> kept_;  // a few per query: looked up one by one
};

// Told of every part a window is folded from, in the order folded: what explain lists.
class FoldObserver {
 public:
  virtual ~FoldObserver() = default;
  virtual void on_tile(const StoredTile& tile, const State& state) = 0;
  // A raw event the signal counts, with the weight it is folded with.
  virtual void on_event(const MaterializedEvent& event, double weight) = 0;
};

// A window first merges its leading run of tiles: the base tile (with the day tiles it spans,
// not yet folded into it) when the plan has one, then its whole days. A run of at least
// kMinCachedRun tiles holding at least kMinCachedRunBytes (enough that merging it costs more
// than finding it) is merged into a state of its own, a copy of which a SpanCache keeps, before
// the window's other pieces are folded onto it: a query that finds the run merges onto a copy
// of that same state, so an answer is the same whether its run was cached or not (and explain,
// which never uses the cache, gives the same value). So is each later run of hour tiles (a
// window's partial days) that large: merged into a state of its own (and cached), then merged
// onto the window's state; a smaller run of two tiles or more is merged into a state of its own
// too (not cached), which the windows sharing it merge; a single tile is merged directly.
// The bound in bytes stands for merging work, and so moves with the encodings: 1 KiB since
// grouped counts are varints (docs/performance.md, "Grouped counts as varints").
inline constexpr std::size_t kMinCachedRun = 4;
inline constexpr std::size_t kMinCachedRunBytes = 1024;

// The state of one planned window: its leading run (above), then every other piece in plan
// order, the tiles of each tile piece (as a run, above) and the raw events of each raw piece
// (`events` ascending by ts, holding at least every event of the plan's raw pieces): those of
// each clock hour the piece spans folded into a state of their own and merged. A piece's own
// state is the same arithmetic whether `shared` gives it or it is made here (`shared` is not
// used when there is an `observer`, which must be told of each tile and event). A run
// found in `runs`' cache is not merged again (and `observer` is then not told of its tiles:
// explain passes no cache). The one evaluation of a window: queries and explain both answer
// through it. `observer` and `runs` may be null.
//
// Where `runs` keys by the user's tile version, the leading run is keyed by its days
// (settled_runs.h) and cached at any size: `leading_found` is the run the query found before
// reading (its tiles were then not read, and are not merged), null when it missed, and the
// run merged here is cached for the next query. A leading run is merged first either way, and
// a window that found it merges onto a copy of the state merged here (Aggregator::copy).
std::unique_ptr<State> fold_window(const Signal& signal, const WindowPlan& plan,
                                   DecodedTiles& tiles,
                                   const std::vector<MaterializedEvent>& events,
                                   FoldObserver* observer, const SpanLookup* runs = nullptr,
                                   const CachedRun* leading_found = nullptr,
                                   SharedPieces* shared = nullptr);

}  // namespace signalbox
