#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "signalbox/aggregate/aggregator.h"
#include "signalbox/common/mutex.h"
#include "signalbox/store/store.h"

namespace signalbox {

// What identifies the merge of a run of stored tiles of one state: a 128-bit hash of the state
// id and of every tile's kind, start and stored bytes. Two runs with the same key merge to
// the same state, whoever's tiles they are.
struct SpanKey {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  bool by_version = false;  // made by versioned_span_key()
  friend bool operator==(const SpanKey&, const SpanKey&) = default;
};

SpanKey span_key(std::uint64_t state_id, std::span<const StoredTile* const> tiles);

// What identifies the merge of a run of one user's settled tiles (StoreSnapshot::tile_version):
// the user, the state id, the version and every tile's kind, start and size, without its
// bytes. Hashed apart from span_key(), so the two kinds of key do not meet.
SpanKey versioned_span_key(std::uint64_t user_id, std::uint64_t state_id, std::uint64_t version,
                           std::span<const StoredTile* const> tiles);

// What identifies the leading run of a window of one user's state by the user's tile version,
// before any tile is read: of a windowed signal, by its whole days [first_day, end_day); of a
// signal without windows (`all_history`), by the end of its whole days alone, since the rest
// of the run (its base tile and the days before) is the same under one version. Only for runs
// all of whose tiles are settled (StoreSnapshot::tile_version) in the snapshot that looks.
SpanKey settled_run_key(std::uint64_t user_id, std::uint64_t state_id, std::uint64_t version,
                        bool all_history, TimeMs first_day, TimeMs end_day);

// What identifies the set of one user's runs keyed by settled_run_key() at `version`
// (RunSet): the cache keeps them as one entry.
SpanKey settled_set_key(std::uint64_t user_id, std::uint64_t version);

// A merged run as the cache keeps it.
struct CachedRun {
  // The merged state, never changed once cached: a query merges onto its own copy
  // (Aggregator::copy), which costs a fraction of decoding it.
  std::shared_ptr<const State> state;
  // The size of its encoding, by which the cache counts it (SpanCache::bytes_of).
  std::size_t encoded_bytes = 0;
  // Of a run keyed by settled_run_key() for a signal without windows: the covered_through of
  // the base tile in it (absent: the user had none), which the signal's plan starts from.
  std::optional<TimeMs> base_through;
  std::size_t tiles = 0;  // stored tiles merged into it (0: the user had none there)
};

// Runs the cache keeps as one entry, each under its own key: a run keyed by content is a set
// of one; the settled runs of one user at one tile version (settled_run_key) share a set, since
// a query looks up a dozen of them, and one hash lookup followed by a scan of runs side by side
// costs a fraction of a dozen lookups whose nodes lie apart in memory (each a cache miss or
// more: in a profile of light-user queries at saturation, a tenth of the server's time).
// Never changed once cached: adding a run makes a new set.
struct RunSet {
  std::vector<std::pair<SpanKey, std::shared_ptr<const CachedRun>>> runs;  // oldest first

  // The run under `key`, or null.
  const CachedRun* find(const SpanKey& key) const {
    for (const auto& [k, run] : runs)
      if (k == key) return run.get();
    return nullptr;
  }
};

class SpanCache;

// How a query finds its merged runs: the cache, and what its snapshot says of the user's
// tiles. A run whose tiles all end by `settled_before` (the start of the snapshot's head day)
// is keyed by `tile_version` when the store gave one, every other run by its bytes.
struct SpanLookup {
  SpanCache* cache = nullptr;
  // The user's settled runs at `tile_version` cached when the query began (null: none).
  std::shared_ptr<const RunSet> settled;
  std::uint64_t user_id = 0;
  std::optional<std::uint64_t> tile_version;
  // settled_set_key(user_id, *tile_version), where the runs are found and added.
  SpanKey settled_key;
  TimeMs settled_before = 0;
  TimeMs as_of = 0;  // the query's

  // Whether runs can be keyed by version at all (and so looked up before reading).
  bool by_version() const { return cache && tile_version; }
};

// The states of merged runs of tiles (a window's base and whole days), so that a
// heavy user's long windows are not merged tile by tile on every query: a 90-day window
// merges some 90 day tiles whose content changes only when a late event lands in one of them
// or the window moves on by a day.
//
// Entries are found by content (SpanKey), not by user and time: the tiles a query reads are
// hashed and looked up, so an entry can never be stale and nothing has to invalidate it, with
// any store and beside other writers; or, for runs of settled tiles where the store keeps a
// version of them, by that version, which changes whenever they do. Entries are dropped least
// recently used first once their bytes (the state, counted by its encoded size, and
// kEntryOverhead) pass the capacity.
//
// Thread-safe: queries on any number of threads share it (the entries are split over
// independently locked shards).
class SpanCache {
 public:
  // Holds up to about `capacity_bytes` of states (as bytes_of() counts them); 0 holds nothing.
  explicit SpanCache(std::size_t capacity_bytes);
  SpanCache(const SpanCache&) = delete;
  SpanCache& operator=(const SpanCache&) = delete;

  // What an entry costs besides its state (its nodes and the run's fields), counted against
  // the capacity so that many small runs are bounded by memory too.
  static constexpr std::size_t kEntryOverhead = 192;
  // A state in memory counted as this many times the size of its encoding: grouped totals
  // and recent values take 2.2-2.4 times (each key or value a string and an entry beside its
  // bytes), numbers and sketches about as much as encoded; the rest is for the allocations.
  static constexpr std::size_t kDecodedPerEncodedByte = 3;

  // Most runs a set holds: past it, adding one drops the oldest. A query as of one moment
  // looks up one run per windowed plan; queries as of many moments (an explorer, a training
  // frame) would otherwise grow a user's set, and the copy each addition makes, without bound.
  static constexpr std::size_t kMaxRunsPerSet = 64;

  // The run stored under `key` by insert(), or null.
  std::shared_ptr<const CachedRun> find(const SpanKey& key);
  // Stores `run` under `key` (replacing what was there), then drops the least recently used
  // entries of its shard beyond the capacity.
  void insert(const SpanKey& key, std::shared_ptr<const CachedRun> run);

  // The set stored under `set_key` by insert_into(), or null; counts neither hit nor miss.
  std::shared_ptr<const RunSet> find_set(const SpanKey& set_key);
  // The run under `key` in `set` (which may be null), sharing the set's ownership, or null;
  // counted as a hit or a miss.
  std::shared_ptr<const CachedRun> find_in(const std::shared_ptr<const RunSet>& set,
                                           const SpanKey& key);
  // Adds `run` under `key` to the set under `set_key` (replacing a run of that key, dropping
  // the oldest past kMaxRunsPerSet), then drops the least recently used entries of its shard
  // beyond the capacity. The set is copied: a query holding the old one keeps it whole.
  void insert_into(const SpanKey& set_key, const SpanKey& key,
                   std::shared_ptr<const CachedRun> run);

  std::uint64_t hits() const { return total(&Shard::hits); }
  // Of the hits, those of keys made by versioned_span_key() or settled_run_key().
  std::uint64_t version_hits() const { return total(&Shard::version_hits); }
  std::uint64_t misses() const { return total(&Shard::misses); }

 private:
  struct KeyHash {
    std::size_t operator()(const SpanKey& key) const { return key.low; }
  };
  // What a run counts against the capacity (a set: the sum of its runs').
  static std::size_t bytes_of(const CachedRun& run) {
    return kDecodedPerEncodedByte * run.encoded_bytes + kEntryOverhead;
  }
  struct Entry {
    SpanKey key;
    std::shared_ptr<const RunSet> set;
    std::size_t bytes = 0;
  };
  // Each on lines of its own, so that threads counting in different shards do not contend.
  struct alignas(64) Shard {
    Mutex mutex;
    std::list<Entry> entries SIGNALBOX_GUARDED_BY(mutex);  // most recently used first
    std::unordered_map<SpanKey, std::list<Entry>::iterator, KeyHash> index
        SIGNALBOX_GUARDED_BY(mutex);
    std::size_t bytes SIGNALBOX_GUARDED_BY(mutex) = 0;
    std::atomic<std::uint64_t> hits{0};
    std::atomic<std::uint64_t> version_hits{0};
    std::atomic<std::uint64_t> misses{0};
  };
  static constexpr std::size_t kShards = 16;

  Shard& shard(const SpanKey& key) { return shards_[key.high % kShards]; }
  // The set under `key` made most recently used, or null; `s` locked.
  std::shared_ptr<const RunSet> touch(Shard& s, const SpanKey& key) SIGNALBOX_REQUIRES(s.mutex);
  // Stores `set` of `bytes` under `key` in `s`, replacing what was there, and evicts beyond
  // the capacity; `s` locked.
  void put(Shard& s, const SpanKey& key, std::shared_ptr<const RunSet> set, std::size_t bytes)
      SIGNALBOX_REQUIRES(s.mutex);
  void count(const SpanKey& key, bool hit);
  // A counter of every shard, summed.
  std::uint64_t total(std::atomic<std::uint64_t> Shard::*counter) const;

  std::size_t shard_capacity_;
  std::array<Shard, kShards> shards_;
};

}  // namespace signalbox
