// The RocksDB store's key layout: exact bytes of each key kind (written out by hand here), round
// trips, and the orders the store relies on (a user's keys contiguous, a user's events by
// time, a user's tiles by kind then start).

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "signalbox/common/error.h"
#include "signalbox/common/hash.h"
#include "signalbox/store/rocksdb/key_layout.h"

namespace signalbox::testing {
namespace {

namespace keys = rocksdb_keys;

constexpr TimeMs kT0 = 1704067200000;  // 2024-01-01T00:00:00Z

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

// Times that cover the sign flip and both ends of the range the store uses.
const std::vector<TimeMs> kTimes = {kBeginningOfTime, -kDayMs, -1,  0,       1,
                                    kHourMs,          kT0 - 1, kT0, kT0 + 1, kT0 + 365 * kDayMs};

TEST(KeyLayout, EventKeyIsUserThenSignFlippedTimeThenId) {
  EXPECT_EQ(keys::event_key(0x0102030405060708, 0, "ab"),
            bytes({1, 2, 3, 4, 5, 6, 7, 8, 0x80, 0, 0, 0, 0, 0, 0, 0}) + "ab");
  EXPECT_EQ(keys::event_key(1, -1, ""),
            bytes({0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
  // 1704067200000 = 0x0000018CC251F400
  EXPECT_EQ(keys::event_key(0xffffffffffffffff, kT0, "x"),
            bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80, 0, 0x01, 0x8c, 0xc2, 0x51,
                   0xf4, 0}) +
                "x");
}

TEST(KeyLayout, EventKeyRoundTrips) {
  const std::vector<std::string> ids = {"", "a", "event-0001", std::string("\0\xff\x01", 3)};
  for (std::uint64_t user : {std::uint64_t{0}, std::uint64_t{7}, ~std::uint64_t{0}}) {
    for (TimeMs ts : kTimes) {
      for (const std::string& id : ids) {
        const std::string key = keys::event_key(user, ts, id);
        ASSERT_TRUE(keys::is_event_key(key));
        const keys::EventKey parsed = keys::parse_event_key(key);
        EXPECT_EQ(parsed.user, user);
        EXPECT_EQ(parsed.ts, ts);
        EXPECT_EQ(parsed.event_id, id);
        EXPECT_EQ(keys::key_user(key), user);
      }
    }
  }
}

TEST(KeyLayout, ShortEventKeyIsRefused) {
  const std::string key = keys::event_key(1, kT0, "").substr(0, keys::kEventKeyMinSize - 1);
  EXPECT_FALSE(keys::is_event_key(key));
  EXPECT_THROW(keys::parse_event_key(key), CorruptionError);
  EXPECT_THROW(keys::key_user("1234567"), CorruptionError);
}

// Byte order of a user's event keys is (ts, event_id) order, and the keys of a user sort
// together, before the next user's: a scan of one user from a time is one key range.
TEST(KeyLayout, EventKeysSortByUserThenTimeThenId) {
  std::mt19937_64 rng(3);
  std::vector<std::tuple<std::uint64_t, TimeMs, std::string>> events;
  for (int i = 0; i < 2000; ++i) {
    const std::uint64_t user = rng() % 3 == 0 ? ~std::uint64_t{0} - rng() % 2 : rng() % 4;
    const TimeMs ts = kTimes[rng() % kTimes.size()] + static_cast<TimeMs>(rng() % 5) - 2;
    events.emplace_back(user, ts, "e" + std::to_string(rng() % 50));
  }
  std::vector<std::string> by_bytes;
  for (const auto& e : events)
    by_bytes.push_back(keys::event_key(std::get<0>(e), std::get<1>(e), std::get<2>(e)));
  std::sort(by_bytes.begin(), by_bytes.end());
  std::sort(events.begin(), events.end());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const keys::EventKey parsed = keys::parse_event_key(by_bytes[i]);
    ASSERT_EQ(std::make_tuple(parsed.user, parsed.ts, std::string(parsed.event_id)), events[i])
        << "position " << i;
  }
}

// event_key(user, from, "") is where a scan of the user's events from `from` starts: every
// event of the user at or after `from` sorts at or after it, every earlier one before it.
TEST(KeyLayout, SeekTargetOfATimeSplitsAUsersEvents) {
  for (TimeMs from : kTimes) {
    const std::string start = keys::event_key(5, from, "");
    for (TimeMs ts : kTimes) {
      const std::string key = keys::event_key(5, ts, "some-id");
      if (ts >= from) {
        EXPECT_GE(key, start) << ts << " from " << from;
      } else {
        EXPECT_LT(key, start) << ts << " from " << from;
      }
      EXPECT_TRUE(key.starts_with(keys::user_prefix(5)));
    }
  }
}

TEST(KeyLayout, EventIdKeyIsUserThenSeededHashOfTheId) {
  // The seed is part of the stored format: the id records of existing stores are keyed by it.
  const std::uint64_t hash = hash64("order-17", 0x5167'6e61'6c62'6f78);
  EXPECT_EQ(keys::event_id_hash("order-17"), hash);
  std::string want = bytes({0, 0, 0, 0, 0, 0, 0, 9});
  for (int shift = 56; shift >= 0; shift -= 8) want.push_back(static_cast<char>(hash >> shift));
  const std::string key = keys::event_id_key(9, "order-17");
  EXPECT_EQ(key, want);
  const keys::EventIdKey parsed = keys::parse_event_id_key(key);
  EXPECT_EQ(parsed.user, 9u);
  EXPECT_EQ(parsed.id_hash, hash);
  EXPECT_EQ(keys::key_user(key), 9u);
  EXPECT_NE(keys::event_id_key(9, "order-18"), key);
  EXPECT_NE(keys::event_id_key(10, "order-17"), key);
  EXPECT_THROW(keys::parse_event_id_key(key + "x"), CorruptionError);
}

TEST(KeyLayout, EventIdValueIsTheTimeAndOnlyATime) {
  for (TimeMs ts : kTimes) EXPECT_EQ(keys::parse_event_id_value(keys::event_id_value(ts)), ts);
  EXPECT_EQ(keys::event_id_value(0), bytes({0x80, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(keys::parse_event_id_value("1234567"), std::nullopt);
  EXPECT_EQ(keys::parse_event_id_value("123456789"), std::nullopt);
}

TEST(KeyLayout, AKeptFoldIndexRoundTripsInChunksThatSortInOrder) {
  const std::vector<std::pair<std::uint64_t, TimeMs>> users = {
      {1, kT0}, {0x0102030405060708, -kT0}, {~std::uint64_t{0}, 0}};
  const std::string value = keys::fold_index_value(users);
  EXPECT_EQ(value.size(), 48u);
  EXPECT_EQ(value.substr(16, 8), bytes({1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(keys::parse_fold_index_value(value), users);
  EXPECT_TRUE(keys::parse_fold_index_value("").empty());
  EXPECT_THROW(keys::parse_fold_index_value(value.substr(1)), CorruptionError);
  EXPECT_LT(keys::fold_index_key(1), keys::fold_index_key(256));
  EXPECT_TRUE(keys::fold_index_key(7).starts_with(keys::kFoldIndexPrefix));
  EXPECT_EQ(keys::parse_sequence_value(keys::sequence_value(0x0102030405060708)),
            0x0102030405060708u);
  EXPECT_THROW(keys::parse_sequence_value("1234567"), CorruptionError);
}

TEST(KeyLayout, TileKeyIsUserThenKindThenStart) {
  EXPECT_EQ(keys::tile_key(TileKey{0x0102030405060708, TileKind::kHour, 0}),
            bytes({1, 2, 3, 4, 5, 6, 7, 8, 2, 0x80, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(keys::tile_key(TileKey{3, TileKind::kBase, 0}),
            bytes({0, 0, 0, 0, 0, 0, 0, 3, 0, 0x80, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(keys::tile_key(TileKey{3, TileKind::kDay, kT0}),
            bytes({0, 0, 0, 0, 0, 0, 0, 3, 1, 0x80, 0, 0x01, 0x8c, 0xc2, 0x51, 0xf4, 0}));
  EXPECT_EQ(keys::tile_kind_prefix(3, TileKind::kDay), bytes({0, 0, 0, 0, 0, 0, 0, 3, 1}));
  EXPECT_EQ(keys::tile_key(TileKey{3, TileKind::kDay, kT0}).size(), keys::kTileKeySize);
}

TEST(KeyLayout, TileKeyRoundTrips) {
  for (std::uint64_t user : {std::uint64_t{0}, std::uint64_t{12345}, ~std::uint64_t{0}}) {
    for (TileKind kind : {TileKind::kBase, TileKind::kDay, TileKind::kHour}) {
      for (TimeMs start : kTimes) {
        const TileKey tile{user, kind, start};
        const std::string key = keys::tile_key(tile);
        EXPECT_EQ(keys::parse_tile_key(key), tile);
        EXPECT_EQ(keys::key_user(key), user);
        EXPECT_TRUE(key.starts_with(keys::tile_kind_prefix(user, kind)));
        EXPECT_TRUE(key.starts_with(keys::user_prefix(user)));
      }
    }
  }
}

TEST(KeyLayout, MalformedTileKeysAreRefused) {
  const std::string key = keys::tile_key(TileKey{1, TileKind::kDay, kT0});
  EXPECT_THROW(keys::parse_tile_key(key.substr(0, 16)), CorruptionError);
  EXPECT_THROW(keys::parse_tile_key(key + "x"), CorruptionError);
  std::string unknown_kind = key;
  unknown_kind[8] = 3;
  EXPECT_THROW(keys::parse_tile_key(unknown_kind), CorruptionError);
}

// A user's tiles sort by kind (base, day, hour), each kind by start, and the user's tiles
// come before the next user's: the store reads a user's base, days and hours in one walk.
TEST(KeyLayout, TileKeysSortByUserThenKindThenStart) {
  std::mt19937_64 rng(5);
  std::vector<std::tuple<std::uint64_t, int, TimeMs>> tiles;
  for (int i = 0; i < 2000; ++i) {
    const int kind = static_cast<int>(rng() % 3);
    const TimeMs start =
        kind == 0 ? 0 : kTimes[rng() % kTimes.size()] + static_cast<TimeMs>(rng() % 3) * kHourMs;
    tiles.emplace_back(rng() % 2 == 0 ? rng() % 3 : ~std::uint64_t{0} - rng() % 3, kind, start);
  }
  std::vector<std::string> by_bytes;
  for (const auto& t : tiles)
    by_bytes.push_back(keys::tile_key(
        TileKey{std::get<0>(t), static_cast<TileKind>(std::get<1>(t)), std::get<2>(t)}));
  std::sort(by_bytes.begin(), by_bytes.end());
  std::sort(tiles.begin(), tiles.end());
  for (std::size_t i = 0; i < tiles.size(); ++i) {
    const TileKey parsed = keys::parse_tile_key(by_bytes[i]);
    ASSERT_EQ(std::make_tuple(parsed.user_id, static_cast<int>(parsed.kind), parsed.start),
              tiles[i])
        << "position " << i;
  }
}

TEST(KeyLayout, MetaValuesAndNotes) {
  for (TimeMs t : kTimes) EXPECT_EQ(keys::parse_time_value(keys::time_value(t)), t);
  EXPECT_THROW(keys::parse_time_value("1234567"), CorruptionError);
  EXPECT_EQ(keys::note_key("replay"), "note/replay");
  // Notes and meta records share the default family without colliding.
  for (const char* meta :
       {keys::kHighWaterKey, keys::kExpiredKey, keys::kIdsExpiredKey, keys::kFormatKey})
    EXPECT_FALSE(std::string_view(meta).starts_with("note/")) << meta;
}

TEST(KeyLayout, EarlierFormatsAreNamedWithWhatChanged) {
  EXPECT_EQ(keys::earlier_format_difference("signalbox-rocksdb-1"), "one tile per signal state");
  EXPECT_EQ(keys::earlier_format_difference("signalbox-rocksdb-2"), "event ids stored whole");
  EXPECT_EQ(keys::earlier_format_difference(keys::kFormat), std::nullopt);
  EXPECT_EQ(keys::earlier_format_difference("something-else"), std::nullopt);
}

}  // namespace
}  // namespace signalbox::testing
