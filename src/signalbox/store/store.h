#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "signalbox/common/error.h"
#include "signalbox/common/time.h"
#include "signalbox/store/tiles.h"

namespace signalbox {

// One event ready to store: its identity and its encoded bytes (encode_event). A late event
// older than the raw retention keeps only its id (for deduplication) and its tile deltas:
// its raw copy would be expired at once and no query could read it.
struct StoredEvent {
  std::uint64_t user_id = 0;
  TimeMs ts = 0;
  std::string event_id;
  std::string bytes;
  bool keep_raw = true;
};

// Identifies one tile of one user: the time bucket every state of the user keeps its
// partial aggregate of that bucket in (stored together, so one event touches one tile per
// kind however many signals it feeds).
struct TileKey {
  std::uint64_t user_id = 0;
  TileKind kind = TileKind::kDay;
  TimeMs start = 0;  // 0 for the base tile

  friend bool operator==(const TileKey&, const TileKey&) = default;
};

// One state's encoded partial aggregate within a tile.
struct StateDelta {
  std::uint64_t state_id = 0;
  std::string state;
};

// Partial aggregates to be merged into one tile, at most one per state, by ascending state
// id (never a replacement: tile updates are associative merges, so ingest never reads state
// back).
struct TileDelta {
  TileKey key;
  std::vector<StateDelta> states;
};

// One state's part of a stored tile as read back. `state` views bytes owned by the snapshot
// that read it (StoreSnapshot::tiles): valid until that snapshot is destroyed. A heavy user's
// query reads a couple of thousand parts; a string each cost an allocation and a copy apiece.
struct StoredTile {
  std::uint64_t state_id = 0;
  TileKind kind = TileKind::kDay;
  TimeMs start = 0;
  TimeMs covered_through = 0;  // base tile only: it holds every event with ts <= this
  std::string_view state;
};

// Which of a user's tiles StoreSnapshot::tiles reads: the base tile or not, and the day and
// hour tiles starting in any of `day_ranges` and `hour_ranges` (each closed [first, last]
// ranges of starts, ascending and disjoint). A query whose runs of settled days are cached
// reads around them, and only the hours its windows use: a store may seek past what is not
// asked for.
struct TileSelection {
  using Ranges = std::vector<std::pair<TimeMs, TimeMs>>;
  bool base = true;
  Ranges day_ranges;
  Ranges hour_ranges;

  // The base tile, and the day and hour tiles whose start lies in [from, to].
  static TileSelection between(TimeMs from, TimeMs to) {
    return TileSelection{true, {{from, to}}, {{from, to}}};
  }
  // Whether a day or hour tile starting at `start`, of kind `kind`, is selected.
  bool selects(TileKind kind, TimeMs start) const {
    if (kind == TileKind::kBase) return base;
    const Ranges& ranges = kind == TileKind::kHour ? hour_ranges : day_ranges;
    return std::any_of(ranges.begin(), ranges.end(),
                       [&](const auto& r) { return start >= r.first && start <= r.second; });
  }
};

// Everything one ingest batch writes, applied atomically: the events, their ids for
// deduplication, the tile deltas and the new stream time.
struct CommitBatch {
  std::vector<StoredEvent> events;
  std::vector<TileDelta> tiles;
  TimeMs high_water = 0;
  // Notes (see Store::write_note) to write with the batch: on RocksDB in the same atomic write,
  // so that a record of progress is never found without the tiles it describes, nor the other
  // way round; on Redis right after it (a crash between the two can lose the note).
  std::vector<std::pair<std::string, std::string>> notes;
};

// Merges encoded states of one state id: `operands` oldest first. Supplied by the engine,
// which knows the aggregators. For a state id it does not know (a signal since removed from
// the config) it returns the newest operand; such tiles are deleted by expire().
class TileMerger {
 public:
  virtual ~TileMerger() = default;
  virtual std::string merge(std::uint64_t state_id,
                            std::span<const std::string_view> operands) const = 0;
};

// How long each state's tiles are kept.
struct StatePolicy {
  TimeMs longest_window = 0;  // the longest window of any signal using the state
  bool keep_base = false;     // a signal without windows uses it: fold old day tiles into base
  // The longest window up to the retention (exact to the millisecond) of any signal using the
  // state, 0 when none has one; unknown (nullopt), the state keeps its hours for the whole
  // retention unless only signals without windows use it.
  std::optional<TimeMs> exact_window;

  // The first hour tile of the state that expiry keeps, raw events being expired through
  // `raw_through` and kept for `raw_kept` (hours_kept_from, store/tiles.h).
  TimeMs hours_from(TimeMs raw_through, TimeMs raw_kept) const {
    if (exact_window) return hours_kept_from(raw_through, raw_kept, *exact_window);
    return keep_base && longest_window == 0 ? hours_kept_from(raw_through, raw_kept, 0)
                                            : kBeginningOfTime;
  }
};

struct RetentionPolicy {
  TimeMs retention = 7 * kDayMs;
  // How long the record of seen event ids is kept, at least `retention`: events up to this
  // far behind stream time are still deduplicated.
  TimeMs late_horizon = 7 * kDayMs;
  std::unordered_map<std::uint64_t, StatePolicy> states;

  // The expiry cut-offs, written once for every backend. Raw events with ts <= the returned
  // time may be dropped when stream time is `high_water`.
  TimeMs raw_events_through(TimeMs high_water) const { return high_water - retention; }
  // Event ids with ts <= the returned time may be dropped when the slowest input's clock (or
  // stream time) is `ids_from`; ids outlive raw events when the late horizon is longer.
  TimeMs ids_through(TimeMs ids_from) const { return ids_from - std::max(late_horizon, retention); }
};

// A snapshot that reads a user in parts (StoreSnapshot::read_users_whole) found the user
// changed between two of them: what it read does not hold together. Reading again on a new
// snapshot told to read users whole cannot fail this way.
class SnapshotMoved : public StorageError {
 public:
  using StorageError::StorageError;
};

// Sizes for /metrics and the docs; approximate where the backend only estimates.
struct StoreStats {
  std::uint64_t events = 0;
  std::uint64_t tiles = 0;
  std::uint64_t bytes_on_disk = 0;
  // Tile values committed (durable in a journal) but not yet merged into the stored tiles.
  std::uint64_t unflushed_tile_bytes = 0;
};

// A consistent read-only view of the store: later commits and expiries do not show through.
// The RocksDB store's is one moment for every user; a shared store's (Redis) is one moment
// per user, each user read at once, and its horizons may rise when a user read turns out to
// be expired past them. Either way, high_water() and expired_through() asked after a user's
// tiles or events were read hold for that user's data: read the user, then plan with them.
// Not thread-safe; use one snapshot per thread.
class StoreSnapshot {
 public:
  virtual ~StoreSnapshot() = default;
  // Stream time when the snapshot was taken: the highest ts ingested.
  virtual TimeMs high_water() const = 0;
  // Raw events with ts <= this may already be gone.
  virtual TimeMs expired_through() const = 0;
  // Whether no event or tile this snapshot shows has a time after high_water(), so that a
  // query as of high_water() or later may read the last hour's tile in place of its events.
  // False (the default) where stream time is read apart from the data (Redis reads it before
  // a user's records, which a commit in between may extend).
  virtual bool shows_no_event_after_high_water() const { return false; }
  // Calls fn(encoded event) for the user's events with from <= ts <= to, in ts order. After
  // tiles() of the same user, a snapshot that reads users in parts may throw SnapshotMoved
  // (see read_users_whole()).
  virtual void scan_events(std::uint64_t user_id, TimeMs from, TimeMs to,
                           const std::function<void(std::string_view)>& fn) = 0;
  // The parts of the user's tiles a query over [from, to] can use, for the states in
  // `state_ids` (ascending): the base tile's, then the day tiles', then the hour tiles' whose
  // start lies in [from, to]; each kind by start, each tile's states by id.
  std::vector<StoredTile> tiles(std::uint64_t user_id, std::span<const std::uint64_t> state_ids,
                                TimeMs from, TimeMs to) {
    return tiles(user_id, state_ids, TileSelection::between(from, to));
  }
  // The same for the tiles `selection` names: the base tile's parts, then the day tiles', then
  // the hour tiles'; each kind by start, each tile's states by id.
  virtual std::vector<StoredTile> tiles(std::uint64_t user_id,
                                        std::span<const std::uint64_t> state_ids,
                                        const TileSelection& selection) = 0;
  // Up to `limit` distinct user ids >= `from` that have raw events stored, ascending. Costs
  // about one seek per user returned, however many events each has (for listing users to
  // browse, not for analytics).
  virtual std::vector<std::uint64_t> users(std::uint64_t from, std::size_t limit) = 0;
  // Whether the store holds anything of the user: a raw event or a tile, whatever its time
  // (what expiry has already dropped no longer counts). Tells a user never seen from one
  // without recent activity. About one seek per kind of record; free when the backend read
  // the whole user for scan_events() or tiles() already.
  virtual bool holds_user(std::uint64_t user_id) = 0;
  // Reads each user not read yet whole, events and tiles at once. Without it a backend may
  // read a user's tiles first and then only the events scan_events() asks for (Redis does for
  // a user of many events: a query wants a few hours of them), and throw SnapshotMoved when
  // the user changed in between. Call it before reading; the default reads whole already.
  virtual void read_users_whole() {}
  // A version of the user's tiles that lie wholly before the day of high_water() (the base
  // tile, and day and hour tiles of earlier days), or nullopt when the store cannot tell (the
  // default). Two snapshots of one store that give a user the same version hold the same
  // tiles of it among those that lie before the day of both snapshots' high_water(), up to
  // the grouping of merges (store/rocksdb/tile_versions.h).
  virtual std::optional<std::uint64_t> tile_version(std::uint64_t user_id) {
    (void)user_id;
    return std::nullopt;
  }
};

// Stores raw events and tiled state. Implementations are safe for concurrent use, except
// that commit() and expire() calls must not overlap (the engine has one writer at a time).
class Store {
 public:
  virtual ~Store() = default;

  // Stream time: the highest ts committed (kBeginningOfTime when empty).
  virtual TimeMs high_water() const = 0;
  // Ids of events with ts <= this may have been forgotten (see expire()); kBeginningOfTime
  // before the first expiry. Survives a restart.
  virtual TimeMs ids_expired_through() const = 0;
  // For each (user, event_id), whether that event was stored and its id is still remembered
  // (ids are kept for RetentionPolicy::late_horizon behind stream time).
  virtual std::vector<bool> contains(
      std::span<const std::pair<std::uint64_t, std::string>> ids) = 0;
  // Applies `batch` atomically and durably (in the write-ahead log) before returning.
  virtual void commit(const CommitBatch& batch) = 0;
  virtual std::unique_ptr<StoreSnapshot> snapshot() = 0;
  // Advances the expiry horizon to stream time - policy.retention and the id horizon to
  // stream time - policy.late_horizon. Raw events, ids and the tiles no window can reach any
  // more are then dropped in background compactions.
  // With `fold_base`, also merges old day tiles of base-keeping states into their base tile
  // (a scan of all tiles: do it now and then, not per batch). `compact_tiles` compacts the
  // tiles now, merging pending deltas so that reads find one value per tile (worth it after
  // a bulk load); `compact` also reclaims the space of expired raw events at once. A fold left
  // unfinished by an earlier call (see fold_slice_users) is finished first when this call
  // folds or compacts; else it is left to continue_fold().
  struct ExpireOptions {
    // When set, ids of events with ts > *ids_hold - late_horizon are kept even when stream
    // time has moved further: a slower input (a Kafka partition behind the others) may still
    // send their duplicates.
    std::optional<TimeMs> ids_hold;
    bool fold_base = true;
    // With fold_base and no compaction asked for: fold at most this many users now and leave
    // the rest to continue_fold(), so that commits are not held up for the whole fold (it
    // takes in proportion to the users active since the last one). 0: the whole fold now.
    // The Redis store visits every user at each expiry (events, ids and tiles): it slices
    // that whole pass, fold or not.
    std::size_t fold_slice_users = 0;
    bool compact_tiles = false;
    bool compact = false;

    // The users to fold now: fold_slice_users, or 0 (all) when a compaction is asked for.
    std::size_t users_now() const { return compact || compact_tiles ? 0 : fold_slice_users; }
  };
  virtual void expire(const RetentionPolicy& policy, ExpireOptions options) = 0;
  // Folds at most `max_users` more users (0: all) of a fold that expire() left unfinished;
  // returns whether some are still left. Queries are exact at every point of a fold: each
  // user is folded atomically. Not to overlap commit() or expire(). The default: nothing is
  // ever left.
  virtual bool continue_fold(std::size_t max_users) {
    (void)max_users;
    return false;
  }
  virtual StoreStats stats() = 0;
  // Throws StorageError naming what is wrong when the store cannot take reads and writes now
  // (a Redis node unreachable). Cheap enough for a readiness probe; the default says ready.
  virtual void check_ready() {}
  // Writes in-memory data to disk files so that a restart or a read-only reader need not
  // replay the write-ahead log.
  virtual void flush() = 0;
  // A small named record kept beside the data (a replay's checkpoint): nullopt when absent.
  // A note written after a commit() is never found stored without that commit after a crash.
  virtual std::optional<std::string> read_note(std::string_view name) = 0;
  // Writes the note, or deletes it for nullopt; as durable as a commit.
  virtual void write_note(std::string_view name, std::optional<std::string_view> value) = 0;
};

}  // namespace signalbox
