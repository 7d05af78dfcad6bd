// Engine's ingest path: decode, materialize, fold tile deltas (prepare, no lock), then the
// late and duplicate checks and the atomic store commit (ingest_prepared, one writer).

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "signalbox/common/error.h"
#include "signalbox/common/hash.h"
#include "signalbox/engine/engine.h"
#include "signalbox/engine/tile_states.h"
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

// Input item `index` rejected as too late; `detail` follows the "ts: " of the message.
RejectedEvent late_event(std::size_t index, const std::string& detail) {
  Rejection late = Rejection::of(RejectReason::kLate, detail);
  return RejectedEvent{index, late.reason, std::move(late.message)};
}

// 0, 1, ..., n - 1: every event of a decoded batch is the input item of its own position.
std::vector<std::size_t> input_indexes(std::size_t n) {
  std::vector<std::size_t> indexes(n);
  std::iota(indexes.begin(), indexes.end(), std::size_t{0});
  return indexes;
}

}  // namespace

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
  Lanes lanes;                       // the input of each event, by input index; no names: one input
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
      [&](std::size_t i, Rejection&& error) {
        result.rejected.push_back(RejectedEvent{i, error.reason, std::move(error.message)});
      });
  counters_.events_rejected_invalid += result.rejected.size();
  return prepare(std::move(events), std::move(indexes), std::move(result));
}

IngestResult Engine::ingest_json(std::string_view body) {
  return ingest_prepared(prepare_json(body));
}

IngestResult Engine::ingest(std::vector<Event> events) {
  std::vector<std::size_t> indexes = input_indexes(events.size());
  return ingest_prepared(prepare(std::move(events), std::move(indexes), IngestResult()));
}

IngestResult Engine::ingest(std::vector<Event> events, const std::vector<std::string>& lanes) {
  Lanes named;
  std::unordered_map<std::string_view, std::uint32_t> index;
  named.of_event.reserve(lanes.size());
  for (const std::string& lane : lanes) {
    auto [at, added] = index.try_emplace(lane, static_cast<std::uint32_t>(named.names.size()));
    if (added) named.names.push_back(lane);
    named.of_event.push_back(at->second);
  }
  return ingest(std::move(events), named);
}

IngestResult Engine::ingest(std::vector<Event> events, const Lanes& lanes) {
  return ingest_prepared(prepare_ingest(std::move(events), lanes));
}

Engine::PreparedBatch Engine::prepare_ingest(std::vector<Event> events, Lanes lanes) {
  if (lanes.of_event.size() != events.size())
    throw std::invalid_argument(
        fmt::format("{} lanes for {} events", lanes.of_event.size(), events.size()));
  for (std::uint32_t lane : lanes.of_event)
    if (lane >= lanes.names.size())
      throw std::invalid_argument(
          fmt::format("lane {} of an event, of {} named", lane, lanes.names.size()));
  std::vector<std::size_t> indexes = input_indexes(events.size());
  PreparedBatch batch = prepare(std::move(events), std::move(indexes), IngestResult());
  batch.work_->lanes = std::move(lanes);
  return batch;
}

void Engine::open_lanes(const std::vector<std::string>& lanes) {
  MutexLock lock(write_mutex_);
  for (const std::string& lane : lanes)
    if (!lane_clocks_.count(lane)) pending_lanes_.insert(lane);
}

void Engine::settle_lanes(const std::vector<std::string>& lanes) {
  MutexLock lock(write_mutex_);
  for (const std::string& lane : lanes) pending_lanes_.erase(lane);
}

void Engine::release_lanes(const std::vector<std::string>& lanes) {
  MutexLock lock(write_mutex_);
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
                         const std::vector<std::size_t>& which, std::vector<TileStates>& deltas,
                         const StateFilter& filter) const {
  std::unordered_map<TileKey, std::size_t, TileKeyHash> index;
  std::vector<std::optional<double>> weights(state_owners_.size());
  for (std::size_t i : which) {
    const MaterializedEvent& me = events[i];
    bool any = false;
    for (std::size_t o = 0; o < state_owners_.size(); ++o) {
      weights[o] = state_owners_[o]->weight(me);
      if (weights[o] && filter && !filter(o, me.event)) weights[o].reset();
      any = any || weights[o].has_value();
    }
    if (!any) continue;
    for (TileKind kind : {TileKind::kDay, TileKind::kHour}) {
      TileKey key{me.event.user_id, kind, floor_to(me.event.ts, tile_length(kind))};
      auto [at, inserted] = index.try_emplace(key, deltas.size());
      if (inserted)
        deltas.push_back(
            TileStates{key, std::vector<std::unique_ptr<State>>(state_owners_.size())});
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

Engine::StateFilter Engine::live_filter(TimeMs raw_horizon) const {
  const bool all_take_all = std::all_of(records_.begin(), records_.end(), [](const StateRecord& r) {
    return r.holds_from <= 0 && !r.bootstrapping;
  });
  if (all_take_all) return nullptr;
  // The filter runs inside the caller's hold of write_mutex_ (live_filter's contract), which
  // the analysis cannot follow through a std::function.
  return [this, raw_horizon](std::size_t o, const Event& e) SIGNALBOX_NO_THREAD_SAFETY_ANALYSIS {
    const StateRecord& r = records_[o];
    // Older events come only from an archived log (fold_history), so none counts twice.
    if (e.ts < r.holds_from) return false;
    // The bootstrap still to reach this user folds the event from its stored raw copy; one
    // stored without it (older than the raw retention) it cannot see, so that one is folded now.
    if (r.bootstrapping && e.user_id >= r.next_user && e.ts > raw_horizon) return false;
    return true;
  };
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

  MutexLock lock(write_mutex_);
  TimeMs high_water = store_->high_water();
  const bool empty = high_water == kBeginningOfTime;
  const TimeMs late_horizon = late_horizon_;
  const TimeMs too_late_through = empty ? kBeginningOfTime : high_water - late_horizon;
  const TimeMs raw_horizon = empty ? kBeginningOfTime : retention_.raw_events_through(high_water);

  // Too late events first, then duplicates within the batch, then duplicates already stored.
  // An event of an input with a clock of its own is judged by that clock, but never below the
  // id horizon: older ids may be forgotten.
  const TimeMs ids_horizon = store_->ids_expired_through();
  // Each input's clock, looked up once a batch: an input with none yet has kBeginningOfTime.
  std::vector<std::optional<TimeMs>> lane_clocks(w.lanes.names.size());
  for (std::size_t k = 0; k < lane_clocks.size(); ++k)
    if (auto clock = lane_clocks_.find(w.lanes.names[k]); clock != lane_clocks_.end())
      lane_clocks[k] = clock->second;
  std::vector<bool> is_late(w.events.size(), false);
  std::size_t late = 0;
  for (std::size_t i = 0; i < w.events.size(); ++i) {
    const Event& e = w.events[i].event;
    if (w.lanes.names.empty()) {
      if (e.ts > too_late_through) continue;
      result.rejected.push_back(late_event(
          w.indexes[i],
          fmt::format("{} is too late: stream time is {}, and events more than the late "
                      "horizon ({} ms, event_store.late_horizon) behind it can no longer "
                      "be deduplicated",
                      e.ts, high_water, late_horizon)));
    } else {
      const std::uint32_t lane = w.lanes.of_event[w.indexes[i]];
      const std::optional<TimeMs> clock = lane_clocks[lane];
      const TimeMs lane_through = clock ? *clock - late_horizon : kBeginningOfTime;
      if (e.ts > std::max(lane_through, ids_horizon)) continue;
      result.rejected.push_back(late_event(
          w.indexes[i],
          e.ts <= ids_horizon
              ? fmt::format("{} is too late: ids of events up to {} are no longer kept for "
                            "deduplication (event_store.late_horizon)",
                            e.ts, ids_horizon)
              : fmt::format(
                    "{} is too late: the stream time of {} is {}, and events more than the "
                    "late horizon ({} ms, event_store.late_horizon) behind it can no longer be "
                    "deduplicated",
                    e.ts, w.lanes.names[lane], *clock, late_horizon)));
    }
    is_late[i] = true;
    ++late;
  }
  // Repeats as found ahead hold unless a late event was the first of its id.
  std::vector<bool> repeat = w.repeat;
  if (late > 0) {
    std::unordered_set<std::pair<std::uint64_t, std::string_view>, EventIdHash> seen;
    for (std::size_t i = 0; i < w.events.size(); ++i)
      repeat[i] = !is_late[i] &&
                  !seen.emplace(w.events[i].event.user_id, w.events[i].event.event_id).second;
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
    batch.events.push_back(
        StoredEvent{e.user_id, e.ts, e.event_id, std::move(w.encoded[i]), e.ts > raw_horizon});
    batch.high_water = std::max(batch.high_water, e.ts);
    fresh.push_back(i);
  }
  // The deltas encoded ahead are right when exactly the events they fold are stored and every
  // state takes each of them.
  const StateFilter filter = live_filter(raw_horizon);
  const bool filtered = filter && std::any_of(fresh.begin(), fresh.end(), [&](std::size_t i) {
                          for (std::size_t o = 0; o < state_owners_.size(); ++o)
                            if (!filter(o, w.events[i].event)) return true;
                          return false;
                        });
  if (fresh == w.firsts && !filtered) {
    batch.tiles = std::move(w.tiles);
  } else {
    std::vector<TileStates> refolded;
    fold_deltas(w.events, fresh, refolded, filter);
    batch.tiles = encode_deltas(refolded);
  }
  if (!batch.events.empty()) store_->commit(batch);
  recent_users_.note(batch.events);
  // An input's clock is the newest ts taken from it; a duplicate moves it no more than it moves
  // stream time (the copy stored first stands, its ts too), so a re-sent id with a wrong,
  // newer ts cannot make the input's next events look late. An input that sent only
  // duplicates so far stays pending: its backlog has not shown its times yet.
  if (!w.lanes.names.empty()) {
    std::vector<std::optional<TimeMs>> newest(w.lanes.names.size());
    for (std::size_t i : fresh) {
      std::optional<TimeMs>& lane_newest = newest[w.lanes.of_event[w.indexes[i]]];
      lane_newest = std::max(lane_newest.value_or(kBeginningOfTime), w.events[i].event.ts);
    }
    for (std::size_t k = 0; k < newest.size(); ++k) {
      if (!newest[k]) continue;
      const std::string& lane = w.lanes.names[k];
      auto [clock, inserted] = lane_clocks_.try_emplace(lane, *newest[k]);
      if (!inserted) clock->second = std::max(clock->second, *newest[k]);
      if (inserted) pending_lanes_.erase(lane);
    }
  }

  counters_.events_accepted += result.accepted;
  counters_.events_duplicate += result.duplicates;
  counters_.events_rejected_late += late;
  std::sort(result.rejected.begin(), result.rejected.end(),
            [](const RejectedEvent& a, const RejectedEvent& b) { return a.index < b.index; });
  if (options_.auto_expire) maybe_expire(batch.high_water);
  return result;
}

}  // namespace signalbox
