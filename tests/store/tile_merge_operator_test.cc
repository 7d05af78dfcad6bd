// TileMergeOperator on its own, called as RocksDB calls it. The states here merge by
// concatenation, which is associative but not commutative: a merge that reorders operands or
// drops one gives a different string, and the expected value is the test's own fold of the
// deltas in commit order.

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "signalbox/common/bytes.h"
#include "signalbox/store/rocksdb/key_layout.h"
#include "signalbox/store/rocksdb/tile_merge_operator.h"
#include "signalbox/store/tile_value.h"

namespace signalbox::testing {
namespace {

constexpr TimeMs kT0 = 1704067200000;  // 2024-01-01T00:00:00Z

class ConcatMerger final : public TileMerger {
 public:
  std::string merge(std::uint64_t, std::span<const std::string_view> operands) const override {
    std::string out;
    for (std::string_view op : operands) out.append(op);
    return out;
  }
};

// One state's part of a delta: for a base tile, the time it covers through and the state.
struct Part {
  TimeMs covered = 0;
  std::string state;
};
using Delta = std::map<std::uint64_t, Part>;  // by state id

std::string encode(TileKind kind, const Delta& delta) {
  std::string value;
  for (const auto& [state_id, part] : delta) {
    std::string bytes;
    if (kind == TileKind::kBase) ByteWriter(bytes).time_be(part.covered);
    bytes.append(part.state);
    append_tile_part(value, state_id, bytes);
  }
  return value;
}

Delta decode(TileKind kind, std::string_view value) {
  std::vector<TilePart> parts;
  parse_tile_parts(value, parts);
  Delta delta;
  for (const TilePart& p : parts) {
    ByteReader r(p.bytes);
    Part part;
    if (kind == TileKind::kBase) part.covered = r.time_be();
    part.state = std::string(r.rest());
    EXPECT_FALSE(delta.contains(p.state_id)) << "state " << p.state_id << " twice in one value";
    delta[p.state_id] = part;
  }
  return delta;
}

// The fold the operator must produce: per state, the concatenation in order and the latest
// covered-through time.
Delta fold(const std::vector<Delta>& deltas) {
  Delta out;
  for (const Delta& d : deltas) {
    for (const auto& [state_id, part] : d) {
      auto [it, fresh] = out.try_emplace(state_id, part);
      if (fresh) continue;
      it->second.state += part.state;
      it->second.covered = std::max(it->second.covered, part.covered);
    }
  }
  return out;
}

// `count` deltas over states 1..5, each touching a random non-empty subset, each state's
// part a token naming the delta, so that the fold says which deltas went in and in what order.
std::vector<Delta> random_deltas(std::mt19937_64& rng, int count) {
  std::vector<Delta> deltas(count);
  for (int i = 0; i < count; ++i) {
    for (std::uint64_t state = 1; state <= 5; ++state) {
      if (rng() % 2 == 0 && !(state == 5 && deltas[i].empty())) continue;
      Part part;
      part.covered = kT0 + static_cast<TimeMs>(rng() % 1000) * kDayMs;
      part.state = "<" + std::to_string(i) + ":" + std::to_string(state) + ">";
      deltas[i][state] = part;
    }
  }
  return deltas;
}

std::string key_of(TileKind kind) {
  return rocksdb_keys::tile_key(TileKey{42, kind, kind == TileKind::kBase ? 0 : kT0});
}

bool full_merge(const TileMergeOperator& op, const std::string& key, const std::string* existing,
                const std::vector<std::string>& operands, std::string* out) {
  std::vector<rocksdb::Slice> slices(operands.begin(), operands.end());
  rocksdb::Slice key_slice(key);
  rocksdb::Slice existing_slice;
  if (existing) existing_slice = rocksdb::Slice(*existing);
  rocksdb::Slice existing_operand(nullptr,
                                  0);  // what RocksDB passes: set only to point at an input
  rocksdb::MergeOperator::MergeOperationInput in(key_slice, existing ? &existing_slice : nullptr,
                                                 slices, nullptr);
  rocksdb::MergeOperator::MergeOperationOutput result(*out, existing_operand);
  if (!op.FullMergeV2(in, &result)) return false;
  if (existing_operand.data() != nullptr) *out = existing_operand.ToString();
  return true;
}

bool partial_merge(const TileMergeOperator& op, const std::string& key,
                   const std::vector<std::string>& operands, std::string* out) {
  std::deque<rocksdb::Slice> slices(operands.begin(), operands.end());
  return op.PartialMergeMulti(rocksdb::Slice(key), slices, out, nullptr);
}

std::vector<std::string> encode_all(TileKind kind, const std::vector<Delta>& deltas) {
  std::vector<std::string> out;
  for (const Delta& d : deltas) out.push_back(encode(kind, d));
  return out;
}

// The merged value read back against the test's own fold (covered-through times only in a
// base tile: other kinds carry none).
void expect_fold(TileKind kind, std::string_view merged, const std::vector<Delta>& deltas,
                 int round) {
  const Delta got = decode(kind, merged);
  const Delta want = fold(deltas);
  ASSERT_EQ(got.size(), want.size()) << "round " << round;
  for (const auto& [state_id, part] : want) {
    ASSERT_TRUE(got.contains(state_id)) << "state " << state_id << " lost, round " << round;
    EXPECT_EQ(got.at(state_id).state, part.state) << "state " << state_id << ", round " << round;
    if (kind == TileKind::kBase) {
      EXPECT_EQ(got.at(state_id).covered, part.covered)
          << "state " << state_id << ", round " << round;
    }
  }
}

class TileMergeOperatorTest : public ::testing::TestWithParam<TileKind> {
 protected:
  ConcatMerger merger_;
  TileMergeOperator op_{merger_};
};

TEST_P(TileMergeOperatorTest, FullMergeOfOperandsIsTheirFoldInOrder) {
  const TileKind kind = GetParam();
  std::mt19937_64 rng(7);
  for (int round = 0; round < 50; ++round) {
    const std::vector<Delta> deltas = random_deltas(rng, 1 + static_cast<int>(rng() % 8));
    const std::vector<std::string> operands = encode_all(kind, deltas);
    std::string merged;
    ASSERT_TRUE(full_merge(op_, key_of(kind), nullptr, operands, &merged));
    expect_fold(kind, merged, deltas, round);
  }
}

TEST_P(TileMergeOperatorTest, ExistingValueComesBeforeTheOperands) {
  const TileKind kind = GetParam();
  std::mt19937_64 rng(11);
  const std::vector<Delta> deltas = random_deltas(rng, 6);
  const std::vector<std::string> operands = encode_all(kind, deltas);
  const std::string existing = operands[0];
  std::string merged;
  ASSERT_TRUE(
      full_merge(op_, key_of(kind), &existing, {operands.begin() + 1, operands.end()}, &merged));
  expect_fold(kind, merged, deltas, 0);
}

// RocksDB merges some operands at write time (max_successive_merges), some in compaction and
// the rest when read, each time a contiguous run: any grouping must give the fold of all.
TEST_P(TileMergeOperatorTest, AnyGroupingOfPartialMergesGivesTheSameFold) {
  const TileKind kind = GetParam();
  std::mt19937_64 rng(13);
  for (int round = 0; round < 100; ++round) {
    const std::vector<Delta> deltas = random_deltas(rng, 2 + static_cast<int>(rng() % 10));
    std::vector<std::string> operands = encode_all(kind, deltas);
    // Two levels of grouping: partial merges of runs, then of runs of those.
    for (int level = 0; level < 2 && operands.size() > 1; ++level) {
      std::vector<std::string> grouped;
      for (std::size_t begin = 0; begin < operands.size();) {
        const std::size_t length = std::min<std::size_t>(1 + rng() % 4, operands.size() - begin);
        if (length == 1) {
          grouped.push_back(operands[begin]);
        } else {
          std::string merged;
          ASSERT_TRUE(partial_merge(op_, key_of(kind),
                                    {operands.begin() + begin, operands.begin() + begin + length},
                                    &merged));
          grouped.push_back(merged);
        }
        begin += length;
      }
      operands = std::move(grouped);
    }
    std::string existing = operands.front();
    std::string merged;
    ASSERT_TRUE(
        full_merge(op_, key_of(kind), &existing, {operands.begin() + 1, operands.end()}, &merged));
    expect_fold(kind, merged, deltas, round);
  }
}

TEST_P(TileMergeOperatorTest, OperandThatIsNotATileValueFailsTheMerge) {
  const TileKind kind = GetParam();
  Delta d;
  d[1] = Part{kT0, "x"};
  // A part claiming 100 bytes where 2 follow.
  std::string bad;
  ByteWriter w(bad);
  w.fixed64_be(1);
  w.varint(100);
  w.raw("ab");
  std::string merged;
  EXPECT_FALSE(full_merge(op_, key_of(kind), nullptr, {encode(kind, d), bad}, &merged));
  EXPECT_FALSE(partial_merge(op_, key_of(kind), {bad, encode(kind, d)}, &merged));
}

INSTANTIATE_TEST_SUITE_P(Kinds, TileMergeOperatorTest,
                         ::testing::Values(TileKind::kBase, TileKind::kDay, TileKind::kHour),
                         [](const ::testing::TestParamInfo<TileKind>& info) {
                           switch (info.param) {
                             case TileKind::kBase:
                               return std::string("Base");
                             case TileKind::kDay:
                               return std::string("Day");
                             case TileKind::kHour:
                               return std::string("Hour");
                           }
                           return std::string();
                         });

TEST(TileMergeOperator, KeyThatIsNotATileKeyFailsTheMerge) {
  ConcatMerger merger;
  TileMergeOperator op(merger);
  Delta d;
  d[1] = Part{0, "x"};
  std::string merged;
  EXPECT_FALSE(full_merge(op, "short", nullptr,
                          {encode(TileKind::kDay, d), encode(TileKind::kDay, d)}, &merged));
  std::string unknown_kind = rocksdb_keys::tile_key(TileKey{1, TileKind::kDay, kT0});
  unknown_kind[8] = 7;
  EXPECT_FALSE(partial_merge(op, unknown_kind,
                             {encode(TileKind::kDay, d), encode(TileKind::kDay, d)}, &merged));
}

}  // namespace
}  // namespace signalbox::testing
