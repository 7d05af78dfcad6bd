#include "signalbox/engine/span_cache.h"

#include <xxhash.h>

#include <vector>

namespace signalbox {

SpanKey span_key(std::uint64_t state_id, std::span<const StoredTile* const> tiles) {
  XXH3_state_t* state = XXH3_createState();
  XXH3_128bits_reset(state);
  auto add = [&](const void* data, std::size_t size) { XXH3_128bits_update(state, data, size); };
  add(&state_id, sizeof state_id);
  for (const StoredTile* tile : tiles) {
    // The length first, so that the byte strings of neighbouring tiles cannot shift into
    // each other and collide.
    const std::uint64_t header[3] = {static_cast<std::uint64_t>(tile->kind),
                                     static_cast<std::uint64_t>(tile->start), tile->state.size()};
    add(header, sizeof header);
    add(tile->state.data(), tile->state.size());
  }
  const XXH128_hash_t hash = XXH3_128bits_digest(state);
  XXH3_freeState(state);
  return SpanKey{hash.high64, hash.low64};
}

SpanKey versioned_span_key(std::uint64_t user_id, std::uint64_t state_id, std::uint64_t version,
                           std::span<const StoredTile* const> tiles) {
  // Hashed with a seed of its own: it meets a span_key() only as two unrelated 128-bit hashes
  // would.
  constexpr XXH64_hash_t kVersionedSeed = 0x5645'5253'494f'4e21ULL;
  std::vector<std::uint64_t> words;
  words.reserve(3 + 3 * tiles.size());
  words.insert(words.end(), {user_id, state_id, version});
  for (const StoredTile* tile : tiles)
    words.insert(words.end(), {static_cast<std::uint64_t>(tile->kind),
                               static_cast<std::uint64_t>(tile->start), tile->state.size()});
  const XXH128_hash_t hash =
      XXH3_128bits_withSeed(words.data(), words.size() * sizeof(std::uint64_t), kVersionedSeed);
  return SpanKey{hash.high64, hash.low64, /*by_version=*/true};
}

SpanKey settled_run_key(std::uint64_t user_id, std::uint64_t state_id, std::uint64_t version,
                        bool all_history, TimeMs first_day, TimeMs end_day) {
  // A seed of its own again: these keys meet no other kind.
  constexpr XXH64_hash_t kSettledRunSeed = 0x5345'5454'4c45'4421ULL;
  const std::uint64_t words[6] = {user_id,
                                  state_id,
                                  version,
                                  all_history ? 1u : 0u,
                                  static_cast<std::uint64_t>(all_history ? 0 : first_day),
                                  static_cast<std::uint64_t>(end_day)};
  const XXH128_hash_t hash = XXH3_128bits_withSeed(words, sizeof words, kSettledRunSeed);
  return SpanKey{hash.high64, hash.low64, /*by_version=*/true};
}

SpanKey settled_set_key(std::uint64_t user_id, std::uint64_t version) {
  constexpr XXH64_hash_t kSettledSetSeed = 0x5345'5454'4c53'4554ULL;
  const std::uint64_t words[2] = {user_id, version};
  const XXH128_hash_t hash = XXH3_128bits_withSeed(words, sizeof words, kSettledSetSeed);
  return SpanKey{hash.high64, hash.low64, /*by_version=*/true};
}

SpanCache::SpanCache(std::size_t capacity_bytes) : shard_capacity_(capacity_bytes / kShards) {}

std::shared_ptr<const RunSet> SpanCache::touch(Shard& s, const SpanKey& key) {
  auto it = s.index.find(key);
  if (it == s.index.end()) return nullptr;
  s.entries.splice(s.entries.begin(), s.entries, it->second);
  return it->second->set;
}

void SpanCache::put(Shard& s, const SpanKey& key, std::shared_ptr<const RunSet> set,
                    std::size_t bytes) {
  if (auto it = s.index.find(key); it != s.index.end()) {
    s.bytes -= it->second->bytes;
    s.entries.erase(it->second);
    s.index.erase(it);
  }
  if (bytes > shard_capacity_) return;  // would only push everything else out
  s.entries.push_front(Entry{key, std::move(set), bytes});
  s.index.emplace(key, s.entries.begin());
  s.bytes += bytes;
  while (s.bytes > shard_capacity_) {
    const Entry& oldest = s.entries.back();
    s.bytes -= oldest.bytes;
    s.index.erase(oldest.key);
    s.entries.pop_back();
  }
}

void SpanCache::count(const SpanKey& key, bool hit) {
  Shard& s = shard(key);
  if (!hit) {
    s.misses.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  s.hits.fetch_add(1, std::memory_order_relaxed);
  if (key.by_version) s.version_hits.fetch_add(1, std::memory_order_relaxed);
}

std::shared_ptr<const CachedRun> SpanCache::find(const SpanKey& key) {
  std::shared_ptr<const RunSet> set;
  {
    Shard& s = shard(key);
    MutexLock lock(s.mutex);
    set = touch(s, key);
  }
  return find_in(set, key);
}

void SpanCache::insert(const SpanKey& key, std::shared_ptr<const CachedRun> run) {
  const std::size_t bytes = bytes_of(*run);
  auto set = std::make_shared<RunSet>();
  set->runs.emplace_back(key, std::move(run));
  Shard& s = shard(key);
  MutexLock lock(s.mutex);
  put(s, key, std::move(set), bytes);
}

std::shared_ptr<const RunSet> SpanCache::find_set(const SpanKey& set_key) {
  Shard& s = shard(set_key);
  MutexLock lock(s.mutex);
  return touch(s, set_key);
}

std::shared_ptr<const CachedRun> SpanCache::find_in(const std::shared_ptr<const RunSet>& set,
                                                    const SpanKey& key) {
  const CachedRun* run = set ? set->find(key) : nullptr;
  count(key, run != nullptr);
  if (!run) return nullptr;
  return std::shared_ptr<const CachedRun>(set, run);  // owned through the set
}

void SpanCache::insert_into(const SpanKey& set_key, const SpanKey& key,
                            std::shared_ptr<const CachedRun> run) {
  Shard& s = shard(set_key);
  MutexLock lock(s.mutex);
  auto set = std::make_shared<RunSet>();
  std::size_t bytes = bytes_of(*run);
  if (auto it = s.index.find(set_key); it != s.index.end()) {
    const auto& old = it->second->set->runs;
    // Past the bound the oldest go, and the one replaced.
    const std::size_t keep_from =
        old.size() >= kMaxRunsPerSet ? old.size() - kMaxRunsPerSet + 1 : 0;
    set->runs.reserve(old.size() - keep_from + 1);
    for (std::size_t i = keep_from; i < old.size(); ++i) {
      if (old[i].first == key) continue;
      set->runs.push_back(old[i]);
      bytes += bytes_of(*old[i].second);
    }
  }
  set->runs.emplace_back(key, std::move(run));
  put(s, set_key, std::move(set), bytes);
}

std::uint64_t SpanCache::total(std::atomic<std::uint64_t> Shard::*counter) const {
  std::uint64_t n = 0;
  for (const Shard& s : shards_) n += (s.*counter).load(std::memory_order_relaxed);
  return n;
}

}  // namespace signalbox
