#include "signalbox/store/redis/redis_store.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <initializer_list>
#include <map>
#include <optional>
#include <random>
#include <unordered_map>

#include <fmt/format.h>

#include "signalbox/common/bytes.h"
#include "signalbox/common/error.h"
#include "signalbox/common/hash.h"
#include "signalbox/store/redis/meta_reading.h"
#include "signalbox/store/redis/redis_scripts.h"
#include "signalbox/store/tile_value.h"

namespace signalbox {

namespace {

// Format 2 writes grouped totals that are whole numbers as varints (aggregate/group_totals.h),
// which format 1 versions would refuse as corrupt; format 1 keys are format 2 keys whose states
// all use the first encoding, so they are read as they are and marked 2.
constexpr char kRedisFormat[] = "signalbox-redis-2";
constexpr char kUpgradableRedisFormat[] = "signalbox-redis-1";
constexpr std::uint64_t kEventIdHashSeed = 0x5167'6e61'6c62'6f78;  // as the RocksDB store's
// A user's tiles are compacted once this many operands wait in them: reads merge them all.
constexpr long long kCompactAfter = 16;
// Users per pipelined round trip in expire().
constexpr long long kExpireChunk = 512;
constexpr std::size_t kTileFieldSize = 9;
// How long a user's recent commit tokens are kept: far longer than RedisCluster::run() can
// take to send a command again (6 attempts, each connecting and reading within `timeout`).
constexpr std::chrono::milliseconds kCommitTokensKeptAtLeast{60'000};
constexpr int kCommitTokensKeptTimeouts = 30;

std::chrono::milliseconds commit_tokens_kept(const RedisClusterOptions& options) {
  return kCommitTokensKeptAtLeast + kCommitTokensKeptTimeouts * options.timeout;
}

// 128 random bits naming one commit call: a send of it again recognises what its first send
// wrote. Drawn from the system's entropy, so that two commit calls, of one process or of
// several, do not draw the same token (odds of 2^-128 a pair): another call's token would
// pass for this commit's own.
std::string commit_token() {
  thread_local std::random_device entropy;
  std::string token;
  ByteWriter w(token);
  for (int i = 0; i < 2; ++i)
    w.fixed64_be((static_cast<std::uint64_t>(entropy()) << 32) | entropy());
  return token;
}

// "{prefix:user}", the hash tag of every key of the user, followed by `suffix`. Appended
// piece by piece: a query builds four of these, and fmt::format took 1 000 instructions each.
std::string user_tag(const std::string& prefix, std::uint64_t user, std::string_view suffix) {
  char digits[20];
  const char* digits_end = std::to_chars(digits, digits + sizeof(digits), user).ptr;
  std::string tag;
  tag.reserve(prefix.size() + sizeof(digits) + 3 + suffix.size());
  tag += '{';
  tag += prefix;
  tag += ':';
  tag.append(digits, static_cast<std::size_t>(digits_end - digits));
  tag += '}';
  tag += suffix;
  return tag;
}

std::string be64(std::uint64_t v) {
  std::string s;
  ByteWriter(s).fixed64_be(v);
  return s;
}

std::string event_member(TimeMs ts, std::string_view event_id) {
  std::string s;
  ByteWriter w(s);
  w.time_be(ts);
  w.raw(event_id);
  return s;
}

std::string id_member(std::string_view event_id) {
  return be64(hash64(event_id, kEventIdHashSeed));
}

std::string tile_field(TileKind kind, TimeMs start) {
  std::string s;
  ByteWriter w(s);
  w.byte(static_cast<std::uint8_t>(kind));
  w.time_be(start);
  return s;
}

TileKey parse_tile_field(std::uint64_t user, std::string_view field) {
  ByteReader r(field.substr(0, kTileFieldSize));
  TileKey key;
  key.user_id = user;
  std::uint8_t kind = r.byte();
  if (kind > 2) throw CorruptionError("redis store: unknown tile kind");
  key.kind = static_cast<TileKind>(kind);
  key.start = r.time_be();
  return key;
}

TimeMs parse_time(const RedisValue& v) {
  if (v.type == RedisValue::Type::kNil) return kBeginningOfTime;
  if (v.type == RedisValue::Type::kInteger) return v.integer;
  TimeMs t = 0;
  auto [end, ec] = std::from_chars(v.str.data(), v.str.data() + v.str.size(), t);
  if (ec != std::errc() || end != v.str.data() + v.str.size())
    throw CorruptionError(fmt::format("redis store: \"{}\" is not a time", v.str));
  return t;
}

const RedisValue& checked(const RedisValue& v, std::string_view what) {
  if (v.is_error()) throw StorageError(fmt::format("redis: {}: {}", what, v.str));
  return v;
}

// For a reply returned by value: kept alive by the caller's variable.
RedisValue checked(RedisValue&& v, std::string_view what) {
  if (v.is_error()) throw StorageError(fmt::format("redis: {}: {}", what, v.str));
  return std::move(v);
}

// One tile of a user as stored: its merged value and the operands appended since, by seq.
struct StoredTileValue {
  std::string field;  // kTileFieldSize bytes
  std::optional<std::string> base;
  std::vector<std::pair<long long, std::string>> operands;  // seq, field
  std::vector<std::string_view> operand_values;
};

// The tiles of a user's tile hash (field, value, ... as HGETALL answers), by kind and start.
std::map<std::string, StoredTileValue> group_tiles(const RedisValue& hash) {
  std::map<std::string, StoredTileValue> tiles;
  std::map<std::string, std::vector<std::tuple<long long, std::string, const std::string*>>> ops;
  for (std::size_t i = 0; i + 1 < hash.elements.size(); i += 2) {
    const std::string& field = hash.elements[i].str;
    const std::string& value = hash.elements[i + 1].str;
    if (field.size() < kTileFieldSize) continue;  // #seq, #ops, #expired
    std::string key = field.substr(0, kTileFieldSize);
    StoredTileValue& tile = tiles[key];
    tile.field = key;
    if (field.size() == kTileFieldSize) {
      tile.base = value;
      continue;
    }
    long long seq = 0;
    const char* begin = field.data() + kTileFieldSize + 1;
    auto [end, ec] = std::from_chars(begin, field.data() + field.size(), seq);
    if (field[kTileFieldSize] != ':' || ec != std::errc() || end != field.data() + field.size())
      throw CorruptionError("redis store: bad tile operand field");
    ops[key].emplace_back(seq, field, &value);
  }
  for (auto& [key, list] : ops) {
    std::sort(list.begin(), list.end(),
              [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
    StoredTileValue& tile = tiles[key];
    for (auto& [seq, field, value] : list) {
      tile.operands.emplace_back(seq, field);
      tile.operand_values.push_back(*value);
    }
  }
  return tiles;
}

std::string merged_value(const StoredTileValue& tile, TileKind kind, const TileMerger& merger) {
  std::vector<std::string_view> operands;
  if (tile.base) operands.push_back(*tile.base);
  operands.insert(operands.end(), tile.operand_values.begin(), tile.operand_values.end());
  return merge_tile_values(kind, operands, merger);
}

// The value of `field` in a hash as HGETALL answers it, or null when absent.
const RedisValue* hash_value(const RedisValue& hash, std::string_view field) {
  for (std::size_t i = 0; i + 1 < hash.elements.size(); i += 2)
    if (hash.elements[i].str == field) return &hash.elements[i + 1];
  return nullptr;
}

class RedisStore;

// The most raw events of a user read at once with its tiles. A query reads the events of a few
// partial hours; a heavy user holds a week of them (3 464 events, 750 KB, for the benchmark's
// heaviest), which cost Redis most of a whole-user read.
constexpr long long kEventsReadWithTiles = 128;

// Reads each user once, in one script (events and tiles of one moment), and keeps it; a user
// of more than kEventsReadWithTiles raw events is read without them, and each range of events
// asked for after is read when asked, checked to be of the same moment (SnapshotMoved when
// not). The horizons are read when the snapshot is made, and raised to the store's when a user's
// #expired is past them: an expiry that ran meanwhile has dropped what a query at the older
// horizons would read.
class RedisSnapshot final : public StoreSnapshot {
 public:
  explicit RedisSnapshot(RedisStore& store);

  TimeMs high_water() const override { return high_water_; }
  TimeMs expired_through() const override { return expired_through_; }
  void scan_events(std::uint64_t user, TimeMs from, TimeMs to,
                   const std::function<void(std::string_view)>& fn) override;
  using StoreSnapshot::tiles;
  std::vector<StoredTile> tiles(std::uint64_t user, std::span<const std::uint64_t> state_ids,
                                const TileSelection& selection) override;
  std::vector<std::uint64_t> users(std::uint64_t from, std::size_t limit) override;
  bool holds_user(std::uint64_t user_id) override;
  void read_users_whole() override { read_whole_ = true; }
  // From the marks read with the user's tiles, in the same script: #seq (raised by every tile
  // operand a commit writes, from any process), #expired (by an expiry) and #rev (by a rewrite
  // of the tiles: operands merged, day tiles folded into the base, parts dropped). While none
  // of them moved, none of the user's tiles changed, settled or not: two snapshots with the
  // same version read the same tiles. (A Redis emptied and written again under a running
  // process could repeat the marks: restart the processes after replacing a store's data.)
  std::optional<std::uint64_t> tile_version(std::uint64_t user_id) override;

 private:
  struct UserData {
    // Every raw event of the user, by ts then id, when `events_whole`; else none, and
    // scan_events() reads the range asked for from the store.
    std::vector<std::pair<TimeMs, std::string>> events;
    std::vector<std::pair<TileKey, std::string>> tiles;  // merged, by kind then start
    bool events_whole = true;
    // What the read found, for a later read of events to tell whether the user changed since.
    long long event_count = 0;
    std::string tile_seq;      // the tile hash's #seq, "" when absent
    std::string expired_mark;  // the tile hash's #expired, "" when absent
    std::string tile_rev;      // the tile hash's #rev, "" when absent
  };
  // The user's data, read in one script the first time: its events too when `with_events`,
  // after read_users_whole(), or when it has few.
  const UserData& user(std::uint64_t user_id, bool with_events);
  // A run of `script`, a read script, on the user's events, bodies and tile hash (its KEYS),
  // with `argv`.
  RedisCommand user_read(std::uint64_t user_id, const RedisScript& script,
                         std::initializer_list<std::string> argv) const;
  // scan_events() of a user whose events were not read with its tiles.
  void scan_events_apart(std::uint64_t user_id, const UserData& data, TimeMs from, TimeMs to,
                         const std::function<void(std::string_view)>& fn);
  // Raises the horizons to the store's now that a user's data was found expired past them.
  void catch_up_with(TimeMs user_expired_through);

  RedisStore& store_;
  TimeMs high_water_ = kBeginningOfTime;
  TimeMs expired_through_ = kBeginningOfTime;
  bool read_whole_ = false;
  std::unordered_map<std::uint64_t, UserData> users_;
};

class RedisStore final : public Store {
 public:
  RedisStore(const RedisStoreOptions& options, const TileMerger& merger)
      : cluster_(options.cluster),
        prefix_(options.key_prefix),
        merger_(merger),
        tokens_kept_ms_(std::to_string(commit_tokens_kept(options.cluster).count())),
        meta_reading_(options.horizons_reuse) {
    meta_ = fmt::format("{{{}}}:meta", prefix_);
    users_ = fmt::format("{{{}}}:users", prefix_);
    known_ = fmt::format("{{{}}}:known", prefix_);
    counted_ = fmt::format("{{{}}}:counted", prefix_);
    for (auto* script : {&commit_, &read_user_, &read_events_, &rewrite_tiles_, &expire_user_,
                         &raise_, &count_events_})
      cluster_.load(*script);
    RedisValue set = cluster_.run(RedisCommand{meta_, {"HSETNX", meta_, "format", kRedisFormat}});
    checked(set, "write format");
    RedisValue format =
        checked(cluster_.run(RedisCommand{meta_, {"HGET", meta_, "format"}}), "read format");
    if (format.str == kUpgradableRedisFormat) {
      checked(cluster_.run(RedisCommand{meta_, {"HSET", meta_, "format", kRedisFormat}}),
              "write format");
      format.str = kRedisFormat;
    }
    if (format.str != kRedisFormat)
      throw StorageError(
          fmt::format("redis: keys under \"{}\" hold stored format \"{}\", not \"{}\"", prefix_,
                      format.str, kRedisFormat));
  }

  RedisCluster& cluster() { return cluster_; }
  const TileMerger& merger() const { return merger_; }
  const RedisScript& read_user_script() const { return read_user_; }
  const RedisScript& read_events_script() const { return read_events_; }
  std::string key(std::uint64_t user, char what) const {
    const char suffix[2] = {':', what};
    return user_tag(prefix_, user, std::string_view(suffix, 2));
  }
  // Stream time and the raw horizon for a new snapshot: read a moment ago, or now.
  MetaReading::Horizons recent_horizons() {
    if (std::optional<MetaReading::Horizons> kept = meta_reading_.recent(MetaReading::Clock::now()))
      return *kept;
    return read_horizons();
  }

  // Stream time and the raw horizon, read now.
  MetaReading::Horizons read_horizons() {
    const auto at = MetaReading::Clock::now();
    RedisValue r = checked(
        cluster_.run(RedisCommand{meta_, {"HMGET", meta_, "high_water", "expired_through"}}),
        "read stream time");
    MetaReading::Horizons read{parse_time(r.elements.at(0)), parse_time(r.elements.at(1))};
    meta_reading_.keep(read, at);
    return read;
  }

  const std::string& users_key() const { return users_; }

  TimeMs high_water() const override { return read_meta("high_water"); }
  TimeMs ids_expired_through() const override { return read_meta("ids_expired_through"); }

  std::vector<bool> contains(std::span<const std::pair<std::uint64_t, std::string>> ids) override {
    std::vector<RedisCommand> commands;
    commands.reserve(ids.size());
    for (const auto& [user, id] : ids) {
      std::string k = key(user, 'i');
      commands.push_back(RedisCommand{k, {"ZSCORE", k, id_member(id)}});
    }
    std::vector<RedisValue> replies = cluster_.run(commands);
    std::vector<bool> found(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i)
      found[i] = checked(replies[i], "read event id").type != RedisValue::Type::kNil;
    return found;
  }

  void commit(const CommitBatch& batch) override {
    // By user, in first-seen order: each user's part is one script run.
    std::vector<std::uint64_t> order;
    std::unordered_map<std::uint64_t,
                       std::pair<std::vector<const StoredEvent*>, std::vector<const TileDelta*>>>
        parts;
    for (const StoredEvent& e : batch.events) {
      auto [it, inserted] = parts.try_emplace(e.user_id);
      if (inserted) order.push_back(e.user_id);
      it->second.first.push_back(&e);
    }
    for (const TileDelta& t : batch.tiles) {
      auto [it, inserted] = parts.try_emplace(t.key.user_id);
      if (inserted) order.push_back(t.key.user_id);
      it->second.second.push_back(&t);
    }
    // One token for every user's part: RedisCluster sends a part again when its reply was
    // lost, and the part's script then finds the token its first send recorded.
    const std::string token = commit_token();
    std::vector<RedisCommand> commands;
    commands.reserve(order.size());
    for (std::uint64_t user : order) {
      const auto& [events, tiles] = parts[user];
      RedisCommand c;
      c.key = key(user, 'e');
      c.script = &commit_;
      c.key_count = 5;
      c.args = {key(user, 'e'), key(user, 'b'), key(user, 'i'),  key(user, 't'),
                key(user, 'c'), token,          tokens_kept_ms_, std::to_string(events.size())};
      for (const StoredEvent* e : events) {
        c.args.push_back(id_member(e->event_id));
        c.args.push_back(std::to_string(e->ts));
        c.args.push_back(e->keep_raw ? "1" : "0");
        c.args.push_back(event_member(e->ts, e->event_id));
        c.args.push_back(e->keep_raw ? e->bytes : std::string());
      }
      c.args.push_back(std::to_string(tiles.size()));
      for (const TileDelta* t : tiles) {
        c.args.push_back(tile_field(t->key.kind, t->key.start));
        c.args.push_back(encode_tile_delta(*t));
      }
      commands.push_back(std::move(c));
    }
    std::vector<RedisValue> replies = cluster_.run(commands);
    std::vector<std::uint64_t> conflicted, to_compact;
    TimeMs high = kBeginningOfTime;
    long long raw = 0;
    RedisCommand users{users_, {"ZADD", users_}};
    RedisCommand known{known_, {"ZADD", known_}};
    for (std::size_t u = 0; u < order.size(); ++u) {
      const RedisValue& r = checked(replies[u], "commit");
      if (r.elements.size() < 2) throw StorageError("redis: commit: unexpected reply");
      if (r.elements[0].integer == 0) {
        conflicted.push_back(order[u]);
        continue;
      }
      for (const StoredEvent* e : parts[order[u]].first) high = std::max(high, e->ts);
      raw += r.elements[1].integer;
      known.args.insert(known.args.end(), {"0", be64(order[u])});
      if (r.elements[1].integer > 0) users.args.insert(users.args.end(), {"0", be64(order[u])});
      if (r.elements.size() > 2 && r.elements[2].integer >= kCompactAfter)
        to_compact.push_back(order[u]);
    }
    // Stream time moves with what was written: the events of a conflicted user come again.
    if (conflicted.empty()) high = std::max(high, batch.high_water);
    std::vector<RedisCommand> meta;
    if (high != kBeginningOfTime)
      meta.push_back(RedisCommand{meta_, {meta_, "high_water", std::to_string(high)}, &raise_, 1});
    if (raw > 0) meta.push_back(count_events(token, raw));
    if (users.args.size() > 2) meta.push_back(std::move(users));
    if (known.args.size() > 2) meta.push_back(std::move(known));
    if (!meta.empty())
      for (const RedisValue& r : cluster_.run(meta)) checked(r, "commit stream time");
    if (high != kBeginningOfTime) meta_reading_.raise({high, kBeginningOfTime});
    if (!to_compact.empty()) rewrite_tiles(to_compact, nullptr, kBeginningOfTime, false);
    if (conflicted.empty())
      for (const auto& [name, value] : batch.notes) write_note(name, value);
    if (!conflicted.empty())
      throw StorageError(
          fmt::format("redis: events of {} user(s) (user {} first) were stored by another writer "
                      "between the duplicate "
                      "check and this commit; their part of the batch was not written, the rest "
                      "was. Send the batch "
                      "again: what is stored counts once",
                      conflicted.size(), conflicted.front()));
  }

  std::unique_ptr<StoreSnapshot> snapshot() override {
    return std::make_unique<RedisSnapshot>(*this);
  }

  // Raises the horizons at once, then visits every known user (drops its expired events and
  // ids, rewrites its tiles): all now, or with `fold_slice_users` and no compaction asked for,
  // that many users now and the rest by continue_fold(), so that commits need not wait for a
  // pass over every user. A pass left unfinished is finished first. Visiting a user is
  // idempotent, and other processes commit during a pass anyway: commits between slices
  // change nothing of what a pass guarantees.
  void expire(const RetentionPolicy& policy, ExpireOptions options) override {
    if (pass_) visit_users(0);
    const TimeMs high = high_water();
    if (high == kBeginningOfTime) return;
    const TimeMs ids_from = options.ids_hold ? std::min(high, *options.ids_hold) : high;
    const TimeMs ids_wanted = policy.ids_through(ids_from);
    std::vector<std::string> args = {meta_, "expired_through",
                                     std::to_string(policy.raw_events_through(high))};
    if (ids_wanted > kBeginningOfTime)
      args.insert(args.end(), {"ids_expired_through", std::to_string(ids_wanted)});
    RedisValue raised =
        checked(cluster_.run(RedisCommand{meta_, args, &raise_, 1}), "write horizons");
    ExpiryPass pass;
    pass.policy = policy;
    pass.through = parse_time(raised.elements.at(0));
    meta_reading_.raise({kBeginningOfTime, pass.through});
    pass.ids_through =
        raised.elements.size() > 1 ? parse_time(raised.elements[1]) : ids_expired_through();
    pass.fold = options.fold_base;
    pass_ = std::move(pass);
    visit_users(options.users_now());
  }

  bool continue_fold(std::size_t max_users) override { return visit_users(max_users); }

  void check_ready() override { cluster_.ping_all(); }

  StoreStats stats() override {
    StoreStats s;
    TimeMs events = read_meta("events");
    s.events = events > 0 ? static_cast<std::uint64_t>(events) : 0;
    return s;
  }

  void flush() override {}

  // Notes are fields of the meta hash ("note:<name>"); a commit's replies have all come back
  // before a note is written, so a note never runs ahead of the data it speaks of.
  std::optional<std::string> read_note(std::string_view name) override {
    RedisValue v =
        checked(cluster_.run(RedisCommand{meta_, {"HGET", meta_, note_field(name)}}), "read note");
    if (v.type == RedisValue::Type::kNil) return std::nullopt;
    return v.str;
  }

  void write_note(std::string_view name, std::optional<std::string_view> value) override {
    if (value)
      checked(
          cluster_.run(RedisCommand{meta_, {"HSET", meta_, note_field(name), std::string(*value)}}),
          "write note");
    else
      checked(cluster_.run(RedisCommand{meta_, {"HDEL", meta_, note_field(name)}}), "delete note");
  }

 private:
  static std::string note_field(std::string_view name) { return "note:" + std::string(name); }

  TimeMs read_meta(const char* field) const {
    return parse_time(
        checked(cluster_.run(RedisCommand{meta_, {"HGET", meta_, field}}), "read stream time"));
  }

  // An expiry pass over every known user, begun by expire(): its horizons, and the last user
  // visited (members of `known_` all have score 0, so they are in byte order: the pass goes
  // on after that member, and users added meanwhile are visited if they come after it).
  struct ExpiryPass {
    RetentionPolicy policy;
    TimeMs through = kBeginningOfTime;
    TimeMs ids_through = kBeginningOfTime;
    bool fold = false;
    std::string after;  // the last member visited; empty: none yet
  };

  // Visits at most `max_users` more users of the pass (0: all of them); returns whether some
  // are left. A failure leaves the pass where the last page visited ended.
  bool visit_users(std::size_t max_users) {
    if (!pass_) return false;
    ExpiryPass& pass = *pass_;
    std::size_t visited = 0;
    while (max_users == 0 || visited < max_users) {
      const std::size_t want =
          max_users == 0 ? kExpireChunk : std::min<std::size_t>(kExpireChunk, max_users - visited);
      RedisValue page =
          checked(cluster_.run(RedisCommand{
                      known_,
                      {"ZRANGEBYLEX", known_, pass.after.empty() ? "-" : "(" + pass.after, "+",
                       "LIMIT", "0", std::to_string(want)}}),
                  "list users");
      if (page.elements.empty()) break;
      expire_users(pass, page.elements);
      pass.after = page.elements.back().str;
      visited += page.elements.size();
      if (page.elements.size() < want) break;
    }
    const bool left = max_users != 0 && visited >= max_users;
    if (!left) pass_.reset();
    return left;
  }

  // Drops the expired events and ids of the users `members` (of `known_`) and rewrites their
  // tiles, as `pass` says.
  void expire_users(const ExpiryPass& pass, const std::vector<RedisValue>& members) {
    std::vector<std::uint64_t> users;
    std::vector<RedisCommand> commands;
    for (const RedisValue& m : members) {
      if (m.str.size() != 8) continue;
      std::uint64_t user = ByteReader(m.str).fixed64_be();
      users.push_back(user);
      commands.push_back(RedisCommand{
          key(user, 'e'),
          {key(user, 'e'), key(user, 'b'), key(user, 'i'), key(user, 't'),
           std::to_string(pass.through),
           pass.ids_through == kBeginningOfTime ? "-inf" : std::to_string(pass.ids_through)},
          &expire_user_,
          4});
    }
    std::vector<RedisValue> replies = cluster_.run(commands);
    long long dropped = 0;
    RedisCommand gone{users_, {"ZREM", users_}};
    for (std::size_t u = 0; u < users.size(); ++u) {
      const RedisValue& r = checked(replies[u], "expire events");
      dropped += r.elements.at(0).integer;
      if (r.elements.at(1).integer == 0) gone.args.push_back(be64(users[u]));
    }
    std::vector<RedisCommand> meta;
    if (dropped > 0) meta.push_back(count_events(commit_token(), -dropped));
    if (gone.args.size() > 2) meta.push_back(std::move(gone));
    if (!meta.empty())
      for (const RedisValue& r : cluster_.run(meta)) checked(r, "expire users");
    rewrite_tiles(users, &pass.policy, pass.through, pass.fold);
  }

  // Merges the operands of the users' tiles into their values and, with `policy`, drops what
  // no window can reach past `through` and (with `fold`) folds old day tiles of base-keeping
  // states into the base tile, as the RocksDB store's compaction does. Each user's rewrite is
  // a compare-and-set: one that lost to a concurrent rewrite is left for the next time.
  void rewrite_tiles(const std::vector<std::uint64_t>& users, const RetentionPolicy* policy,
                     TimeMs through, bool fold) {
    std::vector<RedisCommand> reads;
    for (std::uint64_t user : users)
      reads.push_back(RedisCommand{key(user, 't'), {"HGETALL", key(user, 't')}});
    std::vector<RedisValue> hashes = cluster_.run(reads);
    std::vector<RedisCommand> writes;
    const bool expiring = policy && through != kBeginningOfTime;
    const TimeMs keep_from = expiring ? floor_day(through) - kDayMs : kBeginningOfTime;
    for (std::size_t u = 0; u < users.size(); ++u) {
      std::map<std::string, StoredTileValue> tiles = group_tiles(checked(hashes[u], "read tiles"));
      std::vector<std::string> consumed;
      std::vector<std::string> rewritten;  // field, expected, new value
      std::vector<std::string> to_base;
      const StoredTileValue* base = nullptr;
      for (auto& [field, tile] : tiles) {
        TileKey k = parse_tile_field(users[u], field);
        if (k.kind == TileKind::kBase) {
          base = &tile;
          continue;
        }
        bool changed = !tile.operands.empty();
        std::string value = merged_value(tile, k.kind, merger_);
        if (expiring && k.kind == TileKind::kHour && k.start < keep_from) {
          value.clear();
          changed = true;
        } else if (expiring) {
          std::vector<TilePart> parts;
          parse_tile_parts(value, parts);
          std::string kept, folded;
          for (const TilePart& part : parts) {
            auto state = policy->states.find(part.state_id);
            if (state == policy->states.end()) continue;
            if (k.kind == TileKind::kDay && !state->second.keep_base &&
                k.start < floor_day(through - state->second.longest_window) - kDayMs)
              continue;
            // Hours before the state's cut: queries as of then read raw events (query_planner.cc).
            if (k.kind == TileKind::kHour &&
                k.start < state->second.hours_from(through, policy->retention))
              continue;
            if (fold && k.kind == TileKind::kDay && state->second.keep_base &&
                k.start < keep_from) {
              std::string covered;
              ByteWriter(covered).time_be(k.start + kDayMs - 1);
              covered.append(part.bytes);
              append_tile_part(folded, part.state_id, covered);
              continue;
            }
            append_tile_part(kept, part.state_id, part.bytes);
          }
          if (!folded.empty()) to_base.push_back(std::move(folded));
          if (kept.size() != value.size()) {
            value = std::move(kept);
            changed = true;
          }
        }
        if (!changed) continue;
        for (const auto& op : tile.operands) consumed.push_back(op.second);
        rewritten.insert(rewritten.end(), {field, tile.base.value_or(""), value});
      }
      if (base && (!base->operands.empty() || !to_base.empty())) {
        std::vector<std::string_view> operands;
        std::string current = merged_value(*base, TileKind::kBase, merger_);
        if (!current.empty()) operands.push_back(current);
        for (const std::string& f : to_base) operands.push_back(f);
        for (const auto& op : base->operands) consumed.push_back(op.second);
        rewritten.insert(rewritten.end(), {base->field, base->base.value_or(""),
                                           merge_tile_values(TileKind::kBase, operands, merger_)});
      } else if (!to_base.empty()) {
        std::vector<std::string_view> operands(to_base.begin(), to_base.end());
        rewritten.insert(rewritten.end(), {tile_field(TileKind::kBase, 0), "",
                                           merge_tile_values(TileKind::kBase, operands, merger_)});
      }
      if (rewritten.empty()) continue;
      RedisCommand c{key(users[u], 't'),
                     {key(users[u], 't'), std::to_string(consumed.size())},
                     &rewrite_tiles_,
                     1};
      c.args.insert(c.args.end(), consumed.begin(), consumed.end());
      c.args.push_back(std::to_string(rewritten.size() / 3));
      c.args.insert(c.args.end(), rewritten.begin(), rewritten.end());
      writes.push_back(std::move(c));
    }
    if (writes.empty()) return;
    for (const RedisValue& r : cluster_.run(writes)) checked(r, "rewrite tiles");
  }

  // Adds `change` to the count of raw events stored, once however often RedisCluster sends
  // the command: `token` names this change (a commit's token, or a new one), and a send again
  // finds it among the recent counts, kept as long as a user's commit tokens.
  RedisCommand count_events(const std::string& token, long long change) const {
    return RedisCommand{meta_,
                        {meta_, counted_, token, tokens_kept_ms_, std::to_string(change)},
                        &count_events_,
                        2};
  }

  mutable RedisCluster cluster_;
  std::string prefix_;
  const TileMerger& merger_;
  std::string meta_, users_, known_;
  std::string counted_;  // the recent changes of meta's `events`, by token (count_events())
  const std::string tokens_kept_ms_;  // the commit script's keep time, ms
  std::optional<ExpiryPass> pass_;    // an expiry pass not finished yet
  MetaReading meta_reading_;
  RedisScript commit_{redis_scripts::kCommit, {}};
  RedisScript read_user_{redis_scripts::kReadUser, {}};
  RedisScript read_events_{redis_scripts::kReadEvents, {}};
  RedisScript rewrite_tiles_{redis_scripts::kRewriteTiles, {}};
  RedisScript expire_user_{redis_scripts::kExpireUser, {}};
  RedisScript raise_{redis_scripts::kRaise, {}};
  RedisScript count_events_{redis_scripts::kCountEvents, {}};
};

RedisSnapshot::RedisSnapshot(RedisStore& store) : store_(store) {
  const MetaReading::Horizons recent = store_.recent_horizons();
  high_water_ = recent.high_water;
  expired_through_ = recent.expired_through;
}

// An expiry raises the horizons in {p}:meta before it visits a user, so the meta read after a
// user's data holds horizons at least as high as that data was expired at. Higher is safe:
// a user not visited yet holds more than a query at those horizons reads.
void RedisSnapshot::catch_up_with(TimeMs user_expired_through) {
  const MetaReading::Horizons now = store_.read_horizons();
  high_water_ = std::max(high_water_, now.high_water);
  expired_through_ = std::max({expired_through_, now.expired_through, user_expired_through});
}

RedisCommand RedisSnapshot::user_read(std::uint64_t user_id, const RedisScript& script,
                                      std::initializer_list<std::string> argv) const {
  RedisCommand c{store_.key(user_id, 'e'),
                 {store_.key(user_id, 'e'), store_.key(user_id, 'b'), store_.key(user_id, 't')},
                 &script,
                 3};
  c.args.insert(c.args.end(), argv);
  return c;
}

const RedisSnapshot::UserData& RedisSnapshot::user(std::uint64_t user_id, bool with_events) {
  auto it = users_.find(user_id);
  if (it != users_.end()) return it->second;
  // Everything of the user in one script run: its tiles, and its events unless it has many
  // and they were not asked for, as of one moment.
  const bool whole = with_events || read_whole_;
  RedisValue r =
      checked(store_.cluster().run(user_read(user_id, store_.read_user_script(),
                                             {whole ? "0" : std::to_string(kEventsReadWithTiles)})),
              "read user");
  if (r.elements.size() != 5) throw StorageError("redis: read user: unexpected reply");
  UserData data;
  const auto& members = r.elements[0].elements;
  const auto& bodies = r.elements[1].elements;
  data.events.reserve(members.size());
  for (std::size_t i = 0; i < members.size() && i < bodies.size(); ++i) {
    ByteReader reader(members[i].str);
    data.events.emplace_back(reader.time_be(), bodies[i].str);
  }
  for (auto& [field, tile] : group_tiles(r.elements[2])) {
    TileKey k = parse_tile_field(user_id, field);
    data.tiles.emplace_back(k, merged_value(tile, k.kind, store_.merger()));
  }
  data.event_count = r.elements[3].integer;
  data.events_whole = r.elements[4].integer == 1;
  const RedisValue* seq = hash_value(r.elements[2], "#seq");
  // How far the user's raw events have been expired.
  const RedisValue* expired = hash_value(r.elements[2], "#expired");
  if (seq) data.tile_seq = seq->str;
  if (expired) data.expired_mark = expired->str;
  if (const RedisValue* rev = hash_value(r.elements[2], "#rev")) data.tile_rev = rev->str;
  const TimeMs user_expired = expired ? parse_time(*expired) : kBeginningOfTime;
  if (user_expired > expired_through_) catch_up_with(user_expired);
  return users_.emplace(user_id, std::move(data)).first->second;
}

void RedisSnapshot::scan_events(std::uint64_t user_id, TimeMs from, TimeMs to,
                                const std::function<void(std::string_view)>& fn) {
  const UserData& data = user(user_id, /*with_events=*/true);
  if (!data.events_whole) {
    scan_events_apart(user_id, data, from, to, fn);
    return;
  }
  auto it = std::lower_bound(data.events.begin(), data.events.end(), from,
                             [](const auto& e, TimeMs t) { return e.first < t; });
  for (; it != data.events.end() && it->first <= to; ++it) fn(it->second);
}

void RedisSnapshot::scan_events_apart(std::uint64_t user_id, const UserData& data, TimeMs from,
                                      TimeMs to, const std::function<void(std::string_view)>& fn) {
  if (from > to) return;
  RedisValue r = checked(store_.cluster().run(user_read(
                             user_id, store_.read_events_script(),
                             {std::to_string(from), std::to_string(to),
                              std::to_string(data.event_count), data.tile_seq, data.expired_mark})),
                         "read events");
  if (r.elements.empty()) throw StorageError("redis: read events: unexpected reply");
  if (r.elements[0].integer != 1)
    throw SnapshotMoved(fmt::format(
        "redis: user {} changed between the read of its tiles and that of its events", user_id));
  if (r.elements.size() != 3) throw StorageError("redis: read events: unexpected reply");
  const auto& members = r.elements[1].elements;
  const auto& bodies = r.elements[2].elements;
  for (std::size_t i = 0; i < members.size() && i < bodies.size(); ++i) fn(bodies[i].str);
}

std::optional<std::uint64_t> RedisSnapshot::tile_version(std::uint64_t user_id) {
  const UserData& data = user(user_id, /*with_events=*/false);
  std::string marks = data.tile_seq;
  marks += '/';
  marks += data.expired_mark;
  marks += '/';
  marks += data.tile_rev;
  return hash64(marks);
}

std::vector<StoredTile> RedisSnapshot::tiles(std::uint64_t user_id,
                                             std::span<const std::uint64_t> state_ids,
                                             const TileSelection& selection) {
  std::vector<StoredTile> out;
  for (const auto& [key, value] : user(user_id, /*with_events=*/false).tiles) {
    if (!selection.selects(key.kind, key.start)) continue;
    append_stored_tiles(key, value, state_ids, out);
  }
  return out;
}

// From the read that scan_events() and tiles() share: no round trip of its own after them.
// The tile hash's counters (#seq, #ops) outlive its tiles and do not count.
bool RedisSnapshot::holds_user(std::uint64_t user_id) {
  const UserData& data = user(user_id, /*with_events=*/false);
  return data.event_count > 0 || !data.tiles.empty();
}

std::vector<std::uint64_t> RedisSnapshot::users(std::uint64_t from, std::size_t limit) {
  std::vector<std::uint64_t> out;
  if (limit == 0) return out;
  const std::string& users = store_.users_key();
  RedisValue r = checked(
      store_.cluster().run(RedisCommand{
          users,
          {"ZRANGEBYLEX", users, "[" + be64(from), "+", "LIMIT", "0", std::to_string(limit)}}),
      "list users");
  for (const RedisValue& m : r.elements)
    if (m.str.size() == 8) out.push_back(ByteReader(m.str).fixed64_be());
  return out;
}

}  // namespace

std::unique_ptr<Store> open_redis_store(const RedisStoreOptions& options,
                                        const TileMerger& merger) {
  return std::make_unique<RedisStore>(options, merger);
}

}  // namespace signalbox
