#include "signalbox/store/rocksdb/iterator_pool.h"

namespace signalbox {

IteratorPool::Lent IteratorPool::lend() {
  {
    MutexLock lock(mutex_);
    if (!kept_.empty()) {
      std::unique_ptr<rocksdb::Iterator> kept = std::move(kept_.back());
      kept_.pop_back();
      return Lent(this, std::move(kept));
    }
  }
  return Lent(this, std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(read_, family_)));
}

void IteratorPool::take_back(std::unique_ptr<rocksdb::Iterator> iterator) {
  if (!iterator->status().ok()) return;
  {
    MutexLock lock(mutex_);
    if (kept_.size() < kKept) {
      kept_.push_back(std::move(iterator));
      return;
    }
  }
  // Destroyed here, outside the lock.
}

void IteratorPool::Lent::give_back() {
  if (iterator_) pool_->take_back(std::move(iterator_));
  iterator_.reset();
}

}  // namespace signalbox
