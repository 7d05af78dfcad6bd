#pragma once

// The keys of the RocksDB store, and the small fixed values stored under some of them: the one
// place that says how each is laid out. Everything here is a pure function of its arguments
// (thread-safe); it knows nothing of RocksDB or of the store that uses it.
//
// Integers are fixed-width big-endian and times (signed milliseconds) big-endian with the sign
// bit flipped (ByteWriter::time_be), so that byte order is numeric order: RocksDB sorts keys
// bytewise, and the store relies on the orders noted below.
//
//   column family  key                                              value
//   -------------  -----------------------------------------------  ---------------------------
//   events         user (8) · ts (8, time) · event_id (rest)         the encoded event
//   event_ids      user (8) · xxHash64 of event_id (8)               ts (8, time)
//   tiles          user (8) · kind (1: 0 base, 1 day, 2 hour) ·      tile value (tile_value.h)
//                  start (8, time; 0 for the base tile)
//   default        meta/high_water, meta/expired_through,            time (8)
//                  meta/ids_expired_through
//                  meta/format                                       kFormat
//                  note/<name>                                       the note's bytes
//                  journal/<number (8)>                              a journal record
//                                                                    (tile_journal.h)
//                  fold_index/<chunk (8)>                            users with unfolded day
//                                                                    tiles (fold_index_value)
//                  meta/fold_index_sequence                          sequence number (8)
//
// Every key of the first three starts with the user (kUserPrefixSize bytes), so one user's keys
// are one contiguous range; within it a user's events sort by (ts, event_id) and a user's
// tiles by (kind, start). So a user's events in a time range are one key range, and a user's
// tiles of one kind are one prefix (tile_kind_prefix), walked in time order.
//
// Any change to a key or value here is a new kFormat.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "signalbox/common/time.h"
#include "signalbox/store/store.h"

namespace signalbox::rocksdb_keys {

// ---- column families ----
inline constexpr char kEventsFamily[] = "events";
inline constexpr char kEventIdsFamily[] = "event_ids";
inline constexpr char kTilesFamily[] = "tiles";

// ---- format ----
// Written under kFormatKey when a store is created; a store of any other format is refused.
// Format 3 keys the record of seen event ids by a 64-bit hash of the id (it is kept for the
// late horizon, longer than the raw events, so it must be small); format 2 keyed it by the
// whole id. Format 1 kept one tile per (user, state, kind, start) instead of one per (user,
// kind, start) holding every state's part. None can be read as another. Format 4 adds the tile
// journal; a format 3 store is a format 4 store with an empty journal. Format 5 writes grouped
// totals that are whole numbers as varints (aggregate/group_totals.h), which format 4 versions
// would misread; a format 4 store is a format 5 store whose states all use the first encoding.
// So formats 3 and 4 are read as they are and marked kFormat by a writable open.
inline constexpr char kFormat[] = "signalbox-rocksdb-5";

// Whether a store of `format` is read as kFormat once its record says kFormat.
bool upgradable_format(std::string_view format);

// For a format this version once wrote and cannot read, what differs from kFormat (for the
// refusal message); nullopt for kFormat, upgradable formats and formats it never wrote.
std::optional<std::string_view> earlier_format_difference(std::string_view format);

// ---- user prefix ----
inline constexpr std::size_t kUserPrefixSize = 8;

// The first kUserPrefixSize bytes of every events, event_ids and tiles key of `user`.
std::string user_prefix(std::uint64_t user);

// The user of an events, event_ids or tiles key; throws CorruptionError for a key shorter
// than kUserPrefixSize.
std::uint64_t key_user(std::string_view key);

// ---- events ----
inline constexpr std::size_t kEventKeyMinSize = kUserPrefixSize + 8;  // an empty event id

struct EventKey {
  std::uint64_t user = 0;
  TimeMs ts = 0;
  std::string_view event_id;  // points into the parsed key
};

// `event_id` may be empty: event_key(user, ts, "") sorts before every event of user at ts and
// after every one before it, which makes it the seek target for "user's events from ts".
std::string event_key(std::uint64_t user, TimeMs ts, std::string_view event_id);
// The same key written over `key` (whose buffer is reused: no allocation once it is large
// enough). Keys of (user, ts, event_id) sort as the tuples do, with ts as a signed number
// and event_id bytewise.
void event_key_into(std::string& key, std::uint64_t user, TimeMs ts, std::string_view event_id);

// Whether `key` is long enough to be an event key (shorter keys are never written).
inline bool is_event_key(std::string_view key) { return key.size() >= kEventKeyMinSize; }

// Throws CorruptionError for a key shorter than kEventKeyMinSize.
EventKey parse_event_key(std::string_view key);

// ---- event ids (deduplication) ----
inline constexpr std::size_t kEventIdKeySize = kUserPrefixSize + 8;

struct EventIdKey {
  std::uint64_t user = 0;
  std::uint64_t id_hash = 0;
};

// The hash an id is stored by. Fixed forever: stored keys are made of it. Two ids of one user
// that share a hash (odds about n^2 / 2^65 for n ids of that user within the late horizon)
// would make the second look like a duplicate; at a million ids per user that is 3e-8.
std::uint64_t event_id_hash(std::string_view event_id);

std::string event_id_key(std::uint64_t user, std::string_view event_id);
// The key of the id whose event_id_hash is `id_hash`, written over `key`. Keys sort as the
// (user, id_hash) tuples do.
void event_id_key_into(std::string& key, std::uint64_t user, std::uint64_t id_hash);

// Throws CorruptionError for a key not kEventIdKeySize long.
EventIdKey parse_event_id_key(std::string_view key);

// The value of an id record: the event's ts.
std::string event_id_value(TimeMs ts);

// The ts of an id record's value; nullopt when it is not a time (not 8 bytes).
std::optional<TimeMs> parse_event_id_value(std::string_view value);

// ---- tiles ----
inline constexpr std::size_t kTileKeySize = kUserPrefixSize + 1 + 8;
inline constexpr std::size_t kTileKindPrefixSize = kUserPrefixSize + 1;

std::string tile_key(const TileKey& tile);
// The same key written over `key`. Keys sort as the (user_id, kind, start) tuples do.
void tile_key_into(std::string& key, const TileKey& tile);

// The first kTileKindPrefixSize bytes of every tile key of `user` and `kind`.
std::string tile_kind_prefix(std::uint64_t user, TileKind kind);

// Throws CorruptionError for a key not kTileKeySize long or of an unknown kind.
TileKey parse_tile_key(std::string_view key);

// ---- default family: meta records and notes ----
inline constexpr char kHighWaterKey[] = "meta/high_water";
inline constexpr char kExpiredKey[] = "meta/expired_through";
inline constexpr char kIdsExpiredKey[] = "meta/ids_expired_through";
inline constexpr char kFormatKey[] = "meta/format";
// The number of the last bulk-loaded batch committed (bulk_load.h), as sequence_value().
inline constexpr char kBulkCommittedKey[] = "meta/bulk_committed";

std::string note_key(std::string_view name);

// Journal records: one prefix, by number (a prefix scan reads them in the order written).
inline constexpr char kJournalPrefix[] = "journal/";
std::string journal_key(std::uint64_t number);
// Throws CorruptionError for a key that is not a journal key.
std::uint64_t parse_journal_key(std::string_view key);

// The fold index a clean close keeps (unfolded_days.h): the users with day tiles no fold has
// visited, each with its first such day, in chunks of at most kFoldIndexChunkUsers, under one
// prefix; then, in a write of its own, the sequence number of the database after the chunks.
// The next open takes the index back only when that write is the last the database holds
// (nothing, such as an earlier version of Signalbox, wrote after it), and deletes every record
// of it before anything else is written (unless the disk is short of its reserve: then the
// sequence check alone keeps a record made stale by later commits out).
// Old versions ignore these keys: no new format is needed.
inline constexpr char kFoldIndexPrefix[] = "fold_index/";
inline constexpr char kFoldIndexSequenceKey[] = "meta/fold_index_sequence";
inline constexpr std::size_t kFoldIndexChunkUsers = 65536;
std::string fold_index_key(std::uint64_t chunk);
// (user, first day) pairs: 16 bytes each, user big-endian, day as a time.
std::string fold_index_value(std::span<const std::pair<std::uint64_t, TimeMs>> users);
// Throws CorruptionError for a value whose size is not a multiple of 16.
std::vector<std::pair<std::uint64_t, TimeMs>> parse_fold_index_value(std::string_view value);
// The value of kFoldIndexSequenceKey; parsing throws CorruptionError unless it is 8 bytes.
std::string sequence_value(std::uint64_t sequence);
std::uint64_t parse_sequence_value(std::string_view value);

// The value of the time records (kHighWaterKey, kExpiredKey, kIdsExpiredKey).
std::string time_value(TimeMs t);

// Throws CorruptionError for a value shorter than 8 bytes.
TimeMs parse_time_value(std::string_view value);

}  // namespace signalbox::rocksdb_keys
