// Engine's query path: the names asked for become signal requests (a view of one window asks
// for that window only), the query planner says which tiles and raw event ranges answer each
// window, one snapshot is read for them, and every window is folded from what was read; the
// views then transform their signals' results. Engine::explain (explain.cc) reads and folds
// through the same read_cover() and fold_window().

#include <algorithm>
#include <unordered_map>

#include <fmt/format.h>

#include "signalbox/common/error.h"
#include "signalbox/engine/engine.h"
#include "signalbox/engine/query_inputs.h"
#include "signalbox/engine/query_planner.h"
#include "signalbox/engine/window_fold.h"

namespace signalbox {

namespace {

std::string join_names(const std::vector<std::string>& names) {
  return fmt::format("{}", fmt::join(names, ", "));
}

// The answer of one signal from its planned windows, each folded by fold_window().
Value evaluate_signal(const Signal& signal, const std::vector<WindowPlan>& plans,
                      const std::vector<StoredTile>& stored,
                      const std::vector<MaterializedEvent>& events, TimeMs as_of,
                      const SpanLookup& runs) {
  DecodedTiles tiles(signal.aggregator(), stored);
  Value::Object windows;
  Value single;
  for (const WindowPlan& plan : plans) {
    std::unique_ptr<State> state = fold_window(signal, plan, tiles, events, nullptr, &runs);
    Value result = signal.aggregator().result(*state, as_of);
    if (plan.label.empty())
      single = std::move(result);
    else
      windows.emplace_back(plan.label, std::move(result));
  }
  return signal.windowed() ? Value(std::move(windows)) : std::move(single);
}

}  // namespace

std::vector<Engine::NameRef> Engine::name_refs(const std::vector<std::string>& names) const {
  std::vector<NameRef> refs;
  refs.reserve(names.size());
  for (const std::string& name : names) {
    if (auto it = signal_index_.find(name); it != signal_index_.end()) {
      refs.push_back(NameRef{it->second, false});
      continue;
    }
    auto v = view_index_.find(name);
    if (v == view_index_.end()) {
      throw QueryError(fmt::format("unknown signal or view \"{}\" (known: {})", name,
                                   join_names(this->names())));
    }
    refs.push_back(NameRef{v->second, true});
  }
  return refs;
}

std::vector<SignalRequest> Engine::requests_for(const std::vector<NameRef>& refs) const {
  // Per signal, which of its windows some name asks for; none asked: the signal is not needed.
  std::vector<std::vector<bool>> wanted(signals_.size());
  // Window `window` of signal `s`; all its windows when empty (or when it has none).
  auto want = [&](std::size_t s, const std::string& window) {
    const std::vector<WindowConfig>& windows = signals_[s]->windows();
    if (window.empty() || windows.empty()) {
      wanted[s].assign(std::max<std::size_t>(1, windows.size()), true);
      return;
    }
    if (wanted[s].empty()) wanted[s].assign(windows.size(), false);
    for (std::size_t w = 0; w < windows.size(); ++w)
      if (windows[w].text == window) wanted[s][w] = true;
  };
  for (const NameRef& ref : refs) {
    if (!ref.view) {
      want(ref.index, std::string());
      continue;
    }
    if (views_[ref.index]->input() != View::Input::kOperands)
      want(view_signal_[ref.index], config_.views[ref.index].window);
    // A view of several signals needs the window it reads of each.
    for (const auto& [s, window] : view_operands_[ref.index]) want(s, window);
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
  // Without names: every signal and view, planned once at construction.
  std::vector<NameRef> asked_refs;
  std::vector<SignalRequest> asked;
  if (!requested.empty()) {
    asked_refs = name_refs(requested);
    asked = requests_for(asked_refs);
  }
  const std::vector<std::string>& names = requested.empty() ? all_names_ : requested;
  const std::vector<NameRef>& refs = requested.empty() ? all_name_refs_ : asked_refs;
  const std::vector<SignalRequest>& requests = requested.empty() ? all_requests_ : asked;
  const QueryInputs inputs = read_cover(user_id, requests, as_of);
  const SpanLookup runs = span_lookup(user_id, *inputs.snapshot);
  std::vector<Value> signal_results(signals_.size());
  for (std::size_t s = 0; s < signals_.size(); ++s)
    if (!requests[s].name.empty())
      signal_results[s] =
          evaluate_signal(*signals_[s], inputs.plans[s], inputs.tiles.at(signals_[s]->state_id()),
                          inputs.events, inputs.as_of, runs);
  // What was read already answers "seen" for most known users; only the rest cost a lookup.
  std::optional<bool> seen;
  if (report_seen == Seen::kReport)
    seen = inputs.read_any_tile || !inputs.events.empty() || inputs.snapshot->holds_user(user_id);
  Value out = answer(user_id, inputs.as_of, names, refs, std::move(signal_results), seen);
  mark_incomplete(names, refs, requests, inputs.as_of, out);
  return out;
}

void Engine::mark_incomplete(const std::vector<std::string>& names,
                             const std::vector<NameRef>& refs,
                             const std::vector<SignalRequest>& requests, TimeMs as_of,
                             Value& answer) const {
  const TimeMs retention = config_.event_store.retention;
  // Whether window `window` of signal `s` (all its windows when empty) starts before its
  // state is complete.
  auto reaches_before = [&](std::size_t s, const std::string& window) {
    const TimeMs since = complete_since_[signal_owner_[s]].load();
    if (since <= 0) return false;
    const std::vector<WindowConfig>& windows = signals_[s]->windows();
    if (windows.empty()) return true;  // all of history
    for (const WindowConfig& w : windows)
      if ((window.empty() || w.text == window) && window_start(w.length, as_of, retention) < since)
        return true;
    return false;
  };
  Value::Object since_by_name, incomplete_by_name;
  for (std::size_t n = 0; n < names.size(); ++n) {
    const std::string& name = names[n];
    if (!refs[n].view) {
      const std::size_t s = refs[n].index;
      const TimeMs since = complete_since_[signal_owner_[s]].load();
      if (since <= 0) continue;
      since_by_name.emplace_back(name, Value(since));
      Value::Array windows;
      for (const WindowConfig& w : requests[s].windows)
        if (reaches_before(s, w.text)) windows.emplace_back(w.text);
      if (!signals_[s]->windowed() || !windows.empty())
        incomplete_by_name.emplace_back(name, Value(std::move(windows)));
      continue;
    }
    // A view: complete since the latest of the states it reads, incomplete when one of the
    // windows it reads reaches before that state's.
    const std::size_t v = refs[n].index;
    std::vector<std::pair<std::size_t, std::string>> reads = view_operands_[v];
    if (views_[v]->input() != View::Input::kOperands)
      reads.emplace_back(view_signal_[v], config_.views[v].window);
    TimeMs since = 0;
    bool incomplete = false;
    for (const auto& read : reads) {
      since = std::max(since, complete_since_[signal_owner_[read.first]].load());
      incomplete = incomplete || reaches_before(read.first, read.second);
    }
    if (since <= 0) continue;
    since_by_name.emplace_back(name, Value(since));
    if (incomplete) incomplete_by_name.emplace_back(name, Value(Value::Array()));
  }
  if (since_by_name.empty()) return;
  answer.object().emplace_back("complete_since", Value(std::move(since_by_name)));
  if (!incomplete_by_name.empty())
    answer.object().emplace_back("incomplete", Value(std::move(incomplete_by_name)));
}

SpanLookup Engine::span_lookup(std::uint64_t user_id, StoreSnapshot& snapshot) const {
  SpanLookup runs;
  runs.cache = span_cache_.get();
  runs.user_id = user_id;
  if (runs.cache) {
    runs.tile_version = snapshot.tile_version(user_id);
    runs.settled_before = floor_day(snapshot.high_water());
  }
  return runs;
}

OnlineState Engine::online_state_of(const StoreSnapshot& snapshot) const {
  return online_state(snapshot.high_water(), snapshot.expired_through(),
                      config_.event_store.retention, retention_.retention);
}

QueryInputs Engine::read_cover(std::uint64_t user_id, const std::vector<SignalRequest>& requests,
                               std::optional<TimeMs> as_of) {
  auto needed = [&](std::size_t s) { return !requests[s].name.empty(); };
  const TimeMs at = as_of ? *as_of : wall_clock_ms();
  if (at < 0) throw QueryError("as_of: must be a time in milliseconds since the epoch, >= 0");
  QueryInputs inputs;
  inputs.as_of = at;

  std::unique_ptr<StoreSnapshot> snapshot = store_->snapshot();
  const TimeMs retention = config_.event_store.retention;

  // Read, in one pass over the user's tiles, only the states and the time some window asked
  // for can use; then hand each state its own.
  std::unordered_map<std::uint64_t, std::vector<StoredTile>>& tiles = inputs.tiles;
  {
    // The states asked for, ascending, each with the earliest start any of its windows reads.
    std::vector<std::pair<std::uint64_t, TimeMs>> states;
    for (std::size_t s = 0; s < signals_.size(); ++s)
      if (needed(s))
        states.emplace_back(signals_[s]->state_id(), tiles_needed_from(requests[s], at, retention));
    std::sort(states.begin(), states.end());
    std::vector<std::uint64_t> state_ids;
    std::vector<TimeMs> state_from;
    TimeMs from = floor_day(at);
    for (const auto& [state_id, state_from_time] : states) {
      if (state_ids.empty() || state_ids.back() != state_id) {  // the earliest start sorts first
        state_ids.push_back(state_id);
        state_from.push_back(state_from_time);
      }
      from = std::min(from, state_from_time);
    }
    std::vector<StoredTile> read = snapshot->tiles(user_id, state_ids, from, at);
    inputs.read_any_tile = !read.empty();
    // Each state's tiles moved in once, into room made for them (a heavy user reads a couple
    // of thousand); a tile's state found by its place among the few ids asked for, not by a
    // hash lookup per tile.
    auto index_of = [&](std::uint64_t state_id) {
      return static_cast<std::size_t>(
          std::lower_bound(state_ids.begin(), state_ids.end(), state_id) - state_ids.begin());
    };
    std::vector<std::size_t> counts(state_ids.size(), 0);
    for (const StoredTile& tile : read) ++counts[index_of(tile.state_id)];
    std::vector<std::vector<StoredTile>*> state_tiles(state_ids.size());
    for (std::size_t i = 0; i < state_ids.size(); ++i) {
      state_tiles[i] = &tiles[state_ids[i]];
      state_tiles[i]->reserve(counts[i]);
    }
    for (StoredTile& tile : read) {
      const std::size_t i = index_of(tile.state_id);
      if (tile.kind != TileKind::kBase && tile.start < state_from[i]) continue;
      state_tiles[i]->push_back(tile);
    }
  }

  const OnlineState online = online_state_of(*snapshot);
  inputs.plans.resize(signals_.size());
  for (std::size_t s = 0; s < signals_.size(); ++s) {
    if (!needed(s)) continue;
    std::optional<TimeMs> base_through;
    if (!requests[s].windowed)
      for (const StoredTile& t : tiles.at(signals_[s]->state_id()))
        if (t.kind == TileKind::kBase) base_through = t.covered_through;
    inputs.plans[s] = plan_signal(requests[s], at, online, base_through);
  }

  // The raw events of all partial ends, in one pass per merged range.
  const FeatureNames& features = materializer_->feature_names();
  for (const auto& [from, to] : raw_ranges(inputs.plans))
    snapshot->scan_events(user_id, from, to, [&](std::string_view bytes) {
      inputs.events.push_back(decode_event(bytes, features));
    });
  inputs.snapshot = std::move(snapshot);
  return inputs;
}

Value Engine::answer(std::uint64_t user_id, TimeMs as_of, const std::vector<std::string>& names,
                     const std::vector<NameRef>& refs, std::vector<Value> signal_results,
                     std::optional<bool> seen) const {
  // A signal's result is moved into the answer at its last use rather than copied: views
  // read it only through a reference, and copying a nested Value allocates per node.
  std::vector<std::size_t> uses(signals_.size(), 0);
  for (const NameRef& ref : refs)
    if (!ref.view) uses[ref.index]++;
  Value::Object out_signals;
  out_signals.reserve(names.size());
  // Views first, while every signal result is still in place; then the signals, in order.
  std::vector<Value> view_results(names.size());
  for (std::size_t n = 0; n < names.size(); ++n) {
    if (!refs[n].view) continue;
    const std::size_t v = refs[n].index;
    const ViewConfig& vc = config_.views[v];
    static const Value kNothing;
    const Value& input =
        views_[v]->input() == View::Input::kOperands ? kNothing : signal_results[view_signal_[v]];
    const Value* window_result = vc.window.empty() ? &input : input.find(vc.window);
    std::vector<const Value*> operands;
    for (const auto& [s, window] : view_operands_[v])
      operands.push_back(window.empty() ? &signal_results[s] : signal_results[s].find(window));
    // By reference: `window_result ? *window_result : Value()` would copy the whole result.
    view_results[n] =
        views_[v]->transform_with(window_result ? *window_result : kNothing, operands);
  }
  for (std::size_t n = 0; n < names.size(); ++n) {
    const std::string& name = names[n];
    if (!refs[n].view) {
      const std::size_t s = refs[n].index;
      if (--uses[s] == 0)
        out_signals.emplace_back(name, std::move(signal_results[s]));
      else
        out_signals.emplace_back(name, signal_results[s]);
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
