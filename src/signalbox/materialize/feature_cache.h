#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "signalbox/common/mutex.h"
#include "signalbox/event/event.h"

namespace signalbox {

using SteadyClock = std::chrono::steady_clock;
// A clock the Materializer and its cache read; tests inject one to expire entries at will.
using ClockFn = std::function<SteadyClock::time_point()>;

// Counters of one cache since it was built. The first four only grow; the last three are
// the current state.
struct FeatureCacheStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;       // including expired entries
  std::uint64_t evictions = 0;    // entries dropped to stay under the byte budget
  std::uint64_t expirations = 0;  // entries dropped because they outlived the TTL
  std::uint64_t entries = 0;
  std::uint64_t bytes = 0;
  std::uint64_t capacity_bytes = 0;
};

// A cache of looked-up feature rows (the values of one source's fields for one key), bounded
// by bytes, each entry valid for a TTL after it was stored. Unknown keys are cached too:
// asking a remote store again for a missing key costs as much as for a present one. Safe for
// concurrent use: it is split into shards, each behind its own mutex.
//
// Eviction is CLOCK (second chance), the usual approximation of least-recently-used: a hit
// only sets a bit in its entry, and the clock hand, walking entries in insertion order,
// spares an entry whose bit is set once (clearing it) and evicts the first whose bit is
// clear. Strict LRU relinks a list node on every hit, which touches several cold cache lines
// and measured twice as slow per hit on a cache of 250 000 entries.
//
// Hand-written because neither Boost nor any other Debian-packaged library offers a byte-
// bounded cache with expiry; it is a hash map and a queue per shard.
class FeatureCache {
 public:
  using Row = std::vector<FeatureValue>;

  struct Options {
    std::size_t capacity_bytes = 64 << 20;  // split evenly over the shards
    SteadyClock::duration ttl = std::chrono::minutes(10);
    std::size_t shards = 1;  // more shards, less lock contention, coarser eviction order
    ClockFn clock;           // SteadyClock::now when empty
  };

  explicit FeatureCache(Options options);
  FeatureCache(const FeatureCache&) = delete;
  FeatureCache& operator=(const FeatureCache&) = delete;

  // The row stored under `key` if it is there and younger than the TTL; null otherwise.
  // The row stays valid for as long as the caller holds it, evicted or not.
  std::shared_ptr<const Row> get(std::string_view key);

  // Stores `row` under `key`, replacing what was there, and evicts entries until the shard
  // fits its budget (never the one just stored). A row larger than a whole shard is not
  // kept.
  void put(std::string_view key, std::shared_ptr<const Row> row);

  // Drops every entry (the data behind them changed); counters are kept.
  void clear();

  FeatureCacheStats stats() const;

  // The bytes an entry of this key and row is charged: its payload plus a fixed overhead
  // for the hash node, the queue slot and the shared row.
  static std::size_t charge(std::string_view key, const Row& row);

 private:
  struct Slot {
    std::shared_ptr<const Row> row;  // null once found expired: counted, not yet dropped
    SteadyClock::time_point expires;
    std::size_t charge = 0;
    bool referenced = false;  // hit since the hand last passed
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Map = std::unordered_map<std::string, Slot, KeyHash, std::equal_to<>>;
  struct Shard {
    mutable Mutex mutex;
    Map map SIGNALBOX_GUARDED_BY(mutex);
    // Every entry of `map` once, oldest first; the front is where the clock hand points.
    // Elements of an unordered_map keep their address when it rehashes.
    std::deque<Map::value_type*> ring SIGNALBOX_GUARDED_BY(mutex);
    std::size_t bytes SIGNALBOX_GUARDED_BY(mutex) = 0;
    std::size_t dead SIGNALBOX_GUARDED_BY(mutex) =
        0;  // entries found expired, still in map and ring
    FeatureCacheStats counters;
  };

  Shard& shard_of(std::string_view key);
  SteadyClock::time_point now() const;
  // Moves the hand one entry on: drops the entry at the front when it is dead or expired,
  // or when `evict` and it was not hit since the last pass; otherwise sends it round again.
  void advance(Shard& shard, bool evict, SteadyClock::time_point now, const Map::value_type* keep)
      SIGNALBOX_REQUIRES(shard.mutex);

  Options options_;
  std::size_t shard_capacity_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace signalbox
