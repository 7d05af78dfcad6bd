// Engine's query path: the names asked for become signal requests (a view of one window asks
// for that window only), the query planner says which tiles and raw event ranges answer each
// window, one snapshot is read for them, and every window is folded from what was read; the
// views then transform their signals' results.

#include <algorithm>
#include <unordered_map>

#include <fmt/format.h>

#include "signalbox/common/error.h"
#include "signalbox/engine/engine.h"
#include "signalbox/engine/query_planner.h"

namespace signalbox {

namespace {

std::string join_names(const std::vector<std::string>& names) {
  return fmt::format("{}", fmt::join(names, ", "));
}

// The answer of one signal from its planned windows: per window, the base tile (and the day
// tiles it spans, not yet folded into it), the tiles of each tile piece, and the raw events
// of each raw piece (`events` by ts), folded into one state and turned into a result.
Value evaluate_signal(const Signal& signal, const std::vector<WindowPlan>& plans,
                      const std::vector<StoredTile>& stored, const std::vector<MaterializedEvent>& events,
                      TimeMs as_of) {
  const Aggregator& aggregator = signal.aggregator();
  std::vector<std::unique_ptr<State>> decoded(stored.size());
  auto tile_state = [&](std::size_t i) -> const State& {
    if (!decoded[i]) decoded[i] = aggregator.decode(stored[i].state);
    return *decoded[i];
  };
  Value::Object windows;
  Value single;
  for (const WindowPlan& plan : plans) {
    std::unique_ptr<State> state = aggregator.make_state();
    if (plan.base) {
      // A late event of a day already folded into the base lands in a day tile of its own
      // until the next fold moves it there too: it belongs to the base's span.
      for (std::size_t i = 0; i < stored.size(); ++i) {
        const StoredTile& t = stored[i];
        if (t.kind == TileKind::kBase ||
            (t.kind == TileKind::kDay && t.start + kDayMs - 1 <= plan.base_through))
          aggregator.merge(*state, tile_state(i));
      }
    }
    for (const CoverPiece& piece : plan.pieces) {
      if (piece.kind == CoverPiece::Kind::kTiles) {
        for (std::size_t i = 0; i < stored.size(); ++i) {
          const StoredTile& t = stored[i];
          if (t.kind == piece.tile && t.start >= piece.from && t.start < piece.to)
            aggregator.merge(*state, tile_state(i));
        }
        continue;
      }
      auto first = std::lower_bound(events.begin(), events.end(), piece.from,
                                    [](const MaterializedEvent& e, TimeMs t) { return e.event.ts < t; });
      for (auto it = first; it != events.end() && it->event.ts <= piece.to; ++it) {
        if (std::optional<double> weight = signal.weight(*it)) aggregator.fold(*state, *it, *weight);
      }
    }
    Value result = aggregator.result(*state, as_of);
    if (plan.label.empty()) single = std::move(result);
    else windows.emplace_back(plan.label, std::move(result));
  }
  return signal.windowed() ? Value(std::move(windows)) : std::move(single);
}

}  // namespace

std::vector<SignalRequest> Engine::requests_for(const std::vector<std::string>& names) const {
  // Per signal, which of its windows some name asks for; none asked: the signal is not needed.
  std::vector<std::vector<bool>> wanted(signals_.size());
  auto want_all = [&](std::size_t s) { wanted[s].assign(std::max<std::size_t>(1, signals_[s]->windows().size()), true); };
  for (const std::string& name : names) {
    if (auto it = signal_index_.find(name); it != signal_index_.end()) {
      want_all(it->second);
      continue;
    }
    auto v = view_index_.find(name);
    if (v == view_index_.end()) {
      throw QueryError(
          fmt::format("unknown signal or view \"{}\" (known: {})", name, join_names(this->names())));
    }
    const std::size_t s = view_signal_[v->second];
    const std::string& window = config_.views[v->second].window;
    const std::vector<WindowConfig>& windows = signals_[s]->windows();
    if (window.empty() || windows.empty()) {
      want_all(s);
      continue;
    }
    if (wanted[s].empty()) wanted[s].assign(windows.size(), false);
    for (std::size_t w = 0; w < windows.size(); ++w)
      if (windows[w].text == window) wanted[s][w] = true;
  }
  std::vector<SignalRequest> requests(signals_.size());
  for (std::size_t s = 0; s < signals_.size(); ++s) {
    if (wanted[s].empty()) continue;
    const Signal& signal = *signals_[s];
    SignalRequest& r = requests[s];
    r.name = signal.name();
    r.windowed = signal.windowed();
    for (std::size_t w = 0; w < signal.windows().size(); ++w)
      if (wanted[s][w]) r.windows.push_back(signal.windows()[w]);
    r.state_longest_window = retention_.states.at(signal.state_id()).longest_window;
  }
  return requests;
}

Value Engine::query(std::uint64_t user_id, const std::vector<std::string>& requested,
                    std::optional<TimeMs> as_of) {
  return query(user_id, requested, as_of, Seen::kOmit);
}

Value Engine::query(std::uint64_t user_id, const std::vector<std::string>& requested,
                    std::optional<TimeMs> as_of, Seen report_seen) {
  counters_.queries++;
  const std::vector<std::string> names = requested.empty() ? this->names() : requested;
  const std::vector<SignalRequest> requests = requests_for(names);
  auto needed = [&](std::size_t s) { return !requests[s].name.empty(); };
  const TimeMs at = as_of ? *as_of : wall_clock_ms();
  if (at < 0) throw QueryError("as_of: must be a time in milliseconds since the epoch, >= 0");

  std::unique_ptr<StoreSnapshot> snapshot = store_->snapshot();
  const TimeMs retention = config_.event_store.retention;
  const OnlineState online =
      online_state(snapshot->high_water(), snapshot->expired_through(), retention, retention_.retention);

  // Read, in one pass over the user's tiles, only the states and the time some window asked
  // for can use; then hand each state its own.
  std::unordered_map<std::uint64_t, std::vector<StoredTile>> tiles;
  bool read_any_tile = false;
  {
    std::unordered_map<std::uint64_t, TimeMs> state_from;
    for (std::size_t s = 0; s < signals_.size(); ++s) {
      if (!needed(s)) continue;
      const TimeMs from = tiles_needed_from(requests[s], at, retention);
      auto [it, inserted] = state_from.try_emplace(signals_[s]->state_id(), from);
      if (!inserted) it->second = std::min(it->second, from);
    }
    std::vector<std::uint64_t> state_ids;
    TimeMs from = floor_day(at);
    for (const auto& [state_id, state_from_time] : state_from) {
      state_ids.push_back(state_id);
      from = std::min(from, state_from_time);
      tiles[state_id];
    }
    std::sort(state_ids.begin(), state_ids.end());
    for (StoredTile& tile : snapshot->tiles(user_id, state_ids, from, at)) {
      read_any_tile = true;
      if (tile.kind != TileKind::kBase && tile.start < state_from.at(tile.state_id)) continue;
      tiles[tile.state_id].push_back(std::move(tile));
    }
  }

  std::vector<std::vector<WindowPlan>> plans(signals_.size());
  for (std::size_t s = 0; s < signals_.size(); ++s) {
    if (!needed(s)) continue;
    std::optional<TimeMs> base_through;
    if (!requests[s].windowed)
      for (const StoredTile& t : tiles.at(signals_[s]->state_id()))
        if (t.kind == TileKind::kBase) base_through = t.covered_through;
    plans[s] = plan_signal(requests[s], at, online, base_through);
  }

  // The raw events of all partial ends, in one pass per merged range.
  std::vector<MaterializedEvent> events;
  const FeatureNames& features = materializer_->feature_names();
  for (const auto& [from, to] : raw_ranges(plans))
    snapshot->scan_events(user_id, from, to,
                          [&](std::string_view bytes) { events.push_back(decode_event(bytes, features)); });

  std::vector<Value> signal_results(signals_.size());
  for (std::size_t s = 0; s < signals_.size(); ++s)
    if (needed(s))
      signal_results[s] = evaluate_signal(*signals_[s], plans[s], tiles.at(signals_[s]->state_id()), events, at);
  // What was read already answers "seen" for most known users; only the rest cost a lookup.
  std::optional<bool> seen;
  if (report_seen == Seen::kReport)
    seen = read_any_tile || !events.empty() || snapshot->holds_user(user_id);
  return answer(user_id, at, names, std::move(signal_results), seen);
}

Value Engine::answer(std::uint64_t user_id, TimeMs as_of, const std::vector<std::string>& names,
                     std::vector<Value> signal_results, std::optional<bool> seen) const {
  // A signal's result is moved into the answer at its last use rather than copied: views
  // read it only through a reference, and copying a nested Value allocates per node.
  std::vector<std::size_t> uses(signals_.size(), 0);
  for (const std::string& name : names)
    if (auto it = signal_index_.find(name); it != signal_index_.end()) uses[it->second]++;
  Value::Object out_signals;
  out_signals.reserve(names.size());
  // Views first, while every signal result is still in place; then the signals, in order.
  std::vector<Value> view_results(names.size());
  for (std::size_t n = 0; n < names.size(); ++n) {
    if (signal_index_.count(names[n])) continue;
    std::size_t v = view_index_.at(names[n]);
    const ViewConfig& vc = config_.views[v];
    const Value& input = signal_results[view_signal_[v]];
    const Value* window_result = vc.window.empty() ? &input : input.find(vc.window);
    view_results[n] = views_[v]->transform(window_result ? *window_result : Value());
  }
  for (std::size_t n = 0; n < names.size(); ++n) {
    const std::string& name = names[n];
    if (auto it = signal_index_.find(name); it != signal_index_.end()) {
      if (--uses[it->second] == 0) out_signals.emplace_back(name, std::move(signal_results[it->second]));
      else out_signals.emplace_back(name, signal_results[it->second]);
    } else {
      out_signals.emplace_back(name, std::move(view_results[n]));
    }
  }
  // Not an initializer list: its elements are const, so the signals would be copied.
  Value::Object answer;
  answer.reserve(5);
  answer.emplace_back("user_id", Value(user_id));
  answer.emplace_back("as_of", Value(as_of));
  answer.emplace_back("as_of_iso", Value(format_iso_time(as_of)));
  if (seen) answer.emplace_back("seen", Value(*seen));
  answer.emplace_back("signals", Value(std::move(out_signals)));
  return Value(std::move(answer));
}

}  // namespace signalbox
