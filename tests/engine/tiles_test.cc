#include <gtest/gtest.h>

#include "signalbox/store/tiles.h"

namespace signalbox {
namespace {

// Every millisecond of [from, to] is covered exactly once, and nothing outside it.
void expect_exact_cover(TimeMs from, TimeMs to) {
  auto pieces = cover_interval(from, to);
  TimeMs cursor = from;
  for (const auto& p : pieces) {
    ASSERT_EQ(p.from, cursor) << "gap or overlap before a piece";
    if (p.kind == CoverPiece::Kind::kRaw) {
      ASSERT_LE(p.from, p.to);
      cursor = p.to + 1;
    } else {
      TimeMs len = tile_length(p.tile);
      ASSERT_EQ(p.from % len, 0);
      ASSERT_EQ(p.to % len, 0);
      ASSERT_LT(p.from, p.to);
      cursor = p.to;
    }
  }
  ASSERT_EQ(cursor, to + 1);
}

TEST(CoverInterval, CoversExactlyWithWholeTilesAndRawEnds) {
  const TimeMs t0 = 1704067200000;
  expect_exact_cover(t0, t0);
  expect_exact_cover(t0 + 1, t0 + kHourMs - 2);
  expect_exact_cover(t0 - 5, t0 + 5);
  expect_exact_cover(t0 + 123456, t0 + 3 * kDayMs + 987654);
  expect_exact_cover(t0, t0 + 90 * kDayMs - 1);
  expect_exact_cover(t0 + kDayMs - 1, t0 + kDayMs);
  std::uint64_t x = 88172645463325252ULL;
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    TimeMs from = t0 + static_cast<TimeMs>(x % (10 * kDayMs));
    TimeMs to = from + static_cast<TimeMs>((x >> 20) % (5 * kDayMs));
    expect_exact_cover(from, to);
  }
}

TEST(CoverInterval, UsesDayTilesForWholeDays) {
  const TimeMs t0 = 1704067200000;
  auto pieces = cover_interval(t0 + 30 * kMinuteMs, t0 + 10 * kDayMs + 90 * kMinuteMs);
  int day_pieces = 0, raw = 0;
  for (const auto& p : pieces) {
    if (p.kind == CoverPiece::Kind::kRaw)
      ++raw;
    else if (p.tile == TileKind::kDay)
      ++day_pieces;
  }
  EXPECT_EQ(day_pieces, 1);
  EXPECT_EQ(raw, 2);
  EXPECT_TRUE(cover_interval(t0 + 1, t0).empty());
}

}  // namespace
}  // namespace signalbox
