#include "signalbox/engine/engine.h"

#include <algorithm>
#include <stdexcept>
#include <unordered_set>

#include <fmt/format.h>

#include "signalbox/common/error.h"
#include "signalbox/common/hash.h"
#include "signalbox/engine/plugins.h"
#include "signalbox/store/open_store.h"
#include "signalbox/store/tiles.h"

namespace signalbox {

namespace {

struct TileKeyHash {
  std::size_t operator()(const TileKey& k) const {
    return static_cast<std::size_t>((k.user_id * 0x9e3779b97f4a7c15ULL) ^
                                    (static_cast<std::uint64_t>(k.start) * 0xc2b2ae3d27d4eb4fULL) ^
                                    static_cast<std::uint64_t>(k.kind));
  }
};

struct EventIdHash {
  std::size_t operator()(const std::pair<std::uint64_t, std::string_view>& id) const {
    return static_cast<std::size_t>(hash64(id.second, id.first));
  }
};

std::string join_names(const std::vector<std::string>& names) {
  return fmt::format("{}", fmt::join(names, ", "));
}

Value params_value(const ConfigParams& params) {
  Value::Object out;
  for (const auto& [key, param] : params) out.emplace_back(key, Value(param.text));
  return Value(std::move(out));
}

}  // namespace

// Merges stored tile states through the aggregator that owns each state id.
class Engine::Merger final : public TileMerger {
 public:
  explicit Merger(const std::vector<const Signal*>& owners) {
    for (const Signal* s : owners) owners_[s->state_id()] = &s->aggregator();
  }

  std::string merge(std::uint64_t state_id, std::span<const std::string_view> operands) const override {
    auto it = owners_.find(state_id);
    if (it == owners_.end() || operands.empty())
      return operands.empty() ? std::string() : std::string(operands.back());
    const Aggregator& aggregator = *it->second;
    std::unique_ptr<State> total = aggregator.decode(operands[0]);
    for (std::size_t i = 1; i < operands.size(); ++i)
      aggregator.merge(*total, *aggregator.decode(operands[i]));
    std::string out;
    aggregator.encode(*total, out);
    return out;
  }

 private:
  std::unordered_map<std::uint64_t, const Aggregator*> owners_;
};

Engine::Engine(const Config& config, Options options) : config_(config), options_(options) {
  // First: a plugin may define the aggregators and views the signals below name.
  load_plugins(config_);
  materializer_ = std::make_unique<Materializer>(config_);
  const FeatureNames& features = materializer_->feature_names();
  std::unordered_map<std::uint64_t, const Signal*> owners;
  // Raw events are kept for the retention plus the allowed clock skew, so that a window as long
  // as the retention still answers exactly at the wall clock when producers' clocks run ahead.
  retention_.retention = config_.event_store.retention + config_.event_store.max_future_skew;
  retention_.late_horizon = signalbox::late_horizon(config_);
  for (const SignalConfig& sc : config_.signals) {
    if (signal_index_.count(sc.name))
      throw_config_error(sc.where, "name", fmt::format("signal \"{}\" defined twice", sc.name));
    auto signal = std::make_unique<Signal>(sc, features);
    signal_index_[sc.name] = signals_.size();
    if (!owners.count(signal->state_id())) {
      owners[signal->state_id()] = signal.get();
      state_owners_.push_back(signal.get());
    }
    StatePolicy& policy = retention_.states[signal->state_id()];
    policy.longest_window = std::max(policy.longest_window, signal->longest_window());
    policy.keep_base = policy.keep_base || !signal->windowed();
    signals_.push_back(std::move(signal));
  }
  for (const ViewConfig& vc : config_.views) {
    auto it = signal_index_.find(vc.signal);
    if (it == signal_index_.end())
      throw_config_error(vc.where, "signal", fmt::format("no signal named \"{}\"", vc.signal));
    if (signal_index_.count(vc.name) || view_index_.count(vc.name))
      throw_config_error(vc.where, "name", fmt::format("name \"{}\" is already used", vc.name));
    views_.push_back(make_view(ViewContext{vc, *signals_[it->second]}));
    view_signal_.push_back(it->second);
    view_index_[vc.name] = views_.size() - 1;
  }
  // By state id: the order a tile stores its states in.
  std::sort(state_owners_.begin(), state_owners_.end(),
            [](const Signal* a, const Signal* b) { return a->state_id() < b->state_id(); });
  merger_ = std::make_unique<Merger>(state_owners_);
  if (!options_.open_store) return;
  store_ = open_store(config_, *merger_, options_.read_only);
  decode_options_.max_future_skew = config_.event_store.max_future_skew;
  last_expiry_ = last_fold_ = store_->high_water();
}

Engine::~Engine() = default;

std::vector<std::string> Engine::names() const {
  std::vector<std::string> out;
  for (const auto& s : signals_) out.push_back(s->name());
  for (const auto& v : config_.views) out.push_back(v.name);
  return out;
}

// One tile's deltas being folded: states[o] belongs to state_owners_[o], null when no event
// folded into it.
struct Engine::TileStates {
  TileKey key;
  std::vector<std::unique_ptr<State>> states;
};

// A batch between prepare and ingest_prepared(): decoded, materialized, encoded, and its
// tile deltas folded and encoded on the assumption that every event is new (a batch in
// which that turns out wrong is folded again without the rest; in a replay it hardly is).
struct Engine::PreparedBatch::Work {
  std::vector<MaterializedEvent> events;
  std::vector<std::size_t> indexes;  // events[i] is input item indexes[i]
  IngestResult result;               // the events that did not decode
  std::vector<std::string> encoded;  // encode_event(events[i])
  std::vector<bool> repeat;          // an earlier event of the batch has the same id
  std::vector<std::size_t> firsts;   // the events that are not repeats
  std::vector<TileDelta> tiles;      // the tile deltas of the events in `firsts`
  std::vector<std::string> lanes;    // the input of each event, by input index; empty: one input
};

Engine::PreparedBatch::PreparedBatch() = default;
Engine::PreparedBatch::~PreparedBatch() = default;
Engine::PreparedBatch::PreparedBatch(PreparedBatch&&) noexcept = default;
Engine::PreparedBatch& Engine::PreparedBatch::operator=(PreparedBatch&&) noexcept = default;

Engine::PreparedBatch Engine::prepare_json(std::string_view body) {
  EventDecoder decoder(decode_options_);
  std::vector<Event> events;
  std::vector<std::size_t> indexes;
  IngestResult result;
  decoder.decode_batch(
      body,
      [&](std::size_t i, Event&& e) {
        events.push_back(std::move(e));
        indexes.push_back(i);
      },
      [&](std::size_t i, std::string&& error) { result.rejected.emplace_back(i, std::move(error)); });
  counters_.events_rejected_invalid += result.rejected.size();
  return prepare(std::move(events), std::move(indexes), std::move(result));
}

IngestResult Engine::ingest_json(std::string_view body) { return ingest_prepared(prepare_json(body)); }

IngestResult Engine::ingest(std::vector<Event> events) {
  std::vector<std::size_t> indexes(events.size());
  for (std::size_t i = 0; i < indexes.size(); ++i) indexes[i] = i;
  return ingest_prepared(prepare(std::move(events), std::move(indexes), IngestResult()));
}

IngestResult Engine::ingest(std::vector<Event> events, const std::vector<std::string>& lanes) {
  if (lanes.size() != events.size())
    throw std::invalid_argument(fmt::format("{} lanes for {} events", lanes.size(), events.size()));
  std::vector<std::size_t> indexes(events.size());
  for (std::size_t i = 0; i < indexes.size(); ++i) indexes[i] = i;
  PreparedBatch batch = prepare(std::move(events), std::move(indexes), IngestResult());
  batch.work_->lanes = lanes;
  return ingest_prepared(std::move(batch));
}

void Engine::open_lanes(const std::vector<std::string>& lanes) {
  std::lock_guard lock(write_mutex_);
  for (const std::string& lane : lanes)
    if (!lane_clocks_.count(lane)) pending_lanes_.insert(lane);
}

void Engine::settle_lanes(const std::vector<std::string>& lanes) {
  std::lock_guard lock(write_mutex_);
  for (const std::string& lane : lanes) pending_lanes_.erase(lane);
}

void Engine::release_lanes(const std::vector<std::string>& lanes) {
  std::lock_guard lock(write_mutex_);
  for (const std::string& lane : lanes) {
    lane_clocks_.erase(lane);
    pending_lanes_.erase(lane);
  }
}

std::optional<TimeMs> Engine::ids_hold() const {
  // An input whose backlog has not shown its times yet could be far behind: hold still.
  if (!pending_lanes_.empty()) return kBeginningOfTime;
  if (lane_clocks_.empty()) return std::nullopt;
  TimeMs oldest = lane_clocks_.begin()->second;
  for (const auto& [lane, clock] : lane_clocks_) oldest = std::min(oldest, clock);
  return oldest;
}

void Engine::fold_deltas(const std::vector<MaterializedEvent>& events,
                         const std::vector<std::size_t>& which, std::vector<TileStates>& deltas) const {
  std::unordered_map<TileKey, std::size_t, TileKeyHash> index;
  std::vector<std::optional<double>> weights(state_owners_.size());
  for (std::size_t i : which) {
    const MaterializedEvent& me = events[i];
    bool any = false;
    for (std::size_t o = 0; o < state_owners_.size(); ++o) {
      weights[o] = state_owners_[o]->weight(me);
      any = any || weights[o].has_value();
    }
    if (!any) continue;
    for (TileKind kind : {TileKind::kDay, TileKind::kHour}) {
      TileKey key{me.event.user_id, kind, floor_to(me.event.ts, tile_length(kind))};
      auto [at, inserted] = index.try_emplace(key, deltas.size());
      if (inserted) deltas.push_back(TileStates{key, std::vector<std::unique_ptr<State>>(state_owners_.size())});
      std::vector<std::unique_ptr<State>>& states = deltas[at->second].states;
      for (std::size_t o = 0; o < state_owners_.size(); ++o) {
        if (!weights[o]) continue;
        const Aggregator& aggregator = state_owners_[o]->aggregator();
        if (!states[o]) states[o] = aggregator.make_state();
        aggregator.fold(*states[o], me, *weights[o]);
      }
    }
  }
}

Engine::PreparedBatch Engine::prepare(std::vector<Event> events, std::vector<std::size_t> indexes,
                                      IngestResult result) {
  if (options_.read_only) throw StorageError("the store is open read-only");
  PreparedBatch batch;
  batch.work_ = std::make_unique<PreparedBatch::Work>();
  PreparedBatch::Work& w = *batch.work_;
  w.events = materializer_->materialize(std::move(events));
  w.indexes = std::move(indexes);
  w.result = std::move(result);
  const FeatureNames& names = materializer_->feature_names();
  w.encoded.resize(w.events.size());
  w.repeat.assign(w.events.size(), false);
  std::unordered_set<std::pair<std::uint64_t, std::string_view>, EventIdHash> seen;
  w.firsts.reserve(w.events.size());
  for (std::size_t i = 0; i < w.events.size(); ++i) {
    const Event& e = w.events[i].event;
    if (!seen.emplace(e.user_id, e.event_id).second) {
      w.repeat[i] = true;
      continue;
    }
    w.firsts.push_back(i);
  }
  // Every event is encoded: a repeat becomes the one stored when its first is late.
  for (std::size_t i = 0; i < w.events.size(); ++i) encode_event(w.events[i], names, w.encoded[i]);
  std::vector<TileStates> deltas;
  fold_deltas(w.events, w.firsts, deltas);
  w.tiles = encode_deltas(deltas);
  return batch;
}

std::vector<TileDelta> Engine::encode_deltas(const std::vector<TileStates>& deltas) const {
  std::vector<TileDelta> tiles;
  tiles.reserve(deltas.size());
  for (const TileStates& tile : deltas) {
    TileDelta delta{tile.key, {}};
    for (std::size_t o = 0; o < state_owners_.size(); ++o) {
      if (!tile.states[o]) continue;
      StateDelta part{state_owners_[o]->state_id(), {}};
      state_owners_[o]->aggregator().encode(*tile.states[o], part.state);
      delta.states.push_back(std::move(part));
    }
    tiles.push_back(std::move(delta));
  }
  return tiles;
}

IngestResult Engine::ingest_prepared(PreparedBatch prepared) {
  if (options_.read_only) throw StorageError("the store is open read-only");
  if (!prepared.work_) return IngestResult();
  PreparedBatch::Work& w = *prepared.work_;
  IngestResult result = std::move(w.result);

  std::lock_guard lock(write_mutex_);
  TimeMs high_water = store_->high_water();
  const bool empty = high_water == kBeginningOfTime;
  const TimeMs too_late_through = empty ? kBeginningOfTime : high_water - retention_.late_horizon;
  const TimeMs raw_horizon = empty ? kBeginningOfTime : high_water - retention_.retention;

  // Too late events first, then duplicates within the batch, then duplicates already stored.
  // An event of an input with a clock of its own is judged by that clock, but never below the
  // id horizon: older ids may be forgotten.
  const TimeMs ids_horizon = store_->ids_expired_through();
  std::vector<bool> is_late(w.events.size(), false);
  std::size_t late = 0;
  for (std::size_t i = 0; i < w.events.size(); ++i) {
    const Event& e = w.events[i].event;
    if (w.lanes.empty()) {
      if (e.ts > too_late_through) continue;
      result.rejected.emplace_back(
          w.indexes[i],
          fmt::format("ts: {} is too late: stream time is {}, and events more than the late horizon "
                      "({} ms, event_store.late_horizon) behind it can no longer be deduplicated",
                      e.ts, high_water, retention_.late_horizon));
    } else {
      const std::string& lane = w.lanes[w.indexes[i]];
      auto clock = lane_clocks_.find(lane);
      const TimeMs lane_through =
          clock == lane_clocks_.end() ? kBeginningOfTime : clock->second - retention_.late_horizon;
      if (e.ts > std::max(lane_through, ids_horizon)) continue;
      result.rejected.emplace_back(
          w.indexes[i],
          e.ts <= ids_horizon
              ? fmt::format("ts: {} is too late: ids of events up to {} are no longer kept for "
                            "deduplication (event_store.late_horizon)",
                            e.ts, ids_horizon)
              : fmt::format("ts: {} is too late: the stream time of {} is {}, and events more than the "
                            "late horizon ({} ms, event_store.late_horizon) behind it can no longer be "
                            "deduplicated",
                            e.ts, lane, clock->second, retention_.late_horizon));
    }
    is_late[i] = true;
    ++late;
  }
  // Repeats as found ahead hold unless a late event was the first of its id.
  std::vector<bool> repeat = w.repeat;
  if (late > 0) {
    std::unordered_set<std::pair<std::uint64_t, std::string_view>, EventIdHash> seen;
    for (std::size_t i = 0; i < w.events.size(); ++i)
      repeat[i] = !is_late[i] && !seen.emplace(w.events[i].event.user_id, w.events[i].event.event_id).second;
  }
  std::vector<std::size_t> candidates;
  std::vector<std::pair<std::uint64_t, std::string>> ids;
  for (std::size_t i = 0; i < w.events.size(); ++i) {
    if (is_late[i]) continue;
    if (repeat[i]) {
      ++result.accepted;
      ++result.duplicates;
      continue;
    }
    const Event& e = w.events[i].event;
    candidates.push_back(i);
    ids.emplace_back(e.user_id, e.event_id);
  }
  std::vector<bool> stored = store_->contains(ids);

  CommitBatch batch;
  batch.high_water = high_water;
  std::vector<std::size_t> fresh;
  fresh.reserve(candidates.size());
  for (std::size_t c = 0; c < candidates.size(); ++c) {
    ++result.accepted;
    if (stored[c]) {
      ++result.duplicates;
      continue;
    }
    const std::size_t i = candidates[c];
    const Event& e = w.events[i].event;
    batch.events.push_back(StoredEvent{e.user_id, e.ts, e.event_id, std::move(w.encoded[i]), e.ts > raw_horizon});
    batch.high_water = std::max(batch.high_water, e.ts);
    fresh.push_back(i);
  }
  // The deltas encoded ahead are right when exactly the events they fold are stored.
  if (fresh == w.firsts) {
    batch.tiles = std::move(w.tiles);
  } else {
    std::vector<TileStates> refolded;
    fold_deltas(w.events, fresh, refolded);
    batch.tiles = encode_deltas(refolded);
  }
  if (!batch.events.empty()) store_->commit(batch);
  recent_users_.note(batch.events);
  if (!w.lanes.empty()) {
    for (std::size_t i = 0; i < w.events.size(); ++i) {
      if (is_late[i]) continue;
      const std::string& lane = w.lanes[w.indexes[i]];
      auto [clock, inserted] = lane_clocks_.try_emplace(lane, w.events[i].event.ts);
      if (!inserted) clock->second = std::max(clock->second, w.events[i].event.ts);
      if (inserted) pending_lanes_.erase(lane);
    }
  }

  counters_.events_accepted += result.accepted;
  counters_.events_duplicate += result.duplicates;
  counters_.events_rejected_late += late;
  std::sort(result.rejected.begin(), result.rejected.end());
  if (options_.auto_expire) maybe_expire(batch.high_water);
  return result;
}

void Engine::maybe_expire(TimeMs high_water) {
  // Called with write_mutex_ held. Moving the horizon is cheap; folding scans every tile, so
  // it waits for a week of stream time.
  if (high_water == kBeginningOfTime) return;
  if (last_expiry_ != kBeginningOfTime && high_water - last_expiry_ < kDayMs) return;
  bool fold = last_fold_ == kBeginningOfTime || high_water - last_fold_ >= 7 * kDayMs;
  store_->expire(retention_, {.ids_hold = ids_hold(), .fold_base = fold, .compact = false});
  last_expiry_ = high_water;
  if (fold) last_fold_ = high_water;
}

void Engine::expire(ExpireOptions options) {
  std::lock_guard lock(write_mutex_);
  store_->expire(retention_, {.ids_hold = ids_hold(),
                              .fold_base = true,
                              .compact_tiles = options.compact_tiles,
                              .compact = options.compact});
  last_expiry_ = last_fold_ = store_->high_water();
}

// One query's working set: the snapshot, the horizons it implies, and the raw events read.
struct Engine::Query {
  std::unique_ptr<StoreSnapshot> snapshot;
  TimeMs as_of = 0;
  TimeMs raw_after = kBeginningOfTime;  // raw events with ts > this are all present
  std::vector<MaterializedEvent> events;  // by ts
};

namespace {

// One window of one signal, planned: where its events come from.
struct WindowPlan {
  std::string label;  // the window as written; empty for a signal without windows
  const StoredTile* base = nullptr;
  std::vector<CoverPiece> pieces;
};

}  // namespace

std::vector<std::uint64_t> Engine::sample_users(std::size_t limit) {
  std::vector<std::uint64_t> out = recent_users_.newest(limit);
  std::unordered_set<std::uint64_t> seen(out.begin(), out.end());
  // Asks for enough stored users to fill the answer even if every recent one is among them.
  for (std::uint64_t user : store_->snapshot()->users(0, limit + out.size())) {
    if (out.size() >= limit) break;
    if (seen.insert(user).second) out.push_back(user);
  }
  return out;
}

Value Engine::query(std::uint64_t user_id, const std::vector<std::string>& requested,
                    std::optional<TimeMs> as_of) {
  counters_.queries++;
  std::vector<std::string> names = requested.empty() ? this->names() : requested;
  std::vector<std::size_t> signal_ids;
  std::vector<bool> needed(signals_.size(), false);
  for (const std::string& name : names) {
    if (auto it = signal_index_.find(name); it != signal_index_.end()) {
      needed[it->second] = true;
    } else if (auto v = view_index_.find(name); v != view_index_.end()) {
      needed[view_signal_[v->second]] = true;
    } else {
      throw QueryError(fmt::format("unknown signal or view \"{}\" (known: {})", name,
                                   join_names(this->names())));
    }
  }

  Query q;
  q.as_of = as_of ? *as_of : wall_clock_ms();
  if (q.as_of < 0) throw QueryError("as_of: must be a time in milliseconds since the epoch, >= 0");
  q.snapshot = store_->snapshot();
  const TimeMs retention = config_.event_store.retention;
  TimeMs high_water = q.snapshot->high_water();
  q.raw_after = std::max(
      high_water == kBeginningOfTime ? kBeginningOfTime : high_water - retention_.retention,
      q.snapshot->expired_through());
  const TimeMs hour_tiles_from = q.raw_after == kBeginningOfTime ? kBeginningOfTime
                                                                 : floor_day(q.raw_after) - kDayMs;

  // Read, in one pass over the user's tiles, only the states and the time some window of a
  // needed signal can use; then hand each state its own.
  std::unordered_map<std::uint64_t, std::vector<StoredTile>> tiles;
  {
    std::unordered_map<std::uint64_t, TimeMs> state_from;
    for (std::size_t s = 0; s < signals_.size(); ++s) {
      if (!needed[s]) continue;
      const Signal& signal = *signals_[s];
      TimeMs& from = state_from.try_emplace(signal.state_id(), q.as_of).first->second;
      if (!signal.windowed()) from = kBeginningOfTime;
      for (const WindowConfig& w : signal.windows())
        from = std::min(from, w.length <= retention ? q.as_of - w.length + 1 : floor_day(q.as_of - w.length));
    }
    std::vector<std::uint64_t> state_ids;
    TimeMs from = q.as_of;
    for (auto& [state_id, state_from_time] : state_from) {
      state_ids.push_back(state_id);
      state_from_time = floor_day(state_from_time);
      from = std::min(from, state_from_time);
      tiles[state_id];
    }
    std::sort(state_ids.begin(), state_ids.end());
    for (StoredTile& tile : q.snapshot->tiles(user_id, state_ids, from, q.as_of)) {
      if (tile.kind != TileKind::kBase && tile.start < state_from.at(tile.state_id)) continue;
      tiles[tile.state_id].push_back(std::move(tile));
    }
  }
  std::vector<std::vector<WindowPlan>> plans(signals_.size());
  std::vector<std::pair<TimeMs, TimeMs>> raw_ranges;
  for (std::size_t s = 0; s < signals_.size(); ++s) {
    if (!needed[s]) continue;
    const Signal& signal = *signals_[s];
    const std::vector<StoredTile>& stored = tiles.at(signal.state_id());
    const StatePolicy& policy = retention_.states.at(signal.state_id());
    const TimeMs day_tiles_from =
        q.raw_after == kBeginningOfTime ? kBeginningOfTime
                                        : floor_day(q.raw_after - policy.longest_window) - kDayMs;

    auto plan_window = [&](WindowPlan plan, TimeMs from) {
      plan.pieces = cover_interval(from, q.as_of);
      for (const CoverPiece& piece : plan.pieces) {
        bool present = piece.kind == CoverPiece::Kind::kRaw
                           ? piece.from > q.raw_after
                           : piece.tile == TileKind::kHour ? piece.from >= hour_tiles_from
                                                           : plan.base || !signal.windowed() ||
                                                                 piece.from >= day_tiles_from;
        if (!present) {
          throw QueryError(fmt::format(
              "as_of: {} is too old for signal \"{}\"{}: the online state holds raw events "
              "only after {} (stream time {} minus retention and max_future_skew); use `signalbox backfill` "
              "for older points",
              q.as_of, signal.name(), plan.label.empty() ? "" : " window " + plan.label,
              q.raw_after, high_water));
        }
        if (piece.kind == CoverPiece::Kind::kRaw) raw_ranges.emplace_back(piece.from, piece.to);
      }
      plans[s].push_back(std::move(plan));
    };

    if (signal.windowed()) {
      for (const WindowConfig& w : signal.windows()) {
        TimeMs from = w.length <= retention ? q.as_of - w.length + 1 : floor_day(q.as_of - w.length);
        plan_window(WindowPlan{w.text, nullptr, {}}, from);
      }
    } else {
      const StoredTile* base = nullptr;
      for (const StoredTile& t : stored)
        if (t.kind == TileKind::kBase) base = &t;
      if (base && base->covered_through > q.as_of) {
        throw QueryError(fmt::format(
            "as_of: {} is too old for signal \"{}\": its state before {} is only kept in sum; "
            "use `signalbox backfill` for older points",
            q.as_of, signal.name(), base->covered_through + 1));
      }
      plan_window(WindowPlan{"", base, {}}, base ? base->covered_through + 1 : kBeginningOfTime);
    }
  }

  // Read the raw events of all partial ends in one pass per merged range.
  std::sort(raw_ranges.begin(), raw_ranges.end());
  std::vector<std::pair<TimeMs, TimeMs>> merged;
  for (const auto& r : raw_ranges) {
    if (!merged.empty() && r.first <= merged.back().second + 1)
      merged.back().second = std::max(merged.back().second, r.second);
    else
      merged.push_back(r);
  }
  const FeatureNames& features = materializer_->feature_names();
  for (const auto& [from, to] : merged)
    q.snapshot->scan_events(user_id, from, to, [&](std::string_view bytes) {
      q.events.push_back(decode_event(bytes, features));
    });

  // Evaluate: merge tiles and fold raw events per window.
  std::vector<Value> signal_results(signals_.size());
  for (std::size_t s = 0; s < signals_.size(); ++s) {
    if (!needed[s]) continue;
    const Signal& signal = *signals_[s];
    const Aggregator& aggregator = signal.aggregator();
    const std::vector<StoredTile>& stored = tiles.at(signal.state_id());
    std::vector<std::unique_ptr<State>> decoded(stored.size());
    auto tile_state = [&](std::size_t i) -> const State& {
      if (!decoded[i]) decoded[i] = aggregator.decode(stored[i].state);
      return *decoded[i];
    };
    Value::Object windows;
    Value single;
    for (const WindowPlan& plan : plans[s]) {
      std::unique_ptr<State> state = aggregator.make_state();
      if (plan.base) {
        aggregator.merge(*state, tile_state(plan.base - stored.data()));
        // A late event of a day already folded into the base lands in a day tile of its own
        // until the next fold moves it there too: it belongs to the base's span.
        for (std::size_t i = 0; i < stored.size(); ++i) {
          const StoredTile& t = stored[i];
          if (t.kind == TileKind::kDay && t.start + kDayMs - 1 <= plan.base->covered_through)
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
        auto first = std::lower_bound(
            q.events.begin(), q.events.end(), piece.from,
            [](const MaterializedEvent& e, TimeMs t) { return e.event.ts < t; });
        for (auto it = first; it != q.events.end() && it->event.ts <= piece.to; ++it) {
          if (std::optional<double> weight = signal.weight(*it)) aggregator.fold(*state, *it, *weight);
        }
      }
      Value result = aggregator.result(*state, q.as_of);
      if (plan.label.empty()) single = std::move(result);
      else windows.emplace_back(plan.label, std::move(result));
    }
    signal_results[s] = signal.windowed() ? Value(std::move(windows)) : std::move(single);
  }

  // A signal's result is moved into the answer at its last use rather than copied: views
  // read it only through a reference, and copying a nested Value allocates per node.
  std::vector<std::size_t> uses(signals_.size(), 0);
  for (const std::string& name : names)
    if (auto it = signal_index_.find(name); it != signal_index_.end()) uses[it->second]++;
  Value::Object out_signals;
  out_signals.reserve(names.size());
  std::vector<std::size_t> pending_views;
  for (std::size_t n = 0; n < names.size(); ++n)
    if (!signal_index_.count(names[n])) pending_views.push_back(n);
  // Views first, while every signal result is still in place; then the signals, in order.
  std::vector<Value> view_results(names.size());
  for (std::size_t n : pending_views) {
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
  answer.reserve(3);
  answer.emplace_back("user_id", Value(user_id));
  answer.emplace_back("as_of", Value(q.as_of));
  answer.emplace_back("signals", Value(std::move(out_signals)));
  return Value(std::move(answer));
}

Value Engine::describe() const {
  Value::Array signals;
  for (const auto& s : signals_) {
    const SignalConfig& c = s->config();
    Value::Object o{{"name", Value(c.name)}, {"aggregator", Value(c.aggregator)}};
    if (!c.group_by.empty()) o.emplace_back("group_by", Value(c.group_by));
    if (!c.value.empty()) o.emplace_back("value", Value(c.value));
    if (c.actions) {
      Value::Object actions;
      for (const auto& [action, weight] : *c.actions) actions.emplace_back(action, Value(weight));
      o.emplace_back("actions", Value(std::move(actions)));
    }
    if (!c.windows.empty()) {
      Value::Array windows;
      for (const auto& w : c.windows) windows.emplace_back(w.text);
      o.emplace_back("windows", Value(std::move(windows)));
    }
    if (!c.params.empty()) o.emplace_back("params", params_value(c.params));
    signals.emplace_back(std::move(o));
  }
  Value::Array views;
  for (const ViewConfig& c : config_.views) {
    Value::Object o{{"name", Value(c.name)}, {"signal", Value(c.signal)}};
    if (!c.window.empty()) o.emplace_back("window", Value(c.window));
    o.emplace_back("transform", Value(c.transform));
    if (!c.params.empty()) o.emplace_back("params", params_value(c.params));
    views.emplace_back(std::move(o));
  }
  return Value(Value::Object{{"signals", Value(std::move(signals))}, {"views", Value(std::move(views))}});
}

}  // namespace signalbox
