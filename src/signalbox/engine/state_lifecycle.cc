// Engine's part in the life of a signal's state (docs/signal-lifecycle.md): the registry of
// which states are complete since when, the bootstrap of new states from the stored raw
// events, and the fold of an archived log into what the raw events no longer hold.

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "signalbox/common/error.h"
#include "signalbox/engine/engine.h"
#include "signalbox/engine/tile_states.h"
#include "signalbox/store/tiles.h"

namespace signalbox {

void Engine::open_registry() {
  const std::optional<std::string> note = store_->read_note(kStateRegistryNote);
  StateRegistry stored = note ? decode_state_registry(*note) : StateRegistry();
  const TimeMs high = store_->high_water();
  // A store written before states were recorded has kept every state of its config since
  // the first event (as far as anyone can tell): those count as complete.
  const bool first_record = !note;
  bool changed = first_record;
  std::vector<std::size_t> fresh;
  std::vector<std::uint64_t> returning;
  for (std::size_t o = 0; o < state_owners_.size(); ++o) {
    auto it = stored.find(state_owners_[o]->state_id());
    if (it != stored.end() && !it->second.retired) {
      records_[o] = it->second;
    } else {
      if (it != stored.end()) returning.push_back(it->first);
      fresh.push_back(o);
    }
    if (it != stored.end()) stored.erase(it);
  }
  // The states no signal uses any more stay recorded, as retired.
  for (auto& [state_id, record] : stored) {
    changed = changed || !record.retired;
    record.retired = true;
  }
  retired_ = std::move(stored);
  if (!returning.empty() && !options_.read_only) drop_states(returning);
  for (std::size_t o : fresh) {
    changed = true;
    records_[o] = StateRecord();
    if (first_record || high == kBeginningOfTime) continue;  // complete: nothing came before it
    // New to a store that holds events: it holds what is ingested from now on.
    StateRecord& r = records_[o];
    r.complete_since = high + 1;
    r.holds_from = high + 1;
    if (config_.storage.kind == "rocksdb" && !options_.read_only) {
      // Every event with ts > high - retention_.retention was stored with its raw copy (ingest
      // keeps raw what is within the raw retention of stream time) and is still there, as
      // expiry is held until the bootstrap is done; older ones may not be.
      r.holds_from = std::max<TimeMs>(0, retention_.raw_events_through(high) + 1);
      r.bootstrapping = true;
      r.next_user = 0;
    }
  }
  // A store opened read-only beside a server reports what it finds, and writes nothing.
  if (changed && !options_.read_only) store_->write_note(kStateRegistryNote, registry_note());
  publish_records();
}

void Engine::drop_states(const std::vector<std::uint64_t>& state_ids) {
  // An expiry under a policy without these states drops their parts from every tile (with
  // the tiles compacted now), and with the horizons where they are it drops nothing else.
  RetentionPolicy policy = retention_;
  for (std::uint64_t id : state_ids) policy.states.erase(id);
  const TimeMs high = store_->high_water();
  const TimeMs expired = store_->snapshot()->expired_through();
  policy.retention = high - std::max(expired, kBeginningOfTime + 1);
  policy.late_horizon = high - (kBeginningOfTime + 1);  // the id horizon stays where it is
  store_->expire(
      policy,
      {.ids_hold = std::nullopt, .fold_base = false, .compact_tiles = true, .compact = false});
}

std::string Engine::registry_note() const {
  StateRegistry registry = retired_;
  for (std::size_t o = 0; o < state_owners_.size(); ++o)
    registry[state_owners_[o]->state_id()] = records_[o];
  return encode_state_registry(registry);
}

void Engine::publish_records() {
  std::uint64_t pending = 0;
  for (std::size_t o = 0; o < records_.size(); ++o) {
    complete_since_[o].store(records_[o].complete_since);
    bootstrapping_[o].store(records_[o].bootstrapping);
    if (records_[o].bootstrapping) ++pending;
  }
  counters_.bootstrap_states_pending.store(pending);
}

TimeMs Engine::complete_since(const std::string& name) const {
  auto it = signal_index_.find(name);
  if (it == signal_index_.end()) throw QueryError(fmt::format("unknown signal \"{}\"", name));
  return complete_since_[signal_owner_[it->second]].load();
}

Engine::BootstrapStep Engine::bootstrap_step(std::size_t max_events) {
  if (options_.read_only) throw StorageError("the store is open read-only");
  MutexLock lock(write_mutex_);
  BootstrapStep step;
  // The states that stand at the same user and hold the same times go together: one scan of
  // the raw events feeds them all (the states new at one start always do).
  std::optional<std::size_t> lead;
  for (std::size_t o = 0; o < records_.size(); ++o)
    if (records_[o].bootstrapping && (!lead || records_[o].next_user < records_[*lead].next_user))
      lead = o;
  if (!lead) {
    step.done = true;
    return step;
  }
  const StateRecord start = records_[*lead];
  std::vector<bool> in_step(records_.size(), false);
  for (std::size_t o = 0; o < records_.size(); ++o)
    in_step[o] = records_[o].bootstrapping && records_[o].next_user == start.next_user &&
                 records_[o].holds_from == start.holds_from;

  // The snapshot is taken with the write lock held, so it holds exactly what ingest has
  // committed: for the users below, every stored event is read here and none is folded live.
  std::unique_ptr<StoreSnapshot> snapshot = store_->snapshot();
  const FeatureNames& features = materializer_->feature_names();
  std::vector<MaterializedEvent> events;
  std::uint64_t next_user = start.next_user;
  bool finished = false;
  constexpr std::size_t kUsersPerListing = 64;
  while (!finished && (events.size() < max_events || step.users == 0)) {
    const std::vector<std::uint64_t> users = snapshot->users(next_user, kUsersPerListing);
    if (users.empty()) finished = true;
    for (std::uint64_t user : users) {
      snapshot->scan_events(
          user, start.holds_from, std::numeric_limits<TimeMs>::max(),
          [&](std::string_view bytes) { events.push_back(decode_event(bytes, features)); });
      ++step.users;
      if (user == std::numeric_limits<std::uint64_t>::max()) {
        finished = true;
        break;
      }
      next_user = user + 1;
      if (events.size() >= max_events) break;
    }
  }
  std::vector<std::size_t> all(events.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  std::vector<TileStates> deltas;
  fold_deltas(events, all, deltas,
              [&](std::size_t o, const Event&) { return static_cast<bool>(in_step[o]); });

  std::vector<StateRecord> updated = records_;
  for (std::size_t o = 0; o < updated.size(); ++o) {
    if (!in_step[o]) continue;
    updated[o].next_user = next_user;
    if (finished) {
      updated[o].bootstrapping = false;
      updated[o].next_user = 0;
      updated[o].complete_since = updated[o].holds_from;
    }
  }
  CommitBatch batch;
  batch.tiles = encode_deltas(deltas);
  batch.high_water = store_->high_water();
  std::swap(records_, updated);
  batch.notes.emplace_back(std::string(kStateRegistryNote), registry_note());
  try {
    store_->commit(batch);
  } catch (...) {
    std::swap(records_, updated);
    throw;
  }
  publish_records();
  step.events = events.size();
  step.done = !bootstrap_pending();
  counters_.bootstrap_events_folded += events.size();
  return step;
}

bool Engine::history_incomplete() const {
  for (std::size_t o = 0; o < state_owners_.size(); ++o)
    if (complete_since_[o].load() > 0) return true;
  return false;
}

std::size_t Engine::fold_history(std::vector<Event> events) {
  if (options_.read_only) throw StorageError("the store is open read-only");
  // Events every state holds already are not looked up.
  TimeMs needed_before = 0;
  for (std::size_t o = 0; o < state_owners_.size(); ++o)
    if (!bootstrapping_[o].load())
      needed_before = std::max(needed_before, complete_since_[o].load());
  std::erase_if(events, [&](const Event& e) { return e.ts >= needed_before; });
  if (events.empty()) return 0;
  std::vector<MaterializedEvent> materialized = materializer_->materialize(std::move(events));
  MutexLock lock(write_mutex_);
  // Called only below, inside this hold of write_mutex_.
  auto takes = [&](std::size_t o, const Event& e) SIGNALBOX_NO_THREAD_SAFETY_ANALYSIS {
    return !records_[o].bootstrapping && e.ts < records_[o].holds_from;
  };
  std::vector<std::size_t> which;
  for (std::size_t i = 0; i < materialized.size(); ++i) {
    for (std::size_t o = 0; o < state_owners_.size(); ++o) {
      if (takes(o, materialized[i].event) && state_owners_[o]->weight(materialized[i])) {
        which.push_back(i);
        break;
      }
    }
  }
  std::vector<TileStates> deltas;
  fold_deltas(materialized, which, deltas, takes);
  CommitBatch batch;
  batch.tiles = encode_deltas(deltas);
  batch.high_water = store_->high_water();
  if (!batch.tiles.empty()) store_->commit(batch);
  return which.size();
}

void Engine::extend_history(TimeMs from) {
  if (options_.read_only) throw StorageError("the store is open read-only");
  MutexLock lock(write_mutex_);
  from = std::max<TimeMs>(0, from);
  bool changed = false;
  for (StateRecord& r : records_) {
    if (r.bootstrapping || r.holds_from <= from) continue;
    r.holds_from = r.complete_since = from;
    changed = true;
  }
  if (!changed) return;
  store_->write_note(kStateRegistryNote, registry_note());
  publish_records();
}

}  // namespace signalbox
