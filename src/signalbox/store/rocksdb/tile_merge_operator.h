#pragma once

#include <span>
#include <string>
#include <string_view>

#include <rocksdb/merge_operator.h>

#include "signalbox/store/store.h"

namespace signalbox {

// The merge operator of the `tiles` column family. A tile's value and each of its merge
// operands (one per commit that touched the tile) are tile values (tile_value.h); merging
// folds them state by state through `merger`, oldest first, and copies a state found in one
// operand only as it is. A base tile's parts keep the latest covered-through time. Because
// every state is a commutative monoid, any grouping of the operands (RocksDB merges some at
// write time, some in compaction, the rest at read time) gives the fold of all of them.
//
// A value that is not a tile value, or a key that is not a tile key, makes the merge fail,
// which RocksDB reports as a corruption of that key. Thread-safe: it keeps no state of its
// own, and `merger` (which must outlive it) is only called through its const interface.
class TileMergeOperator final : public rocksdb::MergeOperator {
 public:
  explicit TileMergeOperator(const TileMerger& merger) : merger_(merger) {}

  bool FullMergeV2(const MergeOperationInput& in, MergeOperationOutput* out) const override;
  bool PartialMergeMulti(const rocksdb::Slice& key, const std::deque<rocksdb::Slice>& operand_list,
                         std::string* new_value, rocksdb::Logger* logger) const override;
  const char* Name() const override { return "signalbox.TileMerge2"; }

  // Merges `operands` (oldest first) of the tile at `key` into `out`; false when the key is
  // not a tile key or an operand not a tile value.
  bool merge(std::string_view key, std::span<const std::string_view> operands,
             std::string* out) const;

 private:
  const TileMerger& merger_;
};

}  // namespace signalbox
