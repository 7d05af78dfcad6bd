#include "signalbox/store/rocksdb/key_layout.h"

#include <fmt/format.h>

#include "signalbox/common/bytes.h"
#include "signalbox/common/error.h"
#include "signalbox/common/hash.h"

namespace signalbox::rocksdb_keys {

namespace {

constexpr std::uint64_t kEventIdHashSeed = 0x5167'6e61'6c62'6f78;
constexpr char kNotePrefix[] = "note/";

}  // namespace

bool upgradable_format(std::string_view format) {
  return format == "signalbox-rocksdb-3" || format == "signalbox-rocksdb-4";
}

std::optional<std::string_view> earlier_format_difference(std::string_view format) {
  if (format == "signalbox-rocksdb-1") return "one tile per signal state";
  if (format == "signalbox-rocksdb-2") return "event ids stored whole";
  return std::nullopt;
}

std::string user_prefix(std::uint64_t user) {
  std::string key;
  ByteWriter(key).fixed64_be(user);
  return key;
}

std::uint64_t key_user(std::string_view key) {
  if (key.size() < kUserPrefixSize) throw CorruptionError("key shorter than its user");
  return ByteReader(key).fixed64_be();
}

std::string event_key(std::uint64_t user, TimeMs ts, std::string_view event_id) {
  std::string key;
  key.reserve(kEventKeyMinSize + event_id.size());
  event_key_into(key, user, ts, event_id);
  return key;
}

void event_key_into(std::string& key, std::uint64_t user, TimeMs ts, std::string_view event_id) {
  key.clear();
  ByteWriter w(key);
  w.fixed64_be(user);
  w.time_be(ts);
  w.raw(event_id);
}

EventKey parse_event_key(std::string_view key) {
  if (!is_event_key(key)) throw CorruptionError("event key of unexpected length");
  ByteReader r(key);
  EventKey parsed;
  parsed.user = r.fixed64_be();
  parsed.ts = r.time_be();
  parsed.event_id = r.rest();
  return parsed;
}

std::uint64_t event_id_hash(std::string_view event_id) {
  return hash64(event_id, kEventIdHashSeed);
}

std::string event_id_key(std::uint64_t user, std::string_view event_id) {
  std::string key;
  key.reserve(kEventIdKeySize);
  event_id_key_into(key, user, event_id_hash(event_id));
  return key;
}

void event_id_key_into(std::string& key, std::uint64_t user, std::uint64_t id_hash) {
  key.clear();
  ByteWriter w(key);
  w.fixed64_be(user);
  w.fixed64_be(id_hash);
}

EventIdKey parse_event_id_key(std::string_view key) {
  if (key.size() != kEventIdKeySize) throw CorruptionError("event id key of unexpected length");
  ByteReader r(key);
  EventIdKey parsed;
  parsed.user = r.fixed64_be();
  parsed.id_hash = r.fixed64_be();
  return parsed;
}

std::string event_id_value(TimeMs ts) { return time_value(ts); }

std::optional<TimeMs> parse_event_id_value(std::string_view value) {
  if (value.size() != 8) return std::nullopt;
  return parse_time_value(value);
}

std::string tile_key(const TileKey& tile) {
  std::string key;
  key.reserve(kTileKeySize);
  tile_key_into(key, tile);
  return key;
}

void tile_key_into(std::string& key, const TileKey& tile) {
  key.clear();
  ByteWriter w(key);
  w.fixed64_be(tile.user_id);
  w.byte(static_cast<std::uint8_t>(tile.kind));
  w.time_be(tile.start);
}

std::string tile_kind_prefix(std::uint64_t user, TileKind kind) {
  std::string key;
  key.reserve(kTileKindPrefixSize);
  ByteWriter w(key);
  w.fixed64_be(user);
  w.byte(static_cast<std::uint8_t>(kind));
  return key;
}

TileKey parse_tile_key(std::string_view key) {
  if (key.size() != kTileKeySize) throw CorruptionError("tile key of unexpected length");
  ByteReader r(key);
  TileKey tile;
  tile.user_id = r.fixed64_be();
  const std::uint8_t kind = r.byte();
  if (kind > static_cast<std::uint8_t>(TileKind::kHour)) throw CorruptionError("unknown tile kind");
  tile.kind = static_cast<TileKind>(kind);
  tile.start = r.time_be();
  return tile;
}

std::string note_key(std::string_view name) {
  std::string key = kNotePrefix;
  key.append(name);
  return key;
}

std::string journal_key(std::uint64_t number) {
  std::string key = kJournalPrefix;
  ByteWriter(key).fixed64_be(number);
  return key;
}

std::uint64_t parse_journal_key(std::string_view key) {
  const std::string_view prefix = kJournalPrefix;
  if (!key.starts_with(prefix) || key.size() != prefix.size() + 8)
    throw CorruptionError("not a journal key");
  return ByteReader(key.substr(prefix.size())).fixed64_be();
}

std::string fold_index_key(std::uint64_t chunk) {
  std::string key = kFoldIndexPrefix;
  ByteWriter(key).fixed64_be(chunk);
  return key;
}

std::string fold_index_value(std::span<const std::pair<std::uint64_t, TimeMs>> users) {
  std::string value;
  value.reserve(users.size() * 16);
  ByteWriter out(value);
  for (const auto& [user, day] : users) {
    out.fixed64_be(user);
    out.time_be(day);
  }
  return value;
}

std::vector<std::pair<std::uint64_t, TimeMs>> parse_fold_index_value(std::string_view value) {
  if (value.size() % 16 != 0)
    throw CorruptionError(
        fmt::format("a kept fold index record of {} bytes, not a multiple of 16", value.size()));
  std::vector<std::pair<std::uint64_t, TimeMs>> users;
  users.reserve(value.size() / 16);
  ByteReader in(value);
  while (!in.done()) {
    const std::uint64_t user = in.fixed64_be();
    users.emplace_back(user, in.time_be());
  }
  return users;
}

std::string sequence_value(std::uint64_t sequence) {
  std::string value;
  ByteWriter(value).fixed64_be(sequence);
  return value;
}

std::uint64_t parse_sequence_value(std::string_view value) {
  if (value.size() != 8) throw CorruptionError("a kept fold index sequence not 8 bytes long");
  return ByteReader(value).fixed64_be();
}

std::string time_value(TimeMs t) {
  std::string value;
  ByteWriter(value).time_be(t);
  return value;
}

TimeMs parse_time_value(std::string_view value) { return ByteReader(value).time_be(); }

}  // namespace signalbox::rocksdb_keys
