#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "signalbox/aggregate/signal.h"
#include "signalbox/common/mutex.h"
#include "signalbox/common/result_writer.h"
#include "signalbox/common/time.h"
#include "signalbox/common/value.h"
#include "signalbox/config/config.h"
#include "signalbox/engine/plan_cache.h"
#include "signalbox/engine/query_planner.h"
#include "signalbox/engine/recent_users.h"
#include "signalbox/engine/span_cache.h"
#include "signalbox/engine/state_registry.h"
#include "signalbox/event/decode.h"
#include "signalbox/event/reject_reason.h"
#include "signalbox/materialize/materializer.h"
#include "signalbox/store/store.h"
#include "signalbox/view/view.h"

namespace signalbox {

struct QueryInputs;

// What became of one ingest call. `rejected` lists each event not taken, by ascending index;
// `duplicates` counts accepted events that were already stored (taking one again changes
// nothing).
struct IngestResult {
  std::size_t accepted = 0;
  std::size_t duplicates = 0;
  std::vector<RejectedEvent> rejected;
};

// Counters since start, for /metrics.
struct EngineCounters {
  std::atomic<std::uint64_t> events_accepted{0};
  std::atomic<std::uint64_t> events_duplicate{0};
  std::atomic<std::uint64_t> events_rejected_invalid{0};
  std::atomic<std::uint64_t> events_rejected_late{0};
  std::atomic<std::uint64_t> queries{0};
  // Stored tile parts (one state's part of one tile) queries read; a run of past days found in
  // the span cache before the read leaves its days' parts unread.
  std::atomic<std::uint64_t> query_tiles_read{0};
  // Stored raw events folded into new states by bootstrap_step() since start.
  std::atomic<std::uint64_t> bootstrap_events_folded{0};
  // States whose bootstrap has not finished.
  std::atomic<std::uint64_t> bootstrap_states_pending{0};
};

// The heart of Signalbox: the ingest pipeline (decode, materialize, deduplicate, store events
// and tile deltas) and the query path (plan windows over tiles and raw events, aggregate,
// apply views). One Engine owns one store. ingest(), query(), explain() and expire() may be
// called from any number of threads; writes are serialised inside, queries run in parallel with
// them and see every event whose ingest() returned before the query began.
class Engine {
 public:
  struct Options {
    // Open the store read-only (for `signalbox get` beside a running server).
    bool read_only = false;
    // Store large batches as a bulk load (StoreAccess::bulk_load): for an engine that answers
    // no query while it ingests (`signalbox replay`), since a query could see a batch's events
    // before its tiles.
    bool bulk_load = false;
    // Expire old events and tiles whenever stream time has advanced by a day.
    bool auto_expire = true;
    // Build and check everything but leave the store closed (`signalbox check`): only
    // config(), describe() and names() may then be called.
    bool open_store = true;
    // Judge late events by this horizon instead of late_horizon(config): an event at or before
    // stream time minus it is rejected as too late. At most late_horizon(config), which is
    // how long ids are kept (the constructor throws std::invalid_argument otherwise), so a
    // shorter one only rejects more. For an engine that keeps its store longer than the
    // service it stands in for (backfill's temporary engine) and must reject what that
    // service would.
    std::optional<TimeMs> late_horizon;
    // Bytes of merged runs of tiles kept for queries (see SpanCache); 0 keeps none. Absent:
    // the config's storage.span_cache.
    std::optional<std::size_t> span_cache_bytes;
    // The weekly fold of old day tiles into base tiles goes this many users at a time: one
    // slice per commit while ingesting, and expire() lets commits in between its slices, so
    // that no commit waits for a whole fold (it takes in proportion to the users active that
    // week: about 0.45 s for 20 000). The Redis store slices its daily walk over every user
    // likewise. 0: each fold (walk) at once. See Store::ExpireOptions. Absent: the config's
    // storage.fold_slice_users.
    std::optional<std::size_t> fold_slice_users;
    // Wraps the store once it is open, e.g. in a decorator that injects faults or counts
    // reads; the engine then uses what it returns. Empty: the store as opened.
    std::function<std::unique_ptr<Store>(std::unique_ptr<Store>)> wrap_store;
  };

  // Builds materializer, signals, views and store from `config`. Throws ConfigError for a
  // config the registries reject and StorageError when the store does not open.
  explicit Engine(const Config& config, Options options);
  explicit Engine(const Config& config) : Engine(config, Options()) {}
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const Config& config() const { return config_; }

  // Decodes a body (NDJSON or a JSON array, see EventDecoder) and ingests what decodes.
  IngestResult ingest_json(std::string_view body);
  // Ingests decoded events. An event at most late_horizon() behind stream time is taken and
  // counted exactly once in every window it falls in, also when it is older than the raw
  // retention (then only its tile deltas and its id are stored); an older one is rejected as
  // too late: its duplicates could no longer be recognised.
  IngestResult ingest(std::vector<Event> events);

  // ingest() for events from several inputs that each run in time order of their own but
  // not with each other, such as the partitions of a Kafka topic: `lanes[i]` names the input
  // events[i] came from. An event is then too late only when it is more than late_horizon()
  // behind the newest event taken from its own input (and older than the store's id horizon,
  // see Store::ids_expired_through), so one input running ahead does not make another's
  // on-time events late; while an input is open, ids are kept for the late horizon behind the
  // slowest input. Call release_lanes() when an input goes away (a partition revoked).
  IngestResult ingest(std::vector<Event> events, const std::vector<std::string>& lanes);
  // The inputs of a batch of several: each input's name once, and for each event the index of
  // its input's name (a batch of thousands of events holds a few dozen inputs, so names are
  // neither built nor looked up event by event).
  struct Lanes {
    std::vector<std::string> names;
    std::vector<std::uint32_t> of_event;  // of_event[i]: names[of_event[i]] is events[i]'s
  };
  IngestResult ingest(std::vector<Event> events, const Lanes& lanes);
  // Announces inputs that have not sent anything yet (partitions just assigned): until each
  // has sent its first event or is settled, the id horizon stays where it is, so that a
  // backlog of old events on it is not refused as too late meanwhile.
  void open_lanes(const std::vector<std::string>& lanes);
  // Inputs announced by open_lanes() that turned out to have nothing to send (caught up).
  void settle_lanes(const std::vector<std::string>& lanes);
  void release_lanes(const std::vector<std::string>& lanes);

  // A body decoded and materialized, with its tile deltas folded, waiting to be stored by
  // ingest_prepared(). Holds nothing of the store; movable only.
  class PreparedBatch {
   public:
    PreparedBatch();
    ~PreparedBatch();
    PreparedBatch(PreparedBatch&&) noexcept;
    PreparedBatch& operator=(PreparedBatch&&) noexcept;

   private:
    friend class Engine;
    struct Work;
    std::unique_ptr<Work> work_;
  };
  // ingest_json() in two steps, so that a caller can decode and materialize the next body
  // while the one before is being stored (the two take about as long): prepare_json() takes
  // no lock and may run on any thread alongside anything else; ingest_prepared() stores what
  // it prepared exactly as ingest_json() would have, deduplicating and checking for late
  // events at that moment. Batches are stored in the order ingest_prepared() gets them.
  PreparedBatch prepare_json(std::string_view body);
  IngestResult ingest_prepared(PreparedBatch batch);
  // ingest(events, lanes) in the same two steps: prepare_ingest() is prepare_json() for
  // decoded events of several inputs (a Kafka consumer prepares its next batch while the one
  // before is being stored).
  // Throws std::invalid_argument when the sizes differ or an index names no lane.
  PreparedBatch prepare_ingest(std::vector<Event> events, Lanes lanes);

  // The signals and views named (all when `names` is empty) for one user, as of `as_of`
  // (the wall clock when absent): {"user_id", "as_of", "as_of_iso", "signals": {name: result}},
  // as_of_iso being as_of in ISO 8601 UTC with milliseconds. Throws
  // QueryError for an unknown name or an as_of the online state cannot answer exactly.
  Value query(std::uint64_t user_id, const std::vector<std::string>& names,
              std::optional<TimeMs> as_of);
  // Whether an answer says if the store holds anything of the user.
  enum class Seen { kOmit, kReport };
  // query(), with kReport adding "seen" after as_of_iso: true when the store holds a raw
  // event or a tile of the user at any time (see StoreSnapshot::holds_user), so that a user
  // never seen (or whose data has all expired) is told from one without activity in the
  // windows asked for. The serving front ends report it; point-in-time answers (backfill,
  // fixtures) do not, as it describes the store now, not as of `as_of`.
  Value query(std::uint64_t user_id, const std::vector<std::string>& names,
              std::optional<TimeMs> as_of, Seen seen);
  // query(user_id, names, as_of, seen) appended to `out` as compact JSON, the bytes
  // Value::append_json() gives of it, written as it is folded rather than built first. On
  // an exception `out` may hold part of the answer.
  void query_json(std::uint64_t user_id, const std::vector<std::string>& names,
                  std::optional<TimeMs> as_of, Seen seen, std::string& out);

  // The earliest as_of in [from, to] at which query(user_id, names, as_of) can be answered
  // (no window of theirs reaches where the online state no longer holds what it needs), to
  // within `precision` ms (the answer may be up to that much later than the exact earliest);
  // nullopt when not even `to` can. Answerability only grows with as_of, so a binary search
  // over query plans finds it, without reading or folding events. Throws QueryError for an
  // unknown name or from > to.
  std::optional<TimeMs> earliest_answerable(std::uint64_t user_id,
                                            const std::vector<std::string>& names, TimeMs from,
                                            TimeMs to, TimeMs precision);

  // How much one explain() answer may list.
  struct ExplainOptions {
    // Raw events listed per window at most; the rest are counted in "truncated".
    std::size_t max_events = 100;
  };
  // The parts the value of one signal (or one window of it) or one view is made of, as of
  // `as_of` (the wall clock when absent), for one user: per window, the stored tiles merged
  // (kind, time span, the value of the tile alone) and the raw events folded (the event, its
  // features, weight and the value of the event alone), how they combine ("combine") and the
  // value itself, which is what query() answers for the same name, window and as_of; see
  // docs/explain.md for the shape. The tiles and events are those the query planner names
  // for the window, read from one snapshot and folded exactly as query() folds them. `window`
  // narrows a windowed signal to one of its windows; a view takes none. Throws QueryError for an
  // unknown name or window and for what query() refuses.
  Value explain(std::uint64_t user_id, const std::string& name,
                const std::optional<std::string>& window, std::optional<TimeMs> as_of,
                ExplainOptions options);

  // Up to `limit` user ids to browse (GET /v1/users): the users this process ingested most
  // recently, newest first (at most kRecentUsers of them), then users with raw events in the
  // store in ascending id order, without repeats. Costs one seek per stored user listed.
  std::vector<std::uint64_t> sample_users(std::size_t limit);
  static constexpr std::size_t kRecentUsers = 1000;
  // Up to `limit` of the users this process ingested most recently, newest first (at most
  // kRecentUsers): kept in memory on ingest, so per process and lost on restart; a user of
  // another process on a shared store is not listed. Reads no store.
  std::vector<std::uint64_t> recent_users(std::size_t limit) const {
    return recent_users_.newest(limit);
  }

  // The configured signals and views with their parameters (GET /v1/signals); with the store
  // open, each signal also says from when it is complete ("complete_since", see below) and
  // whether it is being built from history ("bootstrapping").
  Value describe() const;
  // Every signal and view name, signals first, in config order.
  std::vector<std::string> names() const;

  struct ExpireOptions {
    // Compact the tiles now so reads find one value per tile (after a bulk load).
    bool compact_tiles = false;
    // Also reclaim the space of expired raw events now rather than in background compactions.
    bool compact = false;
  };
  // Moves the expiry horizon to stream time and folds old day tiles into base tiles; expired
  // events and tiles then go in compactions (see Store::expire). Without compactions the fold
  // goes a slice of users at a time (Options::fold_slice_users), with ingest let in between
  // slices; it is done when expire() returns. Does nothing while a bootstrap is pending (see
  // bootstrap_pending).
  void expire(ExpireOptions options);
  // expire() with every compaction on or off.
  void expire(bool compact) { expire(ExpireOptions{compact, compact}); }

  // Makes everything ingested so far quick to reopen (see Store::flush); for shutdown and
  // the end of a replay.
  void flush() { store_->flush(); }
  // Throws StorageError when the store cannot serve now (see Store::check_ready).
  void check_ready() { store_->check_ready(); }

  // A small named record kept in the store beside the data (see Store::read_note): replay's
  // checkpoint. Not serialised with ingest: one writer of a note at a time.
  std::optional<std::string> read_note(std::string_view name) { return store_->read_note(name); }
  void write_note(std::string_view name, std::optional<std::string_view> value) {
    store_->write_note(name, value);
  }

  // --- The life of a signal's state (docs/signal-lifecycle.md) ---
  //
  // A state (see Signal::state_id) the store has kept since its first event is complete. One
  // that appears in the config of a store that already holds events (a new or changed signal)
  // holds, at first, only what is ingested from then on. On RocksDB it is then built from the
  // stored raw events by bootstrap_step() (serve runs it in the background); events older than
  // the raw retention come only from an archived log, through fold_history(). Whether and from
  // when each state is complete is kept in the store (a StateRecord per state).

  // From when signal `name`'s state holds every event, in ms; 0 when it holds all of history.
  // A query marks each window that starts before it as incomplete. Throws QueryError for an
  // unknown name.
  TimeMs complete_since(const std::string& name) const;
  // Whether some state is still to be built from the stored raw events. While one is, expiry
  // is held (raw events are not dropped), so that what the bootstrap reads stays there.
  bool bootstrap_pending() const { return counters_.bootstrap_states_pending.load() > 0; }
  // What one bootstrap_step() did.
  struct BootstrapStep {
    std::size_t events = 0;  // stored raw events folded
    std::size_t users = 0;   // users whose events were all folded
    bool done = false;       // no state is left to build
  };
  // Folds the stored raw events of the next users (ascending id, about `max_events` events,
  // at least one user) into the tiles of the states being built, exactly as ingest folded
  // them into the other states, and records how far it came in the same atomic commit: an
  // interrupted bootstrap resumes where it stopped, counting nothing twice. Holds the write
  // lock while it runs (ingest waits), so keep max_events small. When the last user is done
  // the state is complete from the oldest stored raw event on (complete_since). Throws
  // StorageError when the store fails.
  BootstrapStep bootstrap_step(std::size_t max_events);

  // Whether some state is not complete for all time (complete_since > 0), so that
  // fold_history() has something to fill.
  bool history_incomplete() const;
  // Folds events of an archived log into the tiles of every state not complete for all time,
  // each event into the states that do not hold its time yet (ts < their complete_since), as
  // live ingest would have folded it; stores no event and moves no stream time. Events are
  // decoded, not yet materialized; the caller gives each (user, event_id) once. Returns how
  // many events went into at least one state. After the whole log, call extend_history() with
  // its oldest ts. Not for a store a server is ingesting into (counts could double).
  std::size_t fold_history(std::vector<Event> events);
  // Marks every state that fold_history() filled as complete from `from` on (when that is
  // earlier than before): the log it folded held every event from then on. 0: the log held
  // every event the store ever took, so they are complete for all of history.
  void extend_history(TimeMs from);

  TimeMs stream_time() const { return store_->high_water(); }
  // How far behind stream time an event is still taken: Options::late_horizon when given,
  // else late_horizon(const Config&).
  TimeMs late_horizon() const { return late_horizon_; }
  StoreStats store_stats() { return store_->stats(); }
  const EngineCounters& counters() const { return counters_; }
  // The query cache of merged runs of tiles; null when no span cache is configured.
  const SpanCache* span_cache() const { return span_cache_.get(); }
  Materializer& materializer() { return *materializer_; }

 private:
  class Merger;
  struct TileStates;

  // A name of a query, looked up once: signals_[index] or views_[index].
  struct NameRef {
    std::size_t index = 0;
    bool view = false;
  };
  // `names`, each looked up. Throws QueryError for an unknown name.
  std::vector<NameRef> name_refs(const std::vector<std::string>& names) const;
  // What a query for the names `refs` asks of each signal (by signal index; a signal not needed
  // gets an empty request).
  std::vector<SignalRequest> requests_for(const std::vector<NameRef>& refs) const;
  // One snapshot's plans, tiles and raw events for `requests` as of `as_of` (the wall clock
  // when absent). Throws QueryError for an as_of the online state cannot answer exactly. With
  // `find_runs`, the leading runs the span cache holds by version are looked up first and
  // their day tiles not read (a query); without, every tile is read (explain).
  QueryInputs read_cover(std::uint64_t user_id, const std::vector<SignalRequest>& requests,
                         std::optional<TimeMs> as_of, bool find_runs = false);
  // One attempt of read_cover on a new snapshot, which reads users whole when `read_whole`.
  QueryInputs read_cover_once(std::uint64_t user_id, const std::vector<SignalRequest>& requests,
                              TimeMs at, bool find_runs, bool read_whole);
  // For read_cover: the states' complete_since and whether each is being built, into `inputs`.
  void read_state_records(QueryInputs& inputs) const;
  // For read_cover: the time from which the tiles of every state `requests` reads hold each
  // stored event the state takes (query_planner.h: hour_tiles_tell_from), INT64_MAX while one
  // of them is being built from history; from the records read_state_records() put in `inputs`.
  TimeMs states_complete_from(const std::vector<SignalRequest>& requests,
                              const QueryInputs& inputs) const;
  // For read_cover: plans the windowed signals of `requests` on `online`, finds the leading
  // runs the cache holds by version, and says which tiles the rest need (a day range per run
  // not found; every day and the base tile for a signal without windows whose run was not).
  // It also selects the hour tiles that tell whether the raw pieces hold any event
  // (raw_ranges_with_events), the states being complete from `complete_from`
  // (states_complete_from).
  // The plans of the windowed signals of `requests` at `at` (see WindowedPlans).
  WindowedPlans plan_windowed(const std::vector<SignalRequest>& requests, TimeMs at,
                              const OnlineState& online, TimeMs complete_from) const;
  TileSelection select_around_found_runs(const std::vector<SignalRequest>& requests,
                                         const OnlineState& online, TimeMs from,
                                         TimeMs complete_from, QueryInputs& inputs) const;
  // Folds signal `s`'s planned windows of `inputs` as explain() lists them: appends one entry
  // per window (naming the signal) to `explained` and returns the signal's result as a query
  // would answer it.
  Value explain_signal(std::size_t s, const SignalRequest& request, const QueryInputs& inputs,
                       const ExplainOptions& options, Value::Array& explained) const;
  // The signal index and window of each of `view`'s operands; ConfigError at `vc` for an
  // operand no signal has.
  std::vector<std::pair<std::size_t, std::string>> operand_indexes(const ViewConfig& vc,
                                                                   const View& view) const;
  // What query() and query_json() share: the answer, written to `out`.
  void write_query(std::uint64_t user_id, const std::vector<std::string>& names,
                   std::optional<TimeMs> as_of, Seen seen, ResultWriter& out);
  // The answer object for `names` (looked up as `refs`), folded from `inputs`.
  void write_answer(std::uint64_t user_id, const std::vector<std::string>& names,
                    const std::vector<NameRef>& refs, const std::vector<SignalRequest>& requests,
                    const QueryInputs& inputs, std::optional<bool> seen, ResultWriter& out) const;
  // View `v`'s result from the results of the signals it reads (by signal index), built, or
  // written to `out`.
  Value view_result(std::size_t v, const std::vector<Value>& signal_results) const;
  void write_view(std::size_t v, const std::vector<Value>& signal_results, ResultWriter& out) const;
  // Calls `fn(input, operands)` with what view `v` reads of `signal_results`.
  template <class Fn>
  decltype(auto) with_view_inputs(std::size_t v, const std::vector<Value>& signal_results,
                                  Fn&& fn) const;

  // What `snapshot` holds online, from its horizons: ask it after reading the user the plans
  // are for (a shared store's horizons may rise with that read, see StoreSnapshot).
  OnlineState online_state_of(const StoreSnapshot& snapshot) const;
  // How the query of `user_id` on `snapshot` finds its merged runs (span_cache.h): the cache,
  // and the user's tile version where the store keeps one.
  SpanLookup span_lookup(std::uint64_t user_id, StoreSnapshot& snapshot, TimeMs as_of) const;
  // Whether every signal of `requests` can be planned at `as_of` on `snapshot` (see
  // earliest_answerable).
  bool answerable(StoreSnapshot& snapshot, std::uint64_t user_id,
                  const std::vector<SignalRequest>& requests, TimeMs as_of) const;

  PreparedBatch prepare(std::vector<Event> events, std::vector<std::size_t> indexes,
                        IngestResult result);
  // Whether state_owners_[owner] takes `event` (besides its action weight); null: every state
  // takes every event.
  using StateFilter = std::function<bool(std::size_t owner, const Event& event)>;
  // Folds events[i] for each i in `which` into per-tile deltas, appended to `deltas`, each
  // into the states `filter` lets take it.
  void fold_deltas(const std::vector<MaterializedEvent>& events,
                   const std::vector<std::size_t>& which, std::vector<TileStates>& deltas,
                   const StateFilter& filter = nullptr) const;
  // Reads the state registry at open: records for the states new to the store (see
  // StateRecord), written back unless read-only.
  void open_registry() SIGNALBOX_REQUIRES(write_mutex_);
  // Drops what is left of the tiles of `state_ids` (states used again after they were
  // retired), moving no expiry horizon.
  void drop_states(const std::vector<std::uint64_t>& state_ids);
  // The registry note of the states' records (with write_mutex_ held).
  std::string registry_note() const SIGNALBOX_REQUIRES(write_mutex_);
  // Publishes records_ to the readers of complete_since and the pending count (with
  // write_mutex_ held, after the records were stored).
  void publish_records() SIGNALBOX_REQUIRES(write_mutex_);
  // Which states take a live event now: none older than their holds_from, and none whose
  // stored raw copy a running bootstrap will still fold. Null when every state takes all.
  // With write_mutex_ held, also while the filter returned is used.
  StateFilter live_filter(TimeMs raw_horizon) const SIGNALBOX_REQUIRES(write_mutex_);
  // The answer's "complete_since" and "incomplete" members for `names` as of the query of
  // `inputs`, from the state records read with it (see docs/http-api.md), as an object; empty
  // when every name is complete for all time.
  Value completeness(const std::vector<std::string>& names, const std::vector<NameRef>& refs,
                     const std::vector<SignalRequest>& requests, const QueryInputs& inputs) const;
  std::vector<TileDelta> encode_deltas(const std::vector<TileStates>& deltas) const;
  void maybe_expire(TimeMs high_water) SIGNALBOX_REQUIRES(write_mutex_);
  // The oldest input clock while any input is open (with write_mutex_ held).
  std::optional<TimeMs> ids_hold() const SIGNALBOX_REQUIRES(write_mutex_);

  Config config_;
  Options options_;
  const std::size_t fold_slice_users_;  // Options::fold_slice_users, or the config's
  std::unique_ptr<Materializer> materializer_;
  std::vector<std::unique_ptr<Signal>> signals_;
  std::vector<std::unique_ptr<View>> views_;
  std::vector<std::size_t> view_signal_;  // views_[i] reads signals_[view_signal_[i]]
  // And, for a view with operands, each one's signal index and window (empty: the whole result).
  std::vector<std::vector<std::pair<std::size_t, std::string>>> view_operands_;
  std::unordered_map<std::string, std::size_t> signal_index_;
  std::unordered_map<std::string, std::size_t> view_index_;
  // names(), looked up, and their requests: what a query without names asks for (the common
  // query), fixed by the config, so worked out once.
  std::vector<std::string> all_names_;
  std::vector<NameRef> all_name_refs_;
  std::vector<SignalRequest> all_requests_;
  // all_requests_' windowed plans at the as_of of the last query that made them.
  mutable PlanCache plan_cache_;
  // One signal per distinct state id: the one whose aggregator folds and merges that state.
  std::vector<const Signal*> state_owners_;
  // signals_[i]'s state is state_owners_[signal_owner_[i]]'s.
  std::vector<std::size_t> signal_owner_;
  // The registry record of each state, by owner index (with write_mutex_ held).
  std::vector<StateRecord> records_ SIGNALBOX_GUARDED_BY(write_mutex_);
  // records_[o].complete_since, for queries, which do not take write_mutex_.
  std::unique_ptr<std::atomic<TimeMs>[]> complete_since_;
  std::unique_ptr<std::atomic<bool>[]> bootstrapping_;  // records_[o].bootstrapping, likewise
  StateRegistry retired_;  // the records of states no configured signal uses
  RetentionPolicy retention_;
  TimeMs late_horizon_ = 0;  // the late rule's horizon, at most retention_.late_horizon
  std::unique_ptr<Merger> merger_;
  std::unique_ptr<Store> store_;
  DecodeOptions decode_options_;
  Mutex write_mutex_;
  TimeMs last_expiry_ SIGNALBOX_GUARDED_BY(write_mutex_) = kBeginningOfTime;
  TimeMs last_fold_ SIGNALBOX_GUARDED_BY(write_mutex_) = kBeginningOfTime;
  // The newest ts taken from each open input of ingest(events, lanes).
  std::unordered_map<std::string, TimeMs> lane_clocks_ SIGNALBOX_GUARDED_BY(write_mutex_);
  // Inputs opened that have not sent anything yet: they hold the id horizon still.
  std::unordered_set<std::string> pending_lanes_ SIGNALBOX_GUARDED_BY(write_mutex_);
  EngineCounters counters_;
  RecentUsers recent_users_{kRecentUsers};
  std::unique_ptr<SpanCache> span_cache_;  // null when none is configured
};

}  // namespace signalbox
