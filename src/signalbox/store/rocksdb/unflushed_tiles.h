#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "signalbox/common/mutex.h"
#include "signalbox/common/time.h"
#include "signalbox/store/store.h"

namespace signalbox {

// The write-behind part of the RocksDB store's tiles: tile values that commits have made
// durable in the tile journal (tile_journal.h) but not yet merged into the `tiles` column
// family. A commit then costs one journal record instead of a merge operand per tile; a flush
// merges everything gathered, in memory, into one operand per tile and writes those together
// with the deletion of the journal records they came from, in one atomic write. A tile that
// many commits touch (a heavy user's current day and hour) thus reaches RocksDB once per
// flush rather than once per commit.
//
// What a snapshot must see: the `tiles` family as of its sequence number plus exactly the
// journaled values not yet flushed at that sequence number. Each value carries the sequence
// number of the commit that wrote it, and a flushed generation that of its flush: a view of
// snapshot S takes the values written at or before S from the generations not flushed at S.
// The view is taken together with the RocksDB snapshot (view() calls `take_snapshot` under the
// lock); a write that the snapshot sees but whose effect is not noted here yet (begin_write()
// to end_write() below: the microseconds between RocksDB's write returning and the values
// being added or the generation marked flushed) makes view() wait for it. Flushed generations
// are kept while any view waits (it may be older than the flush). So a value is never seen
// twice (flushed and unflushed) nor missed.
//
// The writer side (begin_write, add, seal, flushed, end_write) is called by one thread at a
// time: the store's single writer. Views may be taken and read from any thread at once;
// everything is guarded by one mutex, held for copying pointers only, never for merging.
class UnflushedTiles {
 public:
  // One tile's values, oldest first, grouped by the generation each is in (a flush merges a
  // generation's values into one operand: a reader that merges each group first and then the
  // groups, as the flushed operands are merged, gets the same bytes, floating point included,
  // before and after the flush). They stay valid while a view of them lives.
  struct Tile {
    TileKey key;
    std::vector<std::vector<std::shared_ptr<const std::string>>> groups;
  };

  // Everything one flush merges and writes: every tile touched by the journal records
  // `batches`.
  struct Generation {
    // By user, then by (kind, start): each tile's values with the sequence number of the
    // commit that wrote each.
    struct Value {
      std::uint64_t sequence = 0;
      std::shared_ptr<const std::string> bytes;
    };
    using UserTiles = std::map<std::pair<TileKind, TimeMs>, std::vector<Value>>;
    std::unordered_map<std::uint64_t, UserTiles> users;
    std::vector<std::uint64_t> batches;  // the journal records gathered, ascending
    std::size_t bytes = 0;
    std::size_t most_values_per_tile = 0;
    // Set under the owner's lock: no value is added once sealed; flushed_at is the sequence
    // number of the write that merged it into the tiles family.
    bool sealed = false;
    std::uint64_t flushed_at = kNotFlushed;
    static constexpr std::uint64_t kNotFlushed = ~std::uint64_t{0};
  };

  // What one snapshot sees: immutable once taken. Thread-safe to read.
  class View {
   public:
    View() = default;
    // The user's unflushed tiles of `kind` with from <= start <= to, by start.
    std::vector<Tile> tiles(std::uint64_t user, TileKind kind, TimeMs from, TimeMs to) const;
    // Whether any of the user's tiles has an unflushed value.
    bool holds_user(std::uint64_t user) const;
    bool empty() const { return generations_.empty(); }

   private:
    friend class UnflushedTiles;
    const UnflushedTiles* owner_ = nullptr;
    std::vector<std::shared_ptr<const Generation>> generations_;
    std::uint64_t sequence_ = 0;  // the snapshot's: later values are not in it
  };

  // Takes a view consistent with the snapshot `take_snapshot` takes (it returns the
  // snapshot's sequence number), waiting for a write it can see to be applied here first.
  View view(const std::function<std::uint64_t()>& take_snapshot);

  // ---- the writer ----

  // A write that changes what snapshots must see from here (a commit with a journal record,
  // a flush) is about to be applied; `latest_sequence` is RocksDB's before it. end_write()
  // must follow, whether the write succeeded or not.
  void begin_write(std::uint64_t latest_sequence);
  void end_write();
  // Adds the tile values of journal record `batch`, committed since begin_write() by the
  // write whose last sequence number is `sequence`. `batch` grows from call to call.
  void add(std::uint64_t batch, std::uint64_t sequence,
           std::vector<std::pair<TileKey, std::string>> tiles);
  // The generation to flush: the oldest one sealed and not flushed yet (a flush whose write
  // failed is tried again), else the one gathering, sealed now; null when there is nothing.
  std::shared_ptr<const Generation> seal();
  // `generation` was written to the tiles family (since begin_write()) by the write whose last
  // sequence number is `sequence`: snapshots from then on no longer see it here.
  void flushed(const std::shared_ptr<const Generation>& generation, std::uint64_t sequence);

  // Whether the generation gathering now holds at least `bytes`, or `values_per_tile` values
  // on one tile (the writer's flush policy).
  bool gathered(std::size_t bytes, std::size_t values_per_tile) const;
  // Bytes of every value not flushed (for metrics). Thread-safe.
  std::size_t bytes() const;

 private:
  mutable Mutex mutex_;
  std::condition_variable_any applied_;  // notified by end_write()
  // Drops the flushed generations no view can need any more: all, when none is waiting.
  void drop_flushed() SIGNALBOX_REQUIRES(mutex_);
  // The one gathering values, or null.
  Generation* gathering() const SIGNALBOX_REQUIRES(mutex_);

  std::optional<std::uint64_t> writing_from_ SIGNALBOX_GUARDED_BY(mutex_);
  int views_waiting_ SIGNALBOX_GUARDED_BY(mutex_) = 0;
  // Oldest first: flushed ones still kept, sealed ones being flushed, the one gathering.
  std::vector<std::shared_ptr<Generation>> generations_ SIGNALBOX_GUARDED_BY(mutex_);
  std::size_t bytes_ SIGNALBOX_GUARDED_BY(mutex_) = 0;
};

}  // namespace signalbox
