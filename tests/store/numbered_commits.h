#pragma once

// Commits numbered 1, 2, ...: commit `i` holds one event of kUser at ts_of(i) (kT0 + i
// seconds) whose body is that ts, and raises stream time to it. What a snapshot can read then
// tells which commits it holds: its newest event is the newest commit, whose ts is the stream
// time it must report. Shared by the RocksDB snapshot tests.

#include <charconv>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "signalbox/common/time.h"
#include "signalbox/store/store.h"
#include "signalbox/store/tiles.h"

namespace signalbox::testing {

inline constexpr TimeMs kT0 = 1704067200000;  // 2024-01-01T00:00:00Z
inline constexpr std::uint64_t kUser = 7;

// A store's merger for stores whose commits carry no tile.
class NoMerger final : public TileMerger {
 public:
  std::string merge(std::uint64_t, std::span<const std::string_view>) const override { return {}; }
};

inline TimeMs ts_of(int i) { return kT0 + TimeMs{i} * 1000; }

inline CommitBatch commit_number(int i) {
  CommitBatch batch;
  const TimeMs ts = ts_of(i);
  batch.events.push_back(StoredEvent{kUser, ts, "e" + std::to_string(i), std::to_string(ts), true});
  batch.high_water = ts;
  return batch;
}

// The ts an event of commit_number() carries as its body.
inline TimeMs parse_ts(std::string_view body) {
  TimeMs ts = 0;
  std::from_chars(body.data(), body.data() + body.size(), ts);
  return ts;
}

}  // namespace signalbox::testing
