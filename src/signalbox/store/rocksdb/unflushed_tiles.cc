#include "signalbox/store/rocksdb/unflushed_tiles.h"

#include <algorithm>

namespace signalbox {

UnflushedTiles::View UnflushedTiles::view(const std::function<std::uint64_t()>& take_snapshot) {
  MutexLock lock(mutex_);
  const std::uint64_t sequence = take_snapshot();
  // A write in flight that the snapshot already sees: wait until its effect is noted here. The
  // writer may have gone on to later writes by the time this wakes; their values carry later
  // sequence numbers, and the generations they flush are kept while a view waits.
  if (writing_from_ && sequence > *writing_from_) {
    ++views_waiting_;
    while (writing_from_ && sequence > *writing_from_) applied_.wait(mutex_);
    --views_waiting_;
  }
  View view;
  view.owner_ = this;
  view.sequence_ = sequence;
  for (const std::shared_ptr<Generation>& g : generations_)
    if (g->flushed_at > sequence) view.generations_.push_back(g);
  drop_flushed();
  return view;
}

std::vector<UnflushedTiles::Tile> UnflushedTiles::View::tiles(std::uint64_t user, TileKind kind,
                                                              TimeMs from, TimeMs to) const {
  std::vector<Tile> out;
  if (generations_.empty()) return out;
  // The generation still gathering grows under the lock; sealed ones do not, but one lock for
  // all keeps this simple, and it is held for copying pointers only.
  MutexLock lock(owner_->mutex_);
  for (const std::shared_ptr<const Generation>& g : generations_) {
    auto found = g->users.find(user);
    if (found == g->users.end()) continue;
    const Generation::UserTiles& tiles = found->second;
    for (auto it = tiles.lower_bound({kind, from});
         it != tiles.end() && it->first.first == kind && it->first.second <= to; ++it) {
      std::vector<std::shared_ptr<const std::string>> group;
      for (const Generation::Value& v : it->second)
        if (v.sequence <= sequence_) group.push_back(v.bytes);
      if (group.empty()) continue;
      // Older generations came first: a tile already out gets the newer group appended.
      auto at = std::find_if(out.begin(), out.end(),
                             [&](const Tile& t) { return t.key.start == it->first.second; });
      if (at == out.end())
        at = out.insert(out.end(), Tile{TileKey{user, kind, it->first.second}, {}});
      at->groups.push_back(std::move(group));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Tile& a, const Tile& b) { return a.key.start < b.key.start; });
  return out;
}

bool UnflushedTiles::View::holds_user(std::uint64_t user) const {
  if (generations_.empty()) return false;
  MutexLock lock(owner_->mutex_);
  for (const std::shared_ptr<const Generation>& g : generations_) {
    auto found = g->users.find(user);
    if (found == g->users.end()) continue;
    for (const auto& [kind_start, values] : found->second)
      if (values.front().sequence <= sequence_) return true;
  }
  return false;
}

void UnflushedTiles::begin_write(std::uint64_t latest_sequence) {
  MutexLock lock(mutex_);
  writing_from_ = latest_sequence;
}

void UnflushedTiles::end_write() {
  {
    MutexLock lock(mutex_);
    writing_from_.reset();
  }
  applied_.notify_all();
}

UnflushedTiles::Generation* UnflushedTiles::gathering() const {
  if (generations_.empty() || generations_.back()->sealed) return nullptr;
  return generations_.back().get();
}

void UnflushedTiles::add(std::uint64_t batch, std::uint64_t sequence,
                         std::vector<std::pair<TileKey, std::string>> tiles) {
  MutexLock lock(mutex_);
  Generation* g = gathering();
  if (!g) g = generations_.emplace_back(std::make_shared<Generation>()).get();
  g->batches.push_back(batch);
  for (auto& [key, bytes] : tiles) {
    g->bytes += bytes.size();
    bytes_ += bytes.size();
    std::vector<Generation::Value>& values = g->users[key.user_id][{key.kind, key.start}];
    values.push_back({sequence, std::make_shared<const std::string>(std::move(bytes))});
    g->most_values_per_tile = std::max(g->most_values_per_tile, values.size());
  }
}

std::shared_ptr<const UnflushedTiles::Generation> UnflushedTiles::seal() {
  MutexLock lock(mutex_);
  for (const std::shared_ptr<Generation>& g : generations_) {
    if (g->flushed_at != Generation::kNotFlushed) continue;
    g->sealed = true;
    return g;
  }
  return nullptr;
}

void UnflushedTiles::flushed(const std::shared_ptr<const Generation>& generation,
                             std::uint64_t sequence) {
  MutexLock lock(mutex_);
  for (const std::shared_ptr<Generation>& g : generations_) {
    if (g != generation) continue;
    g->flushed_at = sequence;
    bytes_ -= g->bytes;
  }
  drop_flushed();
}

void UnflushedTiles::drop_flushed() {
  // A view that is not waiting took its snapshot after every flush noted here, so it sees
  // those in the tiles family; only a waiting one may be older.
  if (views_waiting_ > 0) return;
  std::erase_if(generations_, [](const std::shared_ptr<Generation>& g) {
    return g->flushed_at != Generation::kNotFlushed;
  });
}

bool UnflushedTiles::gathered(std::size_t bytes, std::size_t values_per_tile) const {
  MutexLock lock(mutex_);
  const Generation* g = gathering();
  return g && (g->bytes >= bytes || g->most_values_per_tile >= values_per_tile);
}

std::size_t UnflushedTiles::bytes() const {
  MutexLock lock(mutex_);
  return bytes_;
}

}  // namespace signalbox
