#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>

#include <rocksdb/types.h>

namespace rocksdb {
class DB;
}

namespace signalbox {

// A version of each user's settled tiles, so that a query can find the merge of a run of them
// it made before (the span cache) by user and version instead of hashing every byte of the
// run. A user's tiles are *settled* in a snapshot when they lie wholly before the day of the
// snapshot's stream time (its head day): base tiles, and day and hour tiles of earlier days.
//
// The version is the sequence number of the last write that changed some settled tile of the
// user, or could have: every write of a base tile, and every write of a day or hour tile of a
// day before the head day of the write's own stream time (a late event, a fold, a bootstrap).
// A write to the head day's tiles, which is what nearly every live event is, leaves it alone.
// That is exact: stream time only rises and a commit stores its tiles with its stream time,
// so every write a tile of day d received while d was the head day precedes any snapshot whose
// head day is later. Two snapshots that give a user the same version thus hold the same tiles
// of that user among those settled in both (the later one, if its head day is later, has more
// settled tiles; and the same values, not always the same bytes: a compaction may regroup
// merge operands, which can move the last bit of a floating-point sum).
//
// Users share slots of a fixed table by hash, so the memory does not grow with users; a write
// to one user of a slot moves the version of all of them, which costs only cache misses.
//
// Contract: one writer at a time (the store's commit(), expire() and continue_fold() do not
// overlap), which calls before_write() with the users whose settled tiles a write may change
// before the write, and after_write() with the same users and the database's latest sequence
// number once the write returned (also after a write that failed): a Writing does both. start()
// once, by the writer, when the store is open and before its first write. Any thread may call at()
// at any time. Until start() (a read-only store, which is not the writer), at() answers nothing.
//
// Why at(user, s) is a version of the user's settled tiles in a snapshot at sequence number
// s, when it answers (the reasoning of visible_time_cache.h): a write W that changes them
// marked the slot before it got its sequence number w. If w <= s, W was published before the
// snapshot was taken, and the snapshot's at() reads the slot after that, so it finds the mark,
// or a value set after W returned (>= w); a mark answers nothing, and so does a value above
// s. A value v <= s therefore means that every such write up to s had returned, the last of
// them at v, and none after v is in the snapshot.
class TileVersions {
 public:
  explicit TileVersions(std::size_t slots = std::size_t{1} << 16);

  void start(rocksdb::SequenceNumber latest);
  void before_write(std::span<const std::uint64_t> users);
  void after_write(std::span<const std::uint64_t> users, rocksdb::SequenceNumber latest);

  // The version of `user`'s settled tiles in a snapshot at `sequence`, or nullopt when it
  // cannot tell (a write of them in flight or after the snapshot, or never started).
  std::optional<std::uint64_t> at(std::uint64_t user, rocksdb::SequenceNumber sequence) const;

  // One write of the users' settled tiles, for as long as it lives: before_write() now,
  // after_write() with `db`'s latest sequence number when it ends, also by an exception (a
  // write that failed changed nothing, so that number is a version as good as any).
  class Writing {
   public:
    Writing(TileVersions& versions, std::span<const std::uint64_t> users, rocksdb::DB& db);
    ~Writing();
    Writing(const Writing&) = delete;
    Writing& operator=(const Writing&) = delete;

   private:
    TileVersions& versions_;
    std::span<const std::uint64_t> users_;
    rocksdb::DB& db_;
  };

 private:
  static constexpr std::uint64_t kUnknown = std::numeric_limits<std::uint64_t>::max();

  std::atomic<std::uint64_t>& slot(std::uint64_t user) const;

  const std::size_t mask_;
  const std::unique_ptr<std::atomic<std::uint64_t>[]> slots_;
};

}  // namespace signalbox
