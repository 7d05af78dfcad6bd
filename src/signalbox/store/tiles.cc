#include "signalbox/store/tiles.h"

namespace signalbox {

const char* tile_kind_name(TileKind kind) {
  switch (kind) {
    case TileKind::kBase:
      return "base";
    case TileKind::kDay:
      return "day";
    case TileKind::kHour:
      return "hour";
  }
  return "unknown";
}

namespace {

TimeMs ceil_to(TimeMs t, TimeMs unit) {
  TimeMs f = floor_to(t, unit);
  return f == t ? t : f + unit;
}

// Covers [from, to] lying inside one day with hour tiles and raw ends.
void cover_within_day(TimeMs from, TimeMs to, std::vector<CoverPiece>& out) {
  if (from > to) return;
  TimeMs first_hour = ceil_to(from, kHourMs);
  TimeMs end_hours = floor_to(to + 1, kHourMs);
  if (first_hour >= end_hours) {
    out.push_back({CoverPiece::Kind::kRaw, TileKind::kHour, from, to});
    return;
  }
  if (from < first_hour)
    out.push_back({CoverPiece::Kind::kRaw, TileKind::kHour, from, first_hour - 1});
  out.push_back({CoverPiece::Kind::kTiles, TileKind::kHour, first_hour, end_hours});
  if (end_hours <= to) out.push_back({CoverPiece::Kind::kRaw, TileKind::kHour, end_hours, to});
}

}  // namespace

std::vector<CoverPiece> cover_interval(TimeMs from, TimeMs to) {
  std::vector<CoverPiece> out;
  if (from > to) return out;
  out.reserve(7);  // at most: raw, hours, raw, days, raw, hours, raw (one allocation, not three)
  TimeMs first_day = ceil_to(from, kDayMs);
  TimeMs end_days = floor_to(to + 1, kDayMs);
  if (first_day >= end_days) {
    // No whole day inside: [from, to] spans at most the end of one day and the start of the next.
    TimeMs split = floor_to(to, kDayMs);
    if (split > from) {
      cover_within_day(from, split - 1, out);
      cover_within_day(split, to, out);
    } else {
      cover_within_day(from, to, out);
    }
    return out;
  }
  cover_within_day(from, first_day - 1, out);
  out.push_back({CoverPiece::Kind::kTiles, TileKind::kDay, first_day, end_days});
  cover_within_day(end_days, to, out);
  return out;
}

}  // namespace signalbox
