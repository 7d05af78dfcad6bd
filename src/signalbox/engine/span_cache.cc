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

SpanCache::SpanCache(std::size_t capacity_bytes) : shard_capacity_(capacity_bytes / kShards) {}

std::shared_ptr<const CachedRun> SpanCache::find(const SpanKey& key) {
  Shard& s = shard(key);
  MutexLock lock(s.mutex);
  auto it = s.index.find(key);
  if (it == s.index.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  hits_.fetch_add(1, std::memory_order_relaxed);
  if (key.by_version) version_hits_.fetch_add(1, std::memory_order_relaxed);
  s.entries.splice(s.entries.begin(), s.entries, it->second);
  return it->second->run;
}

void SpanCache::insert(const SpanKey& key, std::shared_ptr<const CachedRun> run) {
  const std::size_t size = bytes_of(*run);
  if (size > shard_capacity_) return;  // would only push everything else out
  Shard& s = shard(key);
  MutexLock lock(s.mutex);
  if (auto it = s.index.find(key); it != s.index.end()) {
    s.bytes -= it->second->bytes();
    s.entries.erase(it->second);
    s.index.erase(it);
  }
  s.entries.push_front(Entry{key, std::move(run)});
  s.index.emplace(key, s.entries.begin());
  s.bytes += size;
  while (s.bytes > shard_capacity_) {
    const Entry& oldest = s.entries.back();
    s.bytes -= oldest.bytes();
    s.index.erase(oldest.key);
    s.entries.pop_back();
  }
}

}  // namespace signalbox
