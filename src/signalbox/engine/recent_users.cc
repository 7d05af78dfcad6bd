#include "signalbox/engine/recent_users.h"

namespace signalbox {

void RecentUsers::note(std::span<const StoredEvent> events) {
  if (capacity_ == 0) return;
  MutexLock lock(mutex_);
  for (const StoredEvent& e : events) {
    if (auto it = position_.find(e.user_id); it != position_.end()) {
      order_.splice(order_.begin(), order_, it->second);
      continue;
    }
    order_.push_front(e.user_id);
    position_.emplace(e.user_id, order_.begin());
    if (order_.size() > capacity_) {
      position_.erase(order_.back());
      order_.pop_back();
    }
  }
}

std::vector<std::uint64_t> RecentUsers::newest(std::size_t limit) const {
  MutexLock lock(mutex_);
  std::vector<std::uint64_t> out;
  for (auto it = order_.begin(); it != order_.end() && out.size() < limit; ++it) out.push_back(*it);
  return out;
}

}  // namespace signalbox
