#pragma once

// A whole config file as loaded (docs/config.md): the server, storage, event store, ingest,
// sources and features besides the signals and views. What a signal or a view is on its own,
// all that custom aggregators and views see, is in signal_definition.h.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "signalbox/common/time.h"
#include "signalbox/config/signal_definition.h"

namespace signalbox {

// Bearer tokens of server.auth, each as a reference "env:NAME" or "file:PATH" (never the token
// itself); empty: that kind of request needs no token.
struct ServerAuthConfig {
  std::string ingest;   // POST /v1/events, gRPC IngestEvents
  std::string query;    // every query route and call
  std::string metrics;  // GET /metrics
  bool any() const { return !ingest.empty() || !query.empty() || !metrics.empty(); }
};

// server.tls: PEM files, absolute; both set or neither.
struct ServerTlsConfig {
  std::filesystem::path cert;  // certificate chain
  std::filesystem::path key;   // private key
};

struct ServerConfig {
  std::string http = "127.0.0.1:8080";  // host:port
  std::optional<std::string> grpc;      // absent: no gRPC server
  std::size_t max_body_bytes = 16 * 1024 * 1024;
  TimeMs idle_timeout = 60'000;        // a keep-alive connection idle this long is closed
  TimeMs request_timeout = 30'000;     // longest time to receive one request, once begun
  TimeMs query_timeout = 10'000;       // deadline of a query (X-Request-Timeout-Ms may shorten)
  TimeMs shutdown_timeout = 30'000;    // on stop: longest wait for requests being answered
  std::size_t max_connections = 1024;  // open HTTP connections; more are answered 503
  std::size_t max_inflight_bytes = 256 * 1024 * 1024;  // request bytes held at once, all
                                                       // connections and both front ends
  std::size_t max_queued_requests = 1024;              // requests received and not yet answered
  std::size_t max_events_per_request = 100'000;        // gRPC IngestEvents
  // A query whose path was last answered this fast is answered on the I/O thread (0: never).
  TimeMs inline_query_budget = 1;
  std::size_t io_threads = 2;     // threads running sockets and HTTP framing
  std::size_t query_threads = 0;  // threads answering every request but ingest (0: one per
                                  // core, at least 2; on Redis two per core, at least 4)
  ServerAuthConfig auth;
  std::optional<ServerTlsConfig> tls;
};

struct LogConfig {
  std::string level = "info";   // trace | debug | info | warn | error | off
  std::string format = "text";  // text | json (one JSON object per line)
  TimeMs slow_query = 1000;     // query requests slower than this are logged (warn)
};

struct StorageConfig {
  std::string kind = "rocksdb";    // rocksdb | redis
  std::filesystem::path path;      // rocksdb: data folder, absolute (default <config dir>/data)
  std::vector<std::string> nodes;  // redis: host:port of each node
  std::string password;            // redis: "env:NAME" or "file:PATH", read when the store opens
  std::string key_prefix = "signalbox";  // redis: starts every key
  TimeMs timeout = 2000;                 // redis: connect and reply timeout
  std::size_t pool = 4;                  // redis: idle connections kept per node
  // rocksdb: fsync the write-ahead log before a write is acknowledged ("always"), or leave
  // it to the operating system ("none": an acknowledged write survives a crash of the
  // process, not a power loss).
  bool sync = false;
  // rocksdb: writes are refused (503) while the store's file system has less free space than
  // this, so that RocksDB's own flushes and compactions never meet a full disk; 0: no check.
  std::uint64_t reserve = std::uint64_t{64} << 20;
  // rocksdb: tile updates acknowledged but not yet merged into the stored tiles are kept in
  // memory and in the tile journal up to this many bytes (write-behind tiles); 0: every
  // commit writes its tiles itself.
  std::uint64_t write_behind = std::uint64_t{32} << 20;
  // rocksdb: the cache of table blocks read (shared by the column families); 0: none, every
  // read goes to the files (and the page cache).
  std::uint64_t block_cache = std::uint64_t{256} << 20;
  // rocksdb: the size a column family's memtable reaches before it is flushed to a table file
  // (up to two per family are in memory while one is flushed).
  std::uint64_t write_buffer = std::uint64_t{16} << 20;
  // rocksdb: how table files below level 0 are compressed: "lz4", "zstd" (smaller files, more
  // CPU in compactions and in reads that miss the block cache) or "none".
  std::string compression = "lz4";
  // rocksdb: write-behind tiles are also merged into the stored tiles once one tile has
  // gathered this many updates (a query of its user merges them all). At least 1.
  std::size_t write_behind_tile_updates = 16;
  // rocksdb: users whose day tiles written since the last fold into base tiles are remembered
  // (about 50 bytes each), so that the next fold visits only them; past it, a fold scans every
  // user's tiles. 0: every fold scans.
  std::size_t fold_index_users = std::size_t{1} << 20;
  // Both kinds: bytes of merged runs of tiles kept for queries (the span cache); 0: none.
  std::uint64_t span_cache = std::uint64_t{64} << 20;
  // Both kinds: users an expiry's fold (RocksDB) or walk (Redis) visits between two commits;
  // 0: all at once.
  std::size_t fold_slice_users = 64;
};

struct EventStoreConfig {
  TimeMs retention = 7 * kDayMs;     // raw events older than stream time - retention expire
  TimeMs max_future_skew = kHourMs;  // events with ts > wall clock + this are rejected
  // Events up to this far behind stream time are accepted and counted exactly once; older
  // ones are rejected as too late. Absent: the longest finite window of any signal, and at
  // least the retention (the engine resolves it, see Engine::late_horizon()).
  std::optional<TimeMs> late_horizon;
  // How many stored raw events per second `serve` folds when it builds a new or changed
  // signal's state from them in the background (docs/signal-lifecycle.md); 0: no limit.
  std::uint64_t bootstrap_rate = 20000;
};

struct IngestConfig {
  std::string kind;     // http | kafka
  ConfigParams params;  // kafka: brokers, topic, group, format
  ConfigLocation where;
};

struct SourceConfig {
  std::string name;
  std::string kind;             // table | fasttext | redis
  std::filesystem::path path;   // table: TSV file, absolute
  std::string key;              // table: key column
  std::filesystem::path model;  // fasttext: model file, absolute
  ConfigParams params;          // anything else: those its kind declares, or common ones
  ConfigLocation where;
};

enum class FeatureType { kStrings, kVector, kNumber };

struct FeatureConfig {
  std::string name;
  std::string source;
  std::string key;    // a value reference: item_id, query, attrs.NAME, feature
  std::string field;  // table column; empty for fasttext
  FeatureType type = FeatureType::kStrings;
  int top = 0;          // fasttext: labels kept (0: source default)
  double min_prob = 0;  // fasttext: lowest probability kept
  ConfigLocation where;
};

// A whole config file (docs/config.md). Every section but `signals` has defaults. Paths are made
// absolute against the config file's folder.
struct Config {
  std::filesystem::path file;
  ServerConfig server;
  LogConfig log;
  StorageConfig storage;
  EventStoreConfig event_store;
  std::vector<IngestConfig> ingest;  // absent or empty in the file: HTTP only
  std::vector<SourceConfig> sources;
  std::vector<FeatureConfig> features;
  std::vector<SignalConfig> signals;
  std::vector<ViewConfig> views;
  std::vector<std::filesystem::path> plugins;    // absolute
  std::vector<ConfigLocation> plugin_locations;  // where plugins[i] is written
};

// Whether `signalbox serve` takes events over HTTP (POST /v1/events) and gRPC (IngestEvents):
// when `ingest` is absent or empty (the default, HTTP only) or lists {kind: http}. A list of
// other inputs alone (Kafka) turns both off.
bool ingests_over_http(const Config& config);

// Whether `s` is an address as server.http and server.grpc take it: "host:port", port 1 to
// 65535.
bool is_endpoint(std::string_view s);

// Reads and checks the structure of a config file: YAML syntax, known sections and keys,
// types, durations, unique names. Throws ConfigError naming file, line and key. Semantic
// checks that need the registries (an unknown aggregator, transform or source kind, a
// parameter the kind does not declare) are made when the engine is built from the config,
// with the same message form.
Config load_config(const std::filesystem::path& file);

// The same, from text, as if read from `file` (for tests and `check` on stdin).
Config parse_config(const std::string& yaml_text, const std::filesystem::path& file);

// How far behind stream time an event is still accepted (and its id remembered for
// deduplication): event_store.late_horizon when written, else the longest window of any
// signal; never less than the retention plus max_future_skew, for which raw events are kept.
TimeMs late_horizon(const Config& config);

}  // namespace signalbox
