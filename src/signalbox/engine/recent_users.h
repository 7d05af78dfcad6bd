#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <span>
#include <unordered_map>
#include <vector>

#include "signalbox/common/mutex.h"
#include "signalbox/store/store.h"

namespace signalbox {

// The users whose events were committed most recently, at most `capacity` of them, newest
// first: a cheap answer to "whom can I look at" without scanning the store. Thread-safe.
class RecentUsers {
 public:
  explicit RecentUsers(std::size_t capacity) : capacity_(capacity) {}
  RecentUsers(const RecentUsers&) = delete;
  RecentUsers& operator=(const RecentUsers&) = delete;

  // Marks the users of `events` as the most recent, later events more recent than earlier
  // ones; the least recent users beyond the capacity are forgotten.
  void note(std::span<const StoredEvent> events);

  // Up to `limit` users, most recent first.
  std::vector<std::uint64_t> newest(std::size_t limit) const;

 private:
  std::size_t capacity_;
  mutable Mutex mutex_;
  std::list<std::uint64_t> order_ SIGNALBOX_GUARDED_BY(mutex_);  // newest first
  std::unordered_map<std::uint64_t, std::list<std::uint64_t>::iterator> position_
      SIGNALBOX_GUARDED_BY(mutex_);
};

}  // namespace signalbox
