#include "signalbox/materialize/feature_cache.h"

#include <algorithm>
#include <type_traits>

namespace signalbox {

namespace {

// Heap bytes of one value beyond the variant itself.
std::size_t heap_bytes(const FeatureValue& value) {
  return std::visit(
      [](const auto& v) -> std::size_t {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          std::size_t n = v.capacity() * sizeof(std::string);
          // Short strings live inside the std::string (SSO); longer ones own a block.
          for (const std::string& s : v) n += s.size() > 15 ? s.capacity() + 1 : 0;
          return n;
        } else if constexpr (std::is_same_v<T, std::vector<float>>) {
          return v.capacity() * sizeof(float);
        } else {
          return 0;
        }
      },
      value);
}

// Roughly what a hash node, its bucket, a queue slot and a shared_ptr control block cost.
constexpr std::size_t kEntryOverhead = 128;

}  // namespace

std::size_t FeatureCache::charge(std::string_view key, const Row& row) {
  std::size_t n = kEntryOverhead + key.size() + row.capacity() * sizeof(FeatureValue);
  for (const FeatureValue& v : row) n += heap_bytes(v);
  return n;
}

FeatureCache::FeatureCache(Options options) : options_(std::move(options)) {
  std::size_t shards = std::max<std::size_t>(1, options_.shards);
  shard_capacity_ = options_.capacity_bytes / shards;
  for (std::size_t i = 0; i < shards; ++i) shards_.push_back(std::make_unique<Shard>());
}

SteadyClock::time_point FeatureCache::now() const {
  return options_.clock ? options_.clock() : SteadyClock::now();
}

FeatureCache::Shard& FeatureCache::shard_of(std::string_view key) {
  if (shards_.size() == 1) return *shards_[0];
  return *shards_[std::hash<std::string_view>{}(key) % shards_.size()];
}

void FeatureCache::advance(Shard& shard, bool evict, SteadyClock::time_point now,
                           const Map::value_type* keep) {
  Map::value_type* entry = shard.ring.front();
  shard.ring.pop_front();
  Slot& slot = entry->second;
  const bool dead = slot.row == nullptr;
  const bool expired = !dead && slot.expires <= now;
  if (entry != keep && (dead || expired || (evict && !slot.referenced))) {
    if (dead) {
      --shard.dead;  // counted when it was found expired
    } else if (expired) {
      ++shard.counters.expirations;
    } else {
      ++shard.counters.evictions;
    }
    shard.bytes -= slot.charge;
    shard.map.erase(shard.map.find(entry->first));
    return;
  }
  slot.referenced = false;
  shard.ring.push_back(entry);
}

std::shared_ptr<const FeatureCache::Row> FeatureCache::get(std::string_view key) {
  Shard& shard = shard_of(key);
  SteadyClock::time_point t = now();
  MutexLock lock(shard.mutex);
  auto it = shard.map.find(key);
  if (it == shard.map.end() || it->second.row == nullptr) {
    ++shard.counters.misses;
    return nullptr;
  }
  Slot& slot = it->second;
  if (slot.expires <= t) {
    // Left for the hand to drop: erasing here would leave a dangling pointer in the ring.
    slot.row.reset();
    ++shard.dead;
    ++shard.counters.expirations;
    ++shard.counters.misses;
    return nullptr;
  }
  slot.referenced = true;
  ++shard.counters.hits;
  return slot.row;
}

void FeatureCache::put(std::string_view key, std::shared_ptr<const Row> row) {
  if (!row) return;
  std::size_t cost = charge(key, *row);
  Shard& shard = shard_of(key);
  SteadyClock::time_point t = now();
  MutexLock lock(shard.mutex);
  if (cost > shard_capacity_) {
    // Too big to keep; an older row of the key is stale now, so it goes too.
    auto it = shard.map.find(key);
    if (it != shard.map.end() && it->second.row != nullptr) {
      it->second.row.reset();
      ++shard.dead;
    }
    return;
  }
  auto [it, inserted] = shard.map.try_emplace(std::string(key));
  Slot& slot = it->second;
  if (inserted) {
    shard.ring.push_back(&*it);
  } else {
    shard.bytes -= slot.charge;
    if (slot.row == nullptr) --shard.dead;
  }
  slot.row = std::move(row);
  slot.expires = t + options_.ttl;
  slot.charge = cost;
  slot.referenced = false;
  shard.bytes += cost;

  // Dead and expired entries at the hand go for free, so memory is given back without
  // waiting for the budget to run out.
  for (int i = 0; i < 2 && !shard.ring.empty(); ++i) {
    const Map::value_type* front = shard.ring.front();
    if (front == &*it || (front->second.row != nullptr && front->second.expires > t)) break;
    advance(shard, false, t, &*it);
  }
  while (shard.bytes > shard_capacity_) advance(shard, true, t, &*it);
}

void FeatureCache::clear() {
  for (const auto& shard : shards_) {
    MutexLock lock(shard->mutex);
    shard->ring.clear();
    shard->map.clear();
    shard->bytes = 0;
    shard->dead = 0;
  }
}

FeatureCacheStats FeatureCache::stats() const {
  FeatureCacheStats total;
  for (const auto& shard : shards_) {
    MutexLock lock(shard->mutex);
    total.hits += shard->counters.hits;
    total.misses += shard->counters.misses;
    total.evictions += shard->counters.evictions;
    total.expirations += shard->counters.expirations;
    total.entries += shard->map.size() - shard->dead;
    total.bytes += shard->bytes;
  }
  total.capacity_bytes = shard_capacity_ * shards_.size();
  return total;
}

}  // namespace signalbox
