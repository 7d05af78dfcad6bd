#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include <rocksdb/db.h>

#include "signalbox/common/mutex.h"

namespace signalbox {

// Iterators over one column family with one ReadOptions (a snapshot among them), lent to one
// reader at a time and taken back for the next. Making and destroying a RocksDB iterator costs
// some 5 000 instructions (a merging iterator over every level, its arena, the superversion's
// reference), as much as reading a light user's tiles; readers of the same snapshot one after
// the other can use the same iterators instead. A lent iterator is positioned wherever its
// last reader left it: a reader seeks first.
//
// Holds at most kKept iterators; more readers at once get iterators of their own, destroyed
// when given back beyond that. The pool (and so every iterator it keeps) must be destroyed
// before the snapshot of its ReadOptions is released and before the database. Thread-safe;
// each lent iterator is its reader's alone until given back.
class IteratorPool {
 public:
  static constexpr std::size_t kKept = 8;

  // `db` and `family` must outlive the pool.
  IteratorPool(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family, rocksdb::ReadOptions read)
      : db_(db), family_(family), read_(read) {}
  IteratorPool(const IteratorPool&) = delete;
  IteratorPool& operator=(const IteratorPool&) = delete;

  // Gives the iterator back to its pool when it goes, unless it saw an error (it may not be
  // good for another seek: it is destroyed).
  class Lent {
   public:
    Lent() = default;
    Lent(Lent&&) = default;
    Lent& operator=(Lent&& other) noexcept {
      give_back();
      pool_ = other.pool_;
      iterator_ = std::move(other.iterator_);
      return *this;
    }
    ~Lent() { give_back(); }

    explicit operator bool() const { return iterator_ != nullptr; }
    rocksdb::Iterator& operator*() const { return *iterator_; }
    rocksdb::Iterator* operator->() const { return iterator_.get(); }
    rocksdb::Iterator* get() const { return iterator_.get(); }

   private:
    friend class IteratorPool;
    Lent(IteratorPool* pool, std::unique_ptr<rocksdb::Iterator> iterator)
        : pool_(pool), iterator_(std::move(iterator)) {}
    void give_back();

    IteratorPool* pool_ = nullptr;
    std::unique_ptr<rocksdb::Iterator> iterator_;
  };

  // A kept iterator, else a new one.
  Lent lend();

 private:
  void take_back(std::unique_ptr<rocksdb::Iterator> iterator);

  rocksdb::DB* const db_;
  rocksdb::ColumnFamilyHandle* const family_;
  const rocksdb::ReadOptions read_;
  Mutex mutex_;
  std::vector<std::unique_ptr<rocksdb::Iterator>> kept_ SIGNALBOX_GUARDED_BY(mutex_);
};

}  // namespace signalbox
