#include "signalbox/store/rocksdb/tile_merge_operator.h"

#include <exception>
#include <vector>

#include "signalbox/store/rocksdb/key_layout.h"
#include "signalbox/store/tile_value.h"

namespace signalbox {

namespace {}  // namespace

bool TileMergeOperator::FullMergeV2(const MergeOperationInput& in,
                                    MergeOperationOutput* out) const {
  std::vector<std::string_view> operands;
  operands.reserve(in.operand_list.size() + 1);
  if (in.existing_value) operands.push_back(in.existing_value->ToStringView());
  for (const rocksdb::Slice& op : in.operand_list) operands.push_back(op.ToStringView());
  return merge(in.key.ToStringView(), operands, &out->new_value);
}

bool TileMergeOperator::PartialMergeMulti(const rocksdb::Slice& key,
                                          const std::deque<rocksdb::Slice>& operand_list,
                                          std::string* new_value, rocksdb::Logger*) const {
  std::vector<std::string_view> operands;
  operands.reserve(operand_list.size());
  for (const rocksdb::Slice& op : operand_list) operands.push_back(op.ToStringView());
  return merge(key.ToStringView(), operands, new_value);
}

bool TileMergeOperator::merge(std::string_view key, std::span<const std::string_view> operands,
                              std::string* out) const {
  try {
    *out = merge_tile_values(rocksdb_keys::parse_tile_key(key).kind, operands, merger_);
    return true;
  } catch (const std::exception&) {
    return false;  // RocksDB reports a corruption for this key
  }
}

}  // namespace signalbox
