// fold_day_tile on its own: which parts of a day tile move to the base tile, with what
// covered-through time, and what stays. Values are read back part by part here.

#include <gtest/gtest.h>

#include <charconv>
#include <map>
#include <string>
#include <vector>

#include "signalbox/common/bytes.h"
#include "signalbox/common/error.h"
#include "signalbox/store/rocksdb/base_fold.h"
#include "signalbox/store/rocksdb/key_layout.h"
#include "signalbox/store/rocksdb/tile_merge_operator.h"
#include "signalbox/store/tile_value.h"

namespace signalbox::testing {
namespace {

constexpr TimeMs kDayStart = 1710374400000;   // 2024-03-14T00:00:00Z
constexpr TimeMs kDayLastMs = 1710460799999;  // 2024-03-14T23:59:59.999Z

// States 1 and 2 keep a base, 3 is window-only; 9 is unknown to the policy.
RetentionPolicy policy() {
  RetentionPolicy p;
  p.states[1] = StatePolicy{kDayMs, true};
  p.states[2] = StatePolicy{0, true};
  p.states[3] = StatePolicy{30 * kDayMs, false};
  return p;
}

std::string tile(const std::vector<std::pair<std::uint64_t, std::string>>& parts) {
  std::string value;
  for (const auto& [state, bytes] : parts) append_tile_part(value, state, bytes);
  return value;
}

std::vector<std::pair<std::uint64_t, std::string>> parts_of(std::string_view value) {
  std::vector<TilePart> parts;
  parse_tile_parts(value, parts);
  std::vector<std::pair<std::uint64_t, std::string>> out;
  for (const TilePart& p : parts) out.emplace_back(p.state_id, std::string(p.bytes));
  return out;
}

// A base part: the covered-through time, then the state.
std::string base_part(TimeMs covered, std::string_view state) {
  std::string bytes;
  ByteWriter(bytes).time_be(covered);
  bytes.append(state);
  return bytes;
}

TEST(BaseFold, BaseKeepingStatesMoveWithTheDaysLastMillisecond) {
  const DayTileFold fold =
      fold_day_tile(kDayStart, tile({{1, "one"}, {2, "two"}, {3, "three"}, {9, "nine"}}), policy());
  const std::vector<std::pair<std::uint64_t, std::string>> to_base = {
      {1, base_part(kDayLastMs, "one")}, {2, base_part(kDayLastMs, "two")}};
  EXPECT_EQ(parts_of(fold.to_base), to_base);
  const std::vector<std::pair<std::uint64_t, std::string>> kept = {{3, "three"}, {9, "nine"}};
  EXPECT_EQ(parts_of(fold.kept), kept);
}

TEST(BaseFold, ATileOfWindowOnlyStatesStaysWhole) {
  const std::string value = tile({{3, "three"}, {9, "nine"}});
  const DayTileFold fold = fold_day_tile(kDayStart, value, policy());
  EXPECT_TRUE(fold.to_base.empty());
  EXPECT_EQ(fold.kept, value);
}

TEST(BaseFold, ATileOfBaseKeepingStatesMovesWhole) {
  const DayTileFold fold = fold_day_tile(kDayStart, tile({{2, ""}}), policy());
  EXPECT_TRUE(fold.kept.empty());
  const std::vector<std::pair<std::uint64_t, std::string>> to_base = {
      {2, base_part(kDayLastMs, "")}};
  EXPECT_EQ(parts_of(fold.to_base), to_base);
  const DayTileFold empty = fold_day_tile(kDayStart, "", policy());
  EXPECT_TRUE(empty.to_base.empty());
  EXPECT_TRUE(empty.kept.empty());
}

TEST(BaseFold, AValueThatIsNotATileIsRefused) {
  EXPECT_THROW(fold_day_tile(kDayStart, "\x01\x02\x03", policy()), CorruptionError);
}

// Sums decimal counts.
class SumMerger final : public TileMerger {
 public:
  std::string merge(std::uint64_t, std::span<const std::string_view> operands) const override {
    long long total = 0;
    for (std::string_view op : operands) {
      long long v = 0;
      std::from_chars(op.data(), op.data() + op.size(), v);
      total += v;
    }
    return std::to_string(total);
  }
};

// What the folds of two days give once merged into an existing base tile, as expire() writes
// them: the counts add up and the base covers through the later day.
TEST(BaseFold, FoldedDaysMergeIntoTheBase) {
  SumMerger merger;
  TileMergeOperator op(merger);
  const std::string base = tile({{1, base_part(kDayStart - kDayMs - 1, "10")}});
  const DayTileFold earlier =
      fold_day_tile(kDayStart - kDayMs, tile({{1, "3"}, {3, "100"}}), policy());
  const DayTileFold later = fold_day_tile(kDayStart, tile({{1, "4"}, {2, "5"}}), policy());
  const std::vector<std::string_view> operands = {base, earlier.to_base, later.to_base};
  std::string merged;
  ASSERT_TRUE(op.merge(rocksdb_keys::tile_key(TileKey{7, TileKind::kBase, 0}), operands, &merged));
  const std::vector<std::pair<std::uint64_t, std::string>> want = {{1, base_part(kDayLastMs, "17")},
                                                                   {2, base_part(kDayLastMs, "5")}};
  EXPECT_EQ(parts_of(merged), want);
}

}  // namespace
}  // namespace signalbox::testing
