#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <optional>
#include <utility>

#include "signalbox/common/mutex.h"

namespace signalbox {

// A bounded queue from one producing thread to one consuming thread, which lets a replay read
// and prepare its next batches while the one before is stored: a producer that gets ahead
// waits for room, so at most `capacity` items wait at once.
//
// Either side can end it: the producer with finish() when it has nothing more (the consumer
// still takes what is queued), and either side with cancel() when it cannot go on (queued
// items are dropped, push() and pop() return at once).
//
// Thread-safe: push(), finish() and cancel() from one thread, pop() and cancel() from another.
template <typename T>
class BatchHandover {
 public:
  explicit BatchHandover(std::size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

  // Queues `item`, waiting for room. False when the handover was cancelled (`item` dropped).
  bool push(T item) {
    MutexLock lock(mutex_);
    while (!cancelled_ && items_.size() >= capacity_) room_.wait(mutex_);
    if (cancelled_) return false;
    items_.push_back(std::move(item));
    ready_.notify_one();
    return true;
  }

  // The oldest queued item, waiting for one; none once the producer finished and every item
  // was taken, or once cancelled.
  std::optional<T> pop() {
    MutexLock lock(mutex_);
    while (!cancelled_ && !finished_ && items_.empty()) ready_.wait(mutex_);
    if (cancelled_ || items_.empty()) return std::nullopt;
    std::optional<T> item(std::move(items_.front()));
    items_.pop_front();
    room_.notify_one();
    return item;
  }

  void finish() {
    MutexLock lock(mutex_);
    finished_ = true;
    ready_.notify_all();
  }

  void cancel() {
    std::deque<T> dropped;
    {
      MutexLock lock(mutex_);
      cancelled_ = true;
      dropped.swap(items_);
      ready_.notify_all();
      room_.notify_all();
    }
  }

 private:
  const std::size_t capacity_;
  Mutex mutex_;
  std::condition_variable_any ready_;  // an item was queued, or the handover ended
  std::condition_variable_any room_;   // an item was taken, or the handover was cancelled
  std::deque<T> items_ SIGNALBOX_GUARDED_BY(mutex_);
  bool finished_ SIGNALBOX_GUARDED_BY(mutex_) = false;
  bool cancelled_ SIGNALBOX_GUARDED_BY(mutex_) = false;
};

}  // namespace signalbox
