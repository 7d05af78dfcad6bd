#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string_view>
#include <string>
#include <utility>
#include <vector>

#include "signalbox/common/time.h"

namespace signalbox {

// Where a config item was written, for error messages of the form "file:line: key: problem".
struct ConfigLocation {
  std::string file;
  int line = 0;       // 1-based; 0 when unknown
  std::string path;   // the item's dotted path ("signals[2]"); empty for top-level places
};

// Throws ConfigError("<file>:<line>: <key>: <problem>"). A key not already under the
// location's path is put under it ("k" at signals[2] reads "signals[2].k").
[[noreturn]] void throw_config_error(const ConfigLocation& where, std::string_view key,
                                     std::string_view problem);

// A parameter not known to the loader (for aggregators, views and sources, which declare the
// parameters they take), kept as written with its location.
struct ConfigParam {
  // As written; for a list of single values, "[a, b, c]" (so that it still identifies the
  // parameter in fingerprints and descriptions); empty for anything else not single.
  std::string text;
  ConfigLocation where;
  // False when written as a list or mapping. Whether the key is known at all is decided
  // first, by the kind it is written for; then its shape (ParamSpec::list).
  bool scalar = true;
  // For a list whose items are all single values: true, with the items as written.
  bool list = false;
  std::vector<std::string> items;
};
using ConfigParams = std::map<std::string, ConfigParam, std::less<>>;

// One parameter a kind of aggregator, view or source takes, declared where the kind is
// registered: its key and what it means, in one line.
struct ParamSpec {
  std::string name;
  std::string meaning;
  // True when the parameter is a list of single values (`quantiles: [0.5, 0.9]`).
  bool list = false;
};
using ParamSpecs = std::vector<ParamSpec>;

// Throws ConfigError at the first parameter in `params` that `accepted` does not declare, in
// the form "file:line: signals[2].action: unknown key for aggregator count (did you mean
// actions?)": `owner` ("aggregator count") says whose keys they are, and `entry_keys` are
// the keys every entry of the section takes (name, aggregator, ...), which the loader has
// already taken out of `params` but which a misspelling may be close to. The closest key of
// either is suggested; when none is close the message lists them all. A declared parameter
// of another shape is refused too: a single value written as a list or mapping ("must be a
// single value"), a list parameter written otherwise ("must be a list of single values").
void check_params(const ConfigParams& params, const ParamSpecs& accepted, std::string_view owner,
                  const std::vector<std::string>& entry_keys);

// The problem text for an unknown `key` among `known`: "unknown key[ for <owner>] (did you
// mean <closest>?)" when one is close to it (a few edits apart, ignoring case), else
// "... (expected a, b or c)".
std::string unknown_key_problem(std::string_view key, const std::vector<std::string>& known,
                                std::string_view owner = {});

// The entry of `known` closest to `text` when it is close enough to be a likely misspelling
// (a small edit distance for the length, letters compared ignoring case); empty otherwise.
// Ties go to the entry listed first.
std::string closest_match(std::string_view text, const std::vector<std::string>& known);

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
  TimeMs idle_timeout = 60'000;         // a keep-alive connection idle this long is closed
  TimeMs request_timeout = 30'000;      // longest time to receive one request, once begun
  TimeMs query_timeout = 10'000;        // deadline of a query (X-Request-Timeout-Ms may shorten)
  TimeMs shutdown_timeout = 30'000;     // on stop: longest wait for requests being answered
  std::size_t max_connections = 1024;   // open HTTP connections; more are answered 503
  std::size_t max_inflight_bytes = 256 * 1024 * 1024;  // request bytes held at once, all
                                                       // connections and both front ends
  std::size_t max_queued_requests = 1024;  // requests received and not yet answered
  std::size_t max_events_per_request = 100'000;  // gRPC IngestEvents
  ServerAuthConfig auth;
  std::optional<ServerTlsConfig> tls;
};

struct LogConfig {
  std::string level = "info";          // trace | debug | info | warn | error | off
  std::string format = "text";         // text | json (one JSON object per line)
  TimeMs slow_query = 1000;            // query requests slower than this are logged (warn)
};

struct StorageConfig {
  std::string kind = "rocksdb";        // rocksdb | redis
  std::filesystem::path path;          // rocksdb: data folder, absolute (default <config dir>/data)
  std::vector<std::string> nodes;      // redis: host:port of each node
  std::string password;                // redis: "env:NAME" or "file:PATH", read when the store opens
  std::string key_prefix = "signalbox";  // redis: starts every key
  TimeMs timeout = 2000;               // redis: connect and reply timeout
  std::size_t pool = 4;                // redis: idle connections kept per node
  // rocksdb: fsync the write-ahead log before a write is acknowledged ("always"), or leave
  // it to the operating system ("none": an acknowledged write survives a crash of the
  // process, not a power loss).
  bool sync = false;
  // rocksdb: writes are refused (503) while the store's file system has less free space than
  // this, so that RocksDB's own flushes and compactions never meet a full disk; 0: no check.
  std::uint64_t reserve = std::uint64_t{64} << 20;
};

struct EventStoreConfig {
  TimeMs retention = 7 * kDayMs;       // raw events older than stream time - retention expire
  TimeMs max_future_skew = kHourMs;    // events with ts > wall clock + this are rejected
  // Events up to this far behind stream time are accepted and counted exactly once; older
  // ones are rejected as too late. Absent: the longest finite window of any signal, and at
  // least the retention (the engine resolves it, see Engine::late_horizon()).
  std::optional<TimeMs> late_horizon;
  // How many stored raw events per second `serve` folds when it builds a new or changed
  // signal's state from them in the background (docs/signal-lifecycle.md); 0: no limit.
  std::uint64_t bootstrap_rate = 20000;
};

struct IngestConfig {
  std::string kind;                    // http | kafka
  ConfigParams params;                 // kafka: brokers, topic, group, format
  ConfigLocation where;
};

struct SourceConfig {
  std::string name;
  std::string kind;                    // table | fasttext | redis
  std::filesystem::path path;          // table: TSV file, absolute
  std::string key;                     // table: key column
  std::filesystem::path model;         // fasttext: model file, absolute
  ConfigParams params;                 // anything else: those its kind declares, or common ones
  ConfigLocation where;
};

enum class FeatureType { kStrings, kVector, kNumber };

struct FeatureConfig {
  std::string name;
  std::string source;
  std::string key;                     // a value reference: item_id, query, attrs.NAME, feature
  std::string field;                   // table column; empty for fasttext
  FeatureType type = FeatureType::kStrings;
  int top = 0;                         // fasttext: labels kept (0: source default)
  double min_prob = 0;                 // fasttext: lowest probability kept
  ConfigLocation where;
};

struct WindowConfig {
  std::string text;                    // as written, e.g. "7d": the key in answers
  TimeMs length = 0;
};

struct SignalConfig {
  std::string name;
  std::string aggregator;
  std::string group_by;                // empty: not grouped
  std::string value;                   // empty: none
  std::optional<std::vector<std::pair<std::string, double>>> actions;  // absent: all, weight 1
  std::vector<WindowConfig> windows;   // empty: one result over all history
  ConfigParams params;                 // k, half_life, ...: those its aggregator declares
  ConfigLocation where;
};

struct ViewConfig {
  std::string name;
  std::string signal;
  std::string window;                  // as written in the signal's windows; empty for none
  std::string transform;
  ConfigParams params;                 // k, gap, ...: those its transform declares
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
  std::vector<IngestConfig> ingest;    // absent or empty in the file: HTTP only
  std::vector<SourceConfig> sources;
  std::vector<FeatureConfig> features;
  std::vector<SignalConfig> signals;
  std::vector<ViewConfig> views;
  std::vector<std::filesystem::path> plugins;       // absolute
  std::vector<ConfigLocation> plugin_locations;     // where plugins[i] is written
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

// Helpers for aggregators and views that read ConfigParams; each throws ConfigError naming
// the parameter on a bad value. `fallback` is used when the parameter is absent; without
// one, absence is an error too.
std::int64_t param_int(const ConfigParams& params, std::string_view key, const ConfigLocation& where,
                       std::optional<std::int64_t> fallback = std::nullopt);
double param_double(const ConfigParams& params, std::string_view key, const ConfigLocation& where,
                    std::optional<double> fallback = std::nullopt);
TimeMs param_duration(const ConfigParams& params, std::string_view key, const ConfigLocation& where,
                      std::optional<TimeMs> fallback = std::nullopt);
// The items of list parameter `key` as written; nullopt when absent and not `required`
// (ConfigError when absent and required, or not a list of single values).
std::optional<std::vector<std::string>> param_list(const ConfigParams& params, std::string_view key,
                                                   const ConfigLocation& where, bool required);

}  // namespace signalbox
