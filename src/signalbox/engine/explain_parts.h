#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "signalbox/aggregate/signal.h"
#include "signalbox/common/value.h"
#include "signalbox/engine/explain_combine.h"
#include "signalbox/engine/window_fold.h"

namespace signalbox {

// Records the parts fold_window() merges into one window - every stored tile and every raw
// event counted, each with its value alone (its state, or a fresh state with only that event
// folded in, turned into a result as of `as_of`) - and writes the window's explanation
// (docs/explain.md). Lives for one window of one explain call; not thread-safe. The events it
// is told of must outlive it.
class WindowParts final : public FoldObserver {
 public:
  WindowParts(const Signal& signal, TimeMs as_of) : signal_(signal), as_of_(as_of) {}

  void on_tile(const StoredTile& tile, const State& state) override;
  void on_event(const MaterializedEvent& event, double weight) override;

  // {"window", "from", "to", "value", "tiles", "events", "events_total", "truncated"}: `from`
  // is the window's first millisecond (null for all history), `value` its value as folded. At
  // most `max_events` events are listed, newest first; under a selective rule those that
  // decide the value are listed before the others, and every part that decides is marked.
  Value explanation(const WindowPlan& plan, std::optional<TimeMs> from, const Value& value,
                    const CombineRule& rule, std::size_t max_events,
                    const FeatureNames& features) const;

 private:
  struct TilePart {
    TileKind kind;
    TimeMs start;
    TimeMs covered_through;
    Value value;
  };
  struct EventPart {
    const MaterializedEvent* event;
    double weight;
    Value value;
  };

  const Signal& signal_;
  TimeMs as_of_;
  std::vector<TilePart> tiles_;
  std::vector<EventPart> events_;
};

// One event as explain lists it: ts, event_id, action, item_id and query when present, attrs,
// the features looked up for it (by feature name, those it has), the weight it was folded
// with, its value alone, and "decides" when set.
Value explained_event(const MaterializedEvent& event, const FeatureNames& features, double weight,
                      const Value& value, bool decides);

}  // namespace signalbox
