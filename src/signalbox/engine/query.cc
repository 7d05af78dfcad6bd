// Engine's query path: the names asked for become signal requests (a view of one window asks
// for that window only), the query planner says which tiles and raw event ranges answer each
// window, one snapshot is read for them, and every window is folded from what was read; the
// views then transform their signals' results. Engine::explain (explain.cc) reads and folds
// through the same read_cover() and fold_window().

#include <algorithm>
#include <limits>
#include <unordered_map>

#include <fmt/format.h>

#include "signalbox/common/error.h"
#include "signalbox/common/json_result_writer.h"
#include "signalbox/common/value_builder.h"
#include "signalbox/engine/engine.h"
#include "signalbox/engine/query_inputs.h"
#include "signalbox/engine/query_planner.h"
#include "signalbox/engine/settled_runs.h"
#include "signalbox/engine/window_fold.h"

namespace signalbox {

namespace {

std::string join_names(const std::vector<std::string>& names) {
  return fmt::format("{}", fmt::join(names, ", "));
}

// The state of each planned window of a signal, by plan, each folded by fold_window() from
// one decoding of the signal's tiles and one merging of each piece the windows share. `found` holds
// the leading runs found before reading, by plan (empty: none looked up).
std::vector<std::unique_ptr<State>> fold_signal(
    const Signal& signal, const std::vector<WindowPlan>& plans,
    const std::vector<StoredTile>& stored, const std::vector<MaterializedEvent>& events,
    const SpanLookup& runs, const std::vector<std::shared_ptr<const CachedRun>>& found) {
  DecodedTiles tiles(signal.aggregator(), stored);
  SharedPieces shared(signal);
  std::vector<std::unique_ptr<State>> states;
  states.reserve(plans.size());
  for (std::size_t p = 0; p < plans.size(); ++p) {
    const CachedRun* leading = p < found.size() ? found[p].get() : nullptr;
    states.push_back(
        fold_window(signal, plans[p], tiles, events, nullptr, &runs, leading, &shared));
  }
  return states;
}

// Writes a signal's answer from the states of its windows: an object by window label for a
// windowed signal, else the one window's result (null without one). Into a ValueBuilder
// (`builds_values`) each window goes as the Value Aggregator::result() builds, which costs
// less than a builder call per token; elsewhere token by token.
void write_signal(const Signal& signal, const std::vector<WindowPlan>& plans,
                  const std::vector<std::unique_ptr<State>>& states, TimeMs as_of,
                  bool builds_values, ResultWriter& out) {
  auto write = [&](const State& state) {
    if (builds_values)
      out.value(signal.aggregator().result(state, as_of));
    else
      signal.aggregator().write_result(state, as_of, out);
  };
  if (!signal.windowed()) {
    if (states.empty()) return out.null();
    return write(*states.front());
  }
  out.begin_object(plans.size());
  for (std::size_t p = 0; p < plans.size(); ++p) {
    out.key(plans[p].label);
    write(*states[p]);
  }
  out.end_object();
}

// The Value of a signal's answer as far as `wanted` (by plan) asks: of a windowed signal, an
// object of the windows wanted; else the one window's result (null without one). Built by
// Aggregator::result(), which for a Value costs less than writing it token by token.
Value signal_value(const Signal& signal, const std::vector<WindowPlan>& plans,
                   const std::vector<std::unique_ptr<State>>& states, TimeMs as_of,
                   const std::vector<bool>& wanted) {
  if (!signal.windowed())
    return states.empty() ? Value() : signal.aggregator().result(*states.front(), as_of);
  Value::Object windows;
  for (std::size_t p = 0; p < plans.size(); ++p)
    if (wanted[p])
      windows.emplace_back(plans[p].label, signal.aggregator().result(*states[p], as_of));
  return Value(std::move(windows));
}

void write_members(Value object, ResultWriter& out) {
  for (auto& [key, value] : object.object()) {
    out.key(key);
    out.value(std::move(value));
  }
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
    const StatePolicy& policy = retention_.states.at(signal.state_id());
    r.state_longest_window = policy.longest_window;
    r.state_exact_window = policy.exact_window.value_or(0);
  }
  return requests;
}

Value Engine::query(std::uint64_t user_id, const std::vector<std::string>& requested,
                    std::optional<TimeMs> as_of) {
  return query(user_id, requested, as_of, Seen::kOmit);
}

Value Engine::query(std::uint64_t user_id, const std::vector<std::string>& requested,
                    std::optional<TimeMs> as_of, Seen report_seen) {
  ValueBuilder built;
  write_query(user_id, requested, as_of, report_seen, built);
  return built.take();
}

void Engine::query_json(std::uint64_t user_id, const std::vector<std::string>& requested,
                        std::optional<TimeMs> as_of, Seen report_seen, std::string& out) {
  // Most answers are a few hundred bytes to a few KiB: start past the first doublings.
  out.reserve(out.size() + 512);
  JsonResultWriter writer(out);
  write_query(user_id, requested, as_of, report_seen, writer);
}

void Engine::write_query(std::uint64_t user_id, const std::vector<std::string>& requested,
                         std::optional<TimeMs> as_of, Seen report_seen, ResultWriter& out) {
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
  const QueryInputs inputs = read_cover(user_id, requests, as_of, /*find_runs=*/true);
  counters_.query_tiles_read.fetch_add(inputs.tiles_read, std::memory_order_relaxed);
  // What was read already answers "seen" for most known users; only the rest cost a lookup.
  std::optional<bool> seen;
  if (report_seen == Seen::kReport)
    seen = inputs.read_any_tile || !inputs.events.empty() || inputs.snapshot->holds_user(user_id);
  write_answer(user_id, names, refs, requests, inputs, seen, out);
}

template <class Fn>
decltype(auto) Engine::with_view_inputs(std::size_t v, const std::vector<Value>& signal_results,
                                        Fn&& fn) const {
  const ViewConfig& vc = config_.views[v];
  static const Value kNothing;
  const Value& input =
      views_[v]->input() == View::Input::kOperands ? kNothing : signal_results[view_signal_[v]];
  const Value* window_result = vc.window.empty() ? &input : input.find(vc.window);
  std::vector<const Value*> operands;
  for (const auto& [s, window] : view_operands_[v])
    operands.push_back(window.empty() ? &signal_results[s] : signal_results[s].find(window));
  // By reference: `window_result ? *window_result : Value()` would copy the whole result.
  return fn(window_result ? *window_result : kNothing, operands);
}

Value Engine::view_result(std::size_t v, const std::vector<Value>& signal_results) const {
  return with_view_inputs(v, signal_results,
                          [&](const Value& input, const std::vector<const Value*>& operands) {
                            return views_[v]->transform_with(input, operands);
                          });
}

void Engine::write_view(std::size_t v, const std::vector<Value>& signal_results,
                        ResultWriter& out) const {
  with_view_inputs(v, signal_results,
                   [&](const Value& input, const std::vector<const Value*>& operands) {
                     views_[v]->write_with(input, operands, out);
                   });
}

Value Engine::completeness(const std::vector<std::string>& names, const std::vector<NameRef>& refs,
                           const std::vector<SignalRequest>& requests,
                           const QueryInputs& inputs) const {
  // Nearly always every state is complete from the beginning (none was built after its signal
  // was added): then no name has anything to say, and nothing is built to say it.
  if (std::all_of(inputs.complete_since.begin(), inputs.complete_since.end(),
                  [](TimeMs since) { return since <= 0; }))
    return Value(Value::Object());
  const TimeMs retention = config_.event_store.retention;
  const TimeMs as_of = inputs.as_of;
  // Whether window `window` of signal `s` (all its windows when empty) starts before its
  // state is complete. While a state is being built, every window is: the tiles of a user
  // the build has not reached lack even the live events (the build folds them from their
  // stored copies), and which users it has reached is not the answer's to tell.
  auto reaches_before = [&](std::size_t s, const std::string& window) {
    const TimeMs since = inputs.complete_since[signal_owner_[s]];
    if (since <= 0) return false;
    if (inputs.being_built[signal_owner_[s]]) return true;
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
      const TimeMs since = inputs.complete_since[signal_owner_[s]];
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
    TimeMs since = 0;
    bool incomplete = false;
    auto read = [&](std::size_t s, const std::string& window) {
      since = std::max(since, inputs.complete_since[signal_owner_[s]]);
      incomplete = incomplete || reaches_before(s, window);
    };
    for (const auto& [s, window] : view_operands_[v]) read(s, window);
    if (views_[v]->input() != View::Input::kOperands)
      read(view_signal_[v], config_.views[v].window);
    if (since <= 0) continue;
    since_by_name.emplace_back(name, Value(since));
    if (incomplete) incomplete_by_name.emplace_back(name, Value(Value::Array()));
  }
  Value members{Value::Object()};
  if (since_by_name.empty()) return members;
  members.object().reserve(2);
  members.object().emplace_back("complete_since", Value(std::move(since_by_name)));
  if (!incomplete_by_name.empty())
    members.object().emplace_back("incomplete", Value(std::move(incomplete_by_name)));
  return members;
}

void Engine::read_state_records(QueryInputs& inputs) const {
  inputs.complete_since.resize(state_owners_.size());
  inputs.being_built.resize(state_owners_.size());
  for (std::size_t o = 0; o < state_owners_.size(); ++o) {
    // Being built first: a build that ends between the two loads leaves its state marked
    // being built, never complete from a time its tiles did not yet hold.
    inputs.being_built[o] = bootstrapping_[o].load();
    inputs.complete_since[o] = complete_since_[o].load();
  }
}

TimeMs Engine::states_complete_from(const std::vector<SignalRequest>& requests,
                                    const QueryInputs& inputs) const {
  TimeMs from = kBeginningOfTime;
  for (std::size_t s = 0; s < signals_.size(); ++s) {
    if (requests[s].name.empty()) continue;
    const std::size_t owner = signal_owner_[s];
    if (inputs.being_built[owner]) return std::numeric_limits<TimeMs>::max();
    from = std::max(from, inputs.complete_since[owner]);
  }
  return from;
}

SpanLookup Engine::span_lookup(std::uint64_t user_id, StoreSnapshot& snapshot, TimeMs as_of) const {
  SpanLookup runs;
  runs.cache = span_cache_.get();
  runs.user_id = user_id;
  runs.as_of = as_of;
  if (runs.cache) {
    runs.tile_version = snapshot.tile_version(user_id);
    runs.settled_before = floor_day(snapshot.high_water());
    if (runs.tile_version) {
      runs.settled_key = settled_set_key(user_id, *runs.tile_version);
      runs.settled = runs.cache->find_set(runs.settled_key);
    }
  }
  return runs;
}

OnlineState Engine::online_state_of(const StoreSnapshot& snapshot) const {
  OnlineState online = online_state(snapshot.high_water(), snapshot.expired_through(),
                                    config_.event_store.retention, retention_.retention);
  online.no_event_after_stream_time = snapshot.shows_no_event_after_high_water();
  return online;
}

WindowedPlans Engine::plan_windowed(const std::vector<SignalRequest>& requests, TimeMs at,
                                    const OnlineState& online, TimeMs complete_from) const {
  WindowedPlans windowed;
  windowed.plans.resize(signals_.size());
  for (std::size_t s = 0; s < signals_.size(); ++s) {
    if (requests[s].name.empty() || !requests[s].windowed) continue;
    std::vector<WindowPlan>& plans = windowed.plans[s];
    plans = plan_signal(requests[s], at, online, std::nullopt, complete_from);
    append_hour_tile_ranges(plans, windowed.hours);
    append_raw_piece_hours(plans, hour_tiles_tell_from(requests[s], online, complete_from),
                           windowed.hours);
  }
  windowed.hours = merge_ranges(std::move(windowed.hours), kHourMs);
  return windowed;
}

TileSelection Engine::select_around_found_runs(const std::vector<SignalRequest>& requests,
                                               const OnlineState& online, TimeMs from,
                                               TimeMs complete_from, QueryInputs& inputs) const {
  const TimeMs at = inputs.as_of;
  const SpanLookup& runs = inputs.runs;
  TileSelection selection{false, {}, {}};
  std::vector<std::pair<TimeMs, TimeMs>>& days = selection.day_ranges;
  // The hours the plans fold: a heavy user keeps hour tiles for the days of raw retention,
  // and a query's windows use today's and those at their far edges.
  std::vector<std::pair<TimeMs, TimeMs>>& hours = selection.hour_ranges;
  // A signal without windows whose run was not found is planned after the read, from its
  // base tile: every hour it might use is read. No plan merges an hour tile older than the
  // online state's (plan_signal refuses such a window, and reads a base-only state's older
  // hours as raw events): hour tiles expiry has not yet compacted away are not read.
  bool every_hour = false;
  // The run under `key`, or null; a hit holding tiles says the user has some.
  auto find = [&](const std::optional<SpanKey>& key) -> std::shared_ptr<const CachedRun> {
    if (!key) return nullptr;
    std::shared_ptr<const CachedRun> run = runs.cache->find_in(runs.settled, *key);
    if (run && run->tiles > 0) inputs.read_any_tile = true;
    return run;
  };
  // The default query's windowed plans are the same for every user at one as_of.
  auto plan = [&] { return plan_windowed(requests, at, online, complete_from); };
  const std::shared_ptr<const WindowedPlans> windowed =
      &requests == &all_requests_ ? plan_cache_.get(at, online, complete_from, plan)
                                  : std::make_shared<const WindowedPlans>(plan());
  hours = windowed->hours;
  inputs.shared_plans = windowed;
  for (std::size_t s = 0; s < signals_.size(); ++s) {
    if (requests[s].name.empty()) continue;
    const std::uint64_t state_id = signals_[s]->state_id();
    std::vector<std::shared_ptr<const CachedRun>>& found = inputs.leading_runs[s];
    if (!requests[s].windowed) {
      std::shared_ptr<const CachedRun> run = find(all_history_run_key(runs, state_id, at));
      if (run && settled_base(runs, run->base_through)) {
        inputs.own(s, plan_signal(requests[s], at, online, run->base_through, complete_from));
        const std::vector<WindowPlan>& plans = *inputs.plans[s];
        append_hour_tile_ranges(plans, hours);
        append_raw_piece_hours(plans, hour_tiles_tell_from(requests[s], online, complete_from),
                               hours);
        found.push_back(std::move(run));
        continue;
      }
      selection.base = true;
      days.emplace_back(kBeginningOfTime, at);
      every_hour = true;
      continue;
    }
    const std::vector<WindowPlan>& plans = windowed->plans[s];
    inputs.plans[s] = &plans;
    found.resize(plans.size());
    for (std::size_t p = 0; p < plans.size(); ++p) {
      const CoverPiece* whole = day_piece(plans[p]);
      if (!whole) continue;
      found[p] = find(windowed_run_key(runs, state_id, plans[p]));
      if (!found[p]) days.emplace_back(whole->from, whole->to - 1);  // `to` is exclusive
    }
  }
  if (every_hour) hours.emplace_back(std::max(from, online.hour_tiles_from), at);
  days = merge_ranges(std::move(days), kDayMs);  // each gap costs the store a seek
  hours = merge_ranges(std::move(hours), kHourMs);
  return selection;
}

namespace {

// The states a query reads, ascending, each with the earliest tile start its windows use.
struct StatesAsked {
  std::vector<std::uint64_t> ids;
  std::vector<TimeMs> from;  // by index into ids
  TimeMs earliest = 0;       // of them all, and no later than the day of the query
};

StatesAsked states_asked(const std::vector<std::unique_ptr<Signal>>& signals,
                         const std::vector<SignalRequest>& requests, TimeMs at, TimeMs retention) {
  std::vector<std::pair<std::uint64_t, TimeMs>> states;
  for (std::size_t s = 0; s < signals.size(); ++s)
    if (!requests[s].name.empty())
      states.emplace_back(signals[s]->state_id(), tiles_needed_from(requests[s], at, retention));
  std::sort(states.begin(), states.end());
  StatesAsked asked;
  asked.earliest = floor_day(at);
  for (const auto& [state_id, from] : states) {
    if (asked.ids.empty() || asked.ids.back() != state_id) {  // the earliest start sorts first
      asked.ids.push_back(state_id);
      asked.from.push_back(from);
    }
    asked.earliest = std::min(asked.earliest, from);
  }
  return asked;
}

// Reads, in one pass over the user's tiles, the parts of the states asked that `selection`
// names and some window can use, and hands each state its own in `tiles`, appending the start
// of each hour tile among them to `hour_starts`. Returns the parts read.
std::size_t read_tiles(StoreSnapshot& snapshot, std::uint64_t user_id, const StatesAsked& asked,
                       const TileSelection& selection,
                       std::unordered_map<std::uint64_t, std::vector<StoredTile>>& tiles,
                       std::vector<TimeMs>& hour_starts) {
  std::vector<StoredTile> read = snapshot.tiles(user_id, asked.ids, selection);
  // Each state's tiles moved in once, into room made for them (a heavy user reads a couple
  // of thousand); a tile's state found by its place among the few ids asked for, not by a
  // hash lookup per tile.
  auto index_of = [&](std::uint64_t state_id) {
    return static_cast<std::size_t>(std::lower_bound(asked.ids.begin(), asked.ids.end(), state_id) -
                                    asked.ids.begin());
  };
  std::vector<std::size_t> counts(asked.ids.size(), 0);
  for (const StoredTile& tile : read) ++counts[index_of(tile.state_id)];
  std::vector<std::vector<StoredTile>*> state_tiles(asked.ids.size());
  for (std::size_t i = 0; i < asked.ids.size(); ++i) {
    state_tiles[i] = &tiles[asked.ids[i]];
    state_tiles[i]->reserve(state_tiles[i]->size() + counts[i]);
  }
  for (StoredTile& tile : read) {
    const std::size_t i = index_of(tile.state_id);
    if (tile.kind != TileKind::kBase && tile.start < asked.from[i]) continue;
    if (tile.kind == TileKind::kHour) hour_starts.push_back(tile.start);
    state_tiles[i]->push_back(tile);
  }
  return read.size();
}

// The covered_through of the base tile read among `tiles`, if any. (A signal without windows
// whose run was found before the read was planned from the run's.)
std::optional<TimeMs> base_through(const std::vector<StoredTile>& tiles) {
  for (const StoredTile& t : tiles)
    if (t.kind == TileKind::kBase) return t.covered_through;
  return std::nullopt;
}

}  // namespace

QueryInputs Engine::read_cover(std::uint64_t user_id, const std::vector<SignalRequest>& requests,
                               std::optional<TimeMs> as_of, bool find_runs) {
  const TimeMs at = as_of ? *as_of : wall_clock_ms();
  if (at < 0) throw QueryError("as_of: must be a time in milliseconds since the epoch, >= 0");
  try {
    return read_cover_once(user_id, requests, at, find_runs, /*read_whole=*/false);
  } catch (const SnapshotMoved&) {
    // A commit or an expiry of the user fell between the read of its tiles and that of its
    // events (a shared store reading a heavy user in parts): read it again, all at once.
    return read_cover_once(user_id, requests, at, find_runs, /*read_whole=*/true);
  }
}

QueryInputs Engine::read_cover_once(std::uint64_t user_id,
                                    const std::vector<SignalRequest>& requests, TimeMs at,
                                    bool find_runs, bool read_whole) {
  QueryInputs inputs;
  inputs.as_of = at;
  inputs.size_plans(signals_.size());
  inputs.leading_runs.resize(signals_.size());

  // Read before the snapshot: a state's record vouches for the tiles committed before it was
  // published, so only for a snapshot taken after it.
  read_state_records(inputs);
  const TimeMs complete_from = states_complete_from(requests, inputs);
  std::unique_ptr<StoreSnapshot> snapshot = store_->snapshot();
  if (read_whole) snapshot->read_users_whole();
  if (find_runs) inputs.runs = span_lookup(user_id, *snapshot, at);
  const StatesAsked asked = states_asked(signals_, requests, at, config_.event_store.retention);
  std::vector<TimeMs> hour_starts;  // of the hour tiles read, for raw_ranges_with_events()
  auto read = [&](const TileSelection& selection) {
    const std::size_t parts =
        read_tiles(*snapshot, user_id, asked, selection, inputs.tiles, hour_starts);
    inputs.tiles_read += parts;
    inputs.read_any_tile = inputs.read_any_tile || parts > 0;
  };
  // With runs found by version, the windowed signals are planned before the read, on the
  // horizons the snapshot gives before it; a store whose horizons move with a user's read
  // (StoreSnapshot) keeps no versions, but should they move, everything is read and planned
  // again.
  std::optional<OnlineState> planned_on;
  if (inputs.runs.by_version()) {
    planned_on = online_state_of(*snapshot);
    read(select_around_found_runs(requests, *planned_on, asked.earliest, complete_from, inputs));
  } else {
    read(TileSelection::between(asked.earliest, at));
  }
  const OnlineState online = online_state_of(*snapshot);
  if (planned_on && !(*planned_on == online)) {
    planned_on.reset();
    inputs.size_plans(signals_.size());
    inputs.shared_plans.reset();
    for (auto& found : inputs.leading_runs) found.clear();
    inputs.tiles.clear();
    hour_starts.clear();
    inputs.read_any_tile = false;
    read(TileSelection::between(asked.earliest, at));
  }

  for (std::size_t s = 0; s < signals_.size(); ++s) {
    if (requests[s].name.empty()) continue;
    if (!requests[s].windowed) {
      if (planned_on && !inputs.leading_runs[s].empty()) continue;  // planned from its run
      inputs.own(
          s, plan_signal(requests[s], at, online,
                         base_through(inputs.tiles.at(signals_[s]->state_id())), complete_from));
    } else if (!planned_on) {
      inputs.own(s, plan_signal(requests[s], at, online, std::nullopt, complete_from));
    }
  }

  // The raw events of all partial ends, in one pass per merged range, but for the ranges the
  // hour tiles read show to hold no event the states take.
  std::sort(hour_starts.begin(), hour_starts.end());
  std::vector<TimeMs> tiles_tell_from(signals_.size());
  for (std::size_t s = 0; s < signals_.size(); ++s)
    tiles_tell_from[s] = hour_tiles_tell_from(requests[s], online, complete_from);
  const FeatureNames& features = materializer_->feature_names();
  for (const auto& [from, to] : raw_ranges_with_events(inputs.plans, tiles_tell_from, hour_starts))
    snapshot->scan_events(user_id, from, to, [&](std::string_view bytes) {
      inputs.events.push_back(decode_event(bytes, features));
    });
  inputs.snapshot = std::move(snapshot);
  return inputs;
}

void Engine::write_answer(std::uint64_t user_id, const std::vector<std::string>& names,
                          const std::vector<NameRef>& refs,
                          const std::vector<SignalRequest>& requests, const QueryInputs& inputs,
                          std::optional<bool> seen, ResultWriter& out) const {
  // Every signal asked for is folded once, into the state of each window; the views get
  // Values of the windows they read, and the answer is written from the states (a signal
  // named twice is written twice from the same states, with no Value to copy).
  std::vector<std::vector<std::unique_ptr<State>>> states(signals_.size());
  for (std::size_t s = 0; s < signals_.size(); ++s)
    if (!requests[s].name.empty())
      states[s] =
          fold_signal(*signals_[s], *inputs.plans[s], inputs.tiles.at(signals_[s]->state_id()),
                      inputs.events, inputs.runs, inputs.leading_runs[s]);
  // Which windows (by plan) of each signal some view reads.
  std::vector<std::vector<bool>> read_by_views(signals_.size());
  auto read = [&](std::size_t s, const std::string& window) {
    const std::vector<WindowPlan>& plans = *inputs.plans[s];
    read_by_views[s].resize(plans.size(), false);
    for (std::size_t p = 0; p < plans.size(); ++p)
      if (window.empty() || !signals_[s]->windowed() || plans[p].label == window)
        read_by_views[s][p] = true;
  };
  for (std::size_t n = 0; n < names.size(); ++n) {
    if (!refs[n].view) continue;
    const std::size_t v = refs[n].index;
    if (views_[v]->input() != View::Input::kOperands)
      read(view_signal_[v], config_.views[v].window);
    for (const auto& [s, window] : view_operands_[v]) read(s, window);
  }
  std::vector<Value> signal_results(signals_.size());
  for (std::size_t s = 0; s < signals_.size(); ++s)
    if (!read_by_views[s].empty())
      signal_results[s] =
          signal_value(*signals_[s], *inputs.plans[s], states[s], inputs.as_of, read_by_views[s]);
  // query() (gRPC, the CLI, backfill) builds the answer as a Value.
  const bool builds_values = dynamic_cast<ValueBuilder*>(&out) != nullptr;

  out.begin_object(7);
  out.key("user_id");
  out.unsigned_integer(user_id);
  out.key("as_of");
  out.integer(inputs.as_of);
  out.key("as_of_iso");
  out.string(format_iso_time(inputs.as_of));
  if (seen) {
    out.key("seen");
    out.boolean(*seen);
  }
  out.key("signals");
  out.begin_object(names.size());
  for (std::size_t n = 0; n < names.size(); ++n) {
    out.key(names[n]);
    if (refs[n].view) {
      // A builder takes the view's Value whole; JSON is written as the view goes.
      if (builds_values)
        out.value(view_result(refs[n].index, signal_results));
      else
        write_view(refs[n].index, signal_results, out);
      continue;
    }
    const std::size_t s = refs[n].index;
    write_signal(*signals_[s], *inputs.plans[s], states[s], inputs.as_of, builds_values, out);
  }
  out.end_object();
  write_members(completeness(names, refs, requests, inputs), out);
  out.end_object();
}

}  // namespace signalbox
