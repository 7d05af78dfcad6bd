#include "signalbox/store/rocksdb/tile_versions.h"

#include <bit>

#include <rocksdb/db.h>

namespace signalbox {

TileVersions::TileVersions(std::size_t slots)
    : mask_(std::bit_ceil(slots) - 1),
      slots_(std::make_unique<std::atomic<std::uint64_t>[]>(mask_ + 1)) {
  for (std::size_t i = 0; i <= mask_; ++i) slots_[i].store(kUnknown, std::memory_order_relaxed);
}

std::atomic<std::uint64_t>& TileVersions::slot(std::uint64_t user) const {
  // Ids may be sequential or share low bits: mixed first (the finalizer of splitmix64).
  std::uint64_t h = user;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return slots_[h & mask_];
}

void TileVersions::start(rocksdb::SequenceNumber latest) {
  for (std::size_t i = 0; i <= mask_; ++i) slots_[i].store(latest, std::memory_order_seq_cst);
}

void TileVersions::before_write(std::span<const std::uint64_t> users) {
  for (std::uint64_t user : users) slot(user).store(kUnknown, std::memory_order_seq_cst);
}

void TileVersions::after_write(std::span<const std::uint64_t> users,
                               rocksdb::SequenceNumber latest) {
  for (std::uint64_t user : users) slot(user).store(latest, std::memory_order_seq_cst);
}

std::optional<std::uint64_t> TileVersions::at(std::uint64_t user,
                                              rocksdb::SequenceNumber sequence) const {
  const std::uint64_t version = slot(user).load(std::memory_order_seq_cst);
  if (version > sequence) return std::nullopt;  // kUnknown included
  return version;
}

TileVersions::Writing::Writing(TileVersions& versions, std::span<const std::uint64_t> users,
                               rocksdb::DB& db)
    : versions_(versions), users_(users), db_(db) {
  versions_.before_write(users_);
}

TileVersions::Writing::~Writing() { versions_.after_write(users_, db_.GetLatestSequenceNumber()); }

}  // namespace signalbox
