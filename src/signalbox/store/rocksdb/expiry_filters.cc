#include "signalbox/store/rocksdb/expiry_filters.h"

#include <optional>
#include <vector>

#include "signalbox/common/error.h"
#include "signalbox/store/rocksdb/key_layout.h"
#include "signalbox/store/tile_value.h"

namespace signalbox {

namespace {}  // namespace

bool EventExpiryFilter::Filter(int, const rocksdb::Slice& key, const rocksdb::Slice&, std::string*,
                               bool*) const {
  if (!rocksdb_keys::is_event_key(key.ToStringView())) return false;
  const TimeMs through = expired_through_.load(std::memory_order_acquire);
  return rocksdb_keys::parse_event_key(key.ToStringView()).ts <= through;
}

bool EventIdExpiryFilter::Filter(int, const rocksdb::Slice&, const rocksdb::Slice& value,
                                 std::string*, bool*) const {
  const std::optional<TimeMs> ts = rocksdb_keys::parse_event_id_value(value.ToStringView());
  if (!ts) return false;
  return *ts <= ids_expired_through_.load(std::memory_order_acquire);
}

void SharedRetentionPolicy::set(const RetentionPolicy& policy) {
  auto copy = std::make_shared<const RetentionPolicy>(policy);
  MutexLock lock(mutex_);
  policy_ = std::move(copy);
}

std::shared_ptr<const RetentionPolicy> SharedRetentionPolicy::get() const {
  MutexLock lock(mutex_);
  return policy_;
}

rocksdb::CompactionFilter::Decision TileExpiryFilter::FilterV2(int, const rocksdb::Slice& key,
                                                               ValueType type,
                                                               const rocksdb::Slice& value,
                                                               std::string* new_value,
                                                               std::string*) const {
  if (type != ValueType::kValue && type != ValueType::kMergeOperand) return Decision::kKeep;
  const std::shared_ptr<const RetentionPolicy> policy = policy_.get();
  const TimeMs through = expired_through_.load(std::memory_order_acquire);
  if (!policy || through == kBeginningOfTime) return Decision::kKeep;
  TileKey tile;
  std::vector<TilePart> parts;
  try {
    tile = rocksdb_keys::parse_tile_key(key.ToStringView());
    if (tile.kind == TileKind::kHour && tile.start < floor_day(through) - kDayMs)
      return Decision::kRemove;
    parse_tile_parts(value.ToStringView(), parts);
  } catch (const CorruptionError&) {
    return Decision::kKeep;
  }
  // A state's hours are needed from its longest exact window before today on (yesterday on
  // for one without): older ones are answered from raw events (query_planner.cc).
  std::size_t kept = 0;
  for (const TilePart& part : parts) {
    auto it = policy->states.find(part.state_id);
    const bool drop = it == policy->states.end() ||
                      (tile.kind == TileKind::kDay && !it->second.keep_base &&
                       tile.start < floor_day(through - it->second.longest_window) - kDayMs) ||
                      (tile.kind == TileKind::kHour &&
                       tile.start < it->second.hours_from(through, policy->retention));
    if (!drop) parts[kept++] = part;
  }
  if (kept == parts.size()) return Decision::kKeep;
  if (kept == 0) return Decision::kRemove;
  new_value->clear();
  for (std::size_t i = 0; i < kept; ++i)
    append_tile_part(*new_value, parts[i].state_id, parts[i].bytes);
  return Decision::kChangeValue;
}

}  // namespace signalbox
