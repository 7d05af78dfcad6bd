#include "signalbox/config/config.h"

#include <unistd.h>

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "signalbox/common/error.h"

namespace signalbox {
namespace {

namespace fs = std::filesystem;

// The example from docs/config.md, verbatim, so a drift between the docs and the loader shows here.
constexpr const char* kSpecExample = R"(server:   { http: 127.0.0.1:8080, grpc: 127.0.0.1:9090 }
storage:  { kind: rocksdb, path: ./data }        # embedded default
# storage: { kind: redis, nodes: [127.0.0.1:7000, 127.0.0.1:7001, 127.0.0.1:7002] }  # shared, Redis Cluster or single node
event_store: { retention: 7d }
ingest:
  - { kind: http }                                 # POST /v1/events
  - { kind: kafka, brokers: 127.0.0.1:9092, topic: user-events, group: signalbox, format: json }  # or protobuf

sources:                                           # where content features come from
  pins:    { kind: table, path: examples/pins.tsv, key: item_id }
  queries: { kind: fasttext, model: examples/query_interests.bin }
  # also: { kind: redis, ... }  (a hash per key)

features:                                          # materializer query specs: source, query key, feature
  - { name: pin.categories, source: pins, key: item_id, field: categories, type: strings }
  - { name: pin.embedding,  source: pins, key: item_id, field: embedding,  type: vector }
  - { name: query.categories, source: queries, key: query, type: strings, top: 3, min_prob: 0.1 }

signals:
  - { name: category_counts, aggregator: count, group_by: pin.categories, windows: [1h, 1d, 7d, 30d, 90d] }
  - { name: saves, aggregator: count, actions: { save: 1 }, windows: [1d, 7d, 90d] }
  - { name: category_affinity, aggregator: decayed_count, group_by: pin.categories, half_life: 7d, actions: { save: 3, click: 1 } }
  - { name: recent_pins, aggregator: last_k, value: item_id, k: 50 }
  - { name: distinct_pins, aggregator: distinct_count, value: item_id, windows: [1d, 30d] }
  - { name: pin_embedding, aggregator: mean, value: pin.embedding, windows: [1d, 7d, 90d] }
  - { name: search_interests, aggregator: count, group_by: query.categories, actions: { search: 1 }, windows: [1d, 30d] }

views:
  - { name: top_categories_7d, signal: category_counts, window: 7d, transform: top_k, k: 5 }
  - { name: category_mix_30d,  signal: category_counts, window: 30d, transform: normalize }
  - { name: last_session_pins, signal: recent_pins, transform: last_session, gap: 30m }
)";

constexpr const char* kMinimal = "signals: [{ name: s, aggregator: count }]\n";

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("signalbox_config_test_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p;
  }

  fs::path dir_;
};

// The message of the ConfigError that parsing `text` as "cfg.yaml" throws.
std::string error_of(const std::string& text) {
  try {
    parse_config(text, "cfg.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

// Most error tests need a valid signals section around the part under test.
std::string with_signals(const std::string& text) {
  return text + "signals: [{ name: s, aggregator: count, windows: [1d, 7d] }]\n";
}

TEST_F(ConfigTest, SpecExample) {
  fs::path file = write("signalbox.yaml", kSpecExample);
  Config c = load_config(file);
  EXPECT_EQ(c.file, file);

  EXPECT_EQ(c.server.http, "127.0.0.1:8080");
  ASSERT_TRUE(c.server.grpc.has_value());
  EXPECT_EQ(*c.server.grpc, "127.0.0.1:9090");
  EXPECT_EQ(c.server.max_body_bytes, 16u * 1024 * 1024);

  EXPECT_EQ(c.storage.kind, "rocksdb");
  EXPECT_EQ(c.storage.path, dir_ / "data");
  EXPECT_TRUE(c.storage.nodes.empty());
  EXPECT_EQ(c.event_store.retention, 7 * kDayMs);
  EXPECT_EQ(c.event_store.max_future_skew, kHourMs);

  ASSERT_EQ(c.ingest.size(), 2u);
  EXPECT_EQ(c.ingest[0].kind, "http");
  EXPECT_TRUE(c.ingest[0].params.empty());
  EXPECT_EQ(c.ingest[0].where.line, 6);
  EXPECT_EQ(c.ingest[0].where.file, file.string());
  EXPECT_EQ(c.ingest[1].kind, "kafka");
  EXPECT_EQ(c.ingest[1].where.line, 7);
  ASSERT_EQ(c.ingest[1].params.size(), 4u);
  EXPECT_EQ(c.ingest[1].params.at("brokers").text, "127.0.0.1:9092");
  EXPECT_EQ(c.ingest[1].params.at("topic").text, "user-events");
  EXPECT_EQ(c.ingest[1].params.at("group").text, "signalbox");
  EXPECT_EQ(c.ingest[1].params.at("format").text, "json");
  EXPECT_EQ(c.ingest[1].params.at("format").where.line, 7);

  ASSERT_EQ(c.sources.size(), 2u);
  EXPECT_EQ(c.sources[0].name, "pins");
  EXPECT_EQ(c.sources[0].kind, "table");
  EXPECT_EQ(c.sources[0].path, dir_ / "examples/pins.tsv");
  EXPECT_EQ(c.sources[0].key, "item_id");
  EXPECT_EQ(c.sources[0].where.line, 10);
  EXPECT_EQ(c.sources[1].name, "queries");
  EXPECT_EQ(c.sources[1].kind, "fasttext");
  EXPECT_EQ(c.sources[1].model, dir_ / "examples/query_interests.bin");
  EXPECT_TRUE(c.sources[1].path.empty());
  EXPECT_EQ(c.sources[1].where.line, 11);

  ASSERT_EQ(c.features.size(), 3u);
  EXPECT_EQ(c.features[0].name, "pin.categories");
  EXPECT_EQ(c.features[0].source, "pins");
  EXPECT_EQ(c.features[0].key, "item_id");
  EXPECT_EQ(c.features[0].field, "categories");
  EXPECT_EQ(c.features[0].type, FeatureType::kStrings);
  EXPECT_EQ(c.features[0].where.line, 15);
  EXPECT_EQ(c.features[1].type, FeatureType::kVector);
  EXPECT_EQ(c.features[1].field, "embedding");
  EXPECT_EQ(c.features[2].name, "query.categories");
  EXPECT_EQ(c.features[2].source, "queries");
  EXPECT_EQ(c.features[2].key, "query");
  EXPECT_EQ(c.features[2].field, "");
  EXPECT_EQ(c.features[2].top, 3);
  EXPECT_DOUBLE_EQ(c.features[2].min_prob, 0.1);

  ASSERT_EQ(c.signals.size(), 7u);
  const SignalConfig& counts = c.signals[0];
  EXPECT_EQ(counts.name, "category_counts");
  EXPECT_EQ(counts.aggregator, "count");
  EXPECT_EQ(counts.group_by, "pin.categories");
  EXPECT_EQ(counts.value, "");
  EXPECT_FALSE(counts.actions.has_value());
  EXPECT_TRUE(counts.params.empty());
  EXPECT_EQ(counts.where.line, 20);
  ASSERT_EQ(counts.windows.size(), 5u);
  EXPECT_EQ(counts.windows[0].text, "1h");
  EXPECT_EQ(counts.windows[0].length, kHourMs);
  EXPECT_EQ(counts.windows[4].text, "90d");
  EXPECT_EQ(counts.windows[4].length, 90 * kDayMs);

  const SignalConfig& affinity = c.signals[2];
  EXPECT_EQ(affinity.aggregator, "decayed_count");
  EXPECT_TRUE(affinity.windows.empty());
  ASSERT_TRUE(affinity.actions.has_value());
  std::vector<std::pair<std::string, double>> want = {{"save", 3}, {"click", 1}};
  EXPECT_EQ(*affinity.actions, want);
  ASSERT_EQ(affinity.params.size(), 1u);
  EXPECT_EQ(param_duration(affinity.params, "half_life", affinity.where), 7 * kDayMs);

  const SignalConfig& recent = c.signals[3];
  EXPECT_EQ(recent.value, "item_id");
  EXPECT_EQ(param_int(recent.params, "k", recent.where), 50);
  EXPECT_EQ(c.signals[5].value, "pin.embedding");
  EXPECT_EQ(c.signals[6].group_by, "query.categories");
  EXPECT_EQ(c.signals[6].where.line, 26);

  ASSERT_EQ(c.views.size(), 3u);
  EXPECT_EQ(c.views[0].name, "top_categories_7d");
  EXPECT_EQ(c.views[0].signal, "category_counts");
  EXPECT_EQ(c.views[0].window, "7d");
  EXPECT_EQ(c.views[0].transform, "top_k");
  EXPECT_EQ(param_int(c.views[0].params, "k", c.views[0].where), 5);
  EXPECT_EQ(c.views[0].where.line, 29);
  EXPECT_EQ(c.views[1].window, "30d");
  EXPECT_TRUE(c.views[1].params.empty());
  EXPECT_EQ(c.views[2].window, "");
  EXPECT_EQ(c.views[2].transform, "last_session");
  EXPECT_EQ(param_duration(c.views[2].params, "gap", c.views[2].where), 30 * kMinuteMs);

  EXPECT_TRUE(c.plugins.empty());
}

TEST_F(ConfigTest, DefaultsWhenSectionsAbsent) {
  fs::path file = write("min.yaml", kMinimal);
  Config c = load_config(file);
  EXPECT_EQ(c.server.http, "127.0.0.1:8080");
  EXPECT_FALSE(c.server.grpc.has_value());
  EXPECT_EQ(c.server.max_body_bytes, 16u * 1024 * 1024);
  EXPECT_EQ(c.storage.kind, "rocksdb");
  EXPECT_EQ(c.storage.path, dir_ / "data");
  EXPECT_EQ(c.event_store.retention, 7 * kDayMs);
  EXPECT_EQ(c.event_store.max_future_skew, kHourMs);
  EXPECT_TRUE(c.ingest.empty());
  EXPECT_TRUE(c.sources.empty());
  EXPECT_TRUE(c.features.empty());
  EXPECT_TRUE(c.views.empty());
  EXPECT_TRUE(c.plugins.empty());
  ASSERT_EQ(c.signals.size(), 1u);
  EXPECT_EQ(c.signals[0].name, "s");
  EXPECT_TRUE(c.signals[0].windows.empty());
  EXPECT_FALSE(c.signals[0].actions.has_value());
  EXPECT_EQ(c.signals[0].where.line, 1);
}

TEST_F(ConfigTest, EmptySectionsMeanDefaults) {
  Config c = parse_config(with_signals("server:\nstorage:\nevent_store:\ningest: []\nsources: {}\n"
                                       "features: []\nviews: []\nplugins:\n"),
                          dir_ / "c.yaml");
  EXPECT_EQ(c.server.http, "127.0.0.1:8080");
  EXPECT_EQ(c.storage.path, dir_ / "data");
  EXPECT_TRUE(c.ingest.empty());
  EXPECT_TRUE(c.sources.empty());
}

TEST_F(ConfigTest, SettingsAndPaths) {
  Config c = parse_config(with_signals(R"(server:
  http: 0.0.0.0:80
  grpc: "[::1]:65535"
  max_body_bytes: 1024
storage:
  kind: redis
  path: /var/lib/sb
  nodes:
    - 10.0.0.1:7000
    - redis-b:7001
event_store: { retention: 36h, max_future_skew: 5m }
sources:
  cache: { kind: redis, address: 127.0.0.1:6379, prefix: "pin:" }
features:
  - { name: price, source: cache, key: attrs.sku, field: price, type: number }
  - { name: price.bucket, source: cache, key: price, field: bucket }
plugins: [plugins/libmine.so, /opt/lib/libother.so, ../shared/libx.so]
)"),
                          dir_ / "conf" / "c.yaml");
  EXPECT_EQ(c.server.http, "0.0.0.0:80");
  EXPECT_EQ(*c.server.grpc, "[::1]:65535");
  EXPECT_EQ(c.server.max_body_bytes, 1024u);
  EXPECT_EQ(c.storage.kind, "redis");
  EXPECT_EQ(c.storage.path, "/var/lib/sb");
  EXPECT_EQ(c.storage.nodes, (std::vector<std::string>{"10.0.0.1:7000", "redis-b:7001"}));
  EXPECT_EQ(c.event_store.retention, 36 * kHourMs);
  EXPECT_EQ(c.event_store.max_future_skew, 5 * kMinuteMs);
  ASSERT_EQ(c.sources.size(), 1u);
  EXPECT_EQ(c.sources[0].params.at("address").text, "127.0.0.1:6379");
  EXPECT_EQ(c.sources[0].params.at("prefix").text, "pin:");
  EXPECT_EQ(c.features[0].type, FeatureType::kNumber);
  EXPECT_EQ(c.features[0].key, "attrs.sku");
  EXPECT_EQ(c.features[1].key, "price");  // keyed by a feature defined above
  EXPECT_EQ(c.features[1].type, FeatureType::kStrings);
  ASSERT_EQ(c.plugins.size(), 3u);
  EXPECT_EQ(c.plugins[0], dir_ / "conf/plugins/libmine.so");
  EXPECT_EQ(c.plugins[1], "/opt/lib/libother.so");
  EXPECT_EQ(c.plugins[2], dir_ / "shared/libx.so");
}

TEST_F(ConfigTest, RelativeFileResolvesAgainstWorkingDirectory) {
  Config c = parse_config(kMinimal, "sub/c.yaml");
  EXPECT_EQ(c.storage.path, fs::current_path() / "sub/data");
  EXPECT_EQ(c.file, "sub/c.yaml");
  EXPECT_EQ(c.signals[0].where.file, "sub/c.yaml");
}

TEST_F(ConfigTest, CustomSourceKindKeepsItsParameters) {
  // The loader accepts any well-formed kind; the Materializer rejects one nobody registered.
  Config c = parse_config(with_signals("sources:\n"
                                       "  geo: { kind: geo_ip, path: db/geo.mmdb, key: ip, "
                                       "level: city }\n"),
                          dir_ / "c.yaml");
  ASSERT_EQ(c.sources.size(), 1u);
  EXPECT_EQ(c.sources[0].kind, "geo_ip");
  EXPECT_EQ(c.sources[0].path, dir_ / "db/geo.mmdb");
  EXPECT_EQ(c.sources[0].key, "ip");
  EXPECT_EQ(c.sources[0].params.at("level").text, "city");
}

TEST_F(ConfigTest, StorageSync) {
  EXPECT_FALSE(parse_config(with_signals(""), "c.yaml").storage.sync);
  EXPECT_FALSE(parse_config(with_signals("storage: { sync: none }\n"), "c.yaml").storage.sync);
  EXPECT_TRUE(parse_config(with_signals("storage: { sync: always }\n"), "c.yaml").storage.sync);
}

TEST_F(ConfigTest, StorageReserve) {
  EXPECT_EQ(parse_config(with_signals(""), "c.yaml").storage.reserve, 64u << 20);
  EXPECT_EQ(parse_config(with_signals("storage: { reserve: 1GiB }\n"), "c.yaml").storage.reserve,
            1u << 30);
  EXPECT_EQ(parse_config(with_signals("storage: { reserve: 0 }\n"), "c.yaml").storage.reserve, 0u);
  EXPECT_EQ(error_of(with_signals("storage: { reserve: lots }\n")),
            "cfg.yaml:1: storage.reserve: \"lots\" is not a size (use bytes, or <integer><unit> "
            "with unit "
            "B, KiB, MiB, GiB or TiB, e.g. 1GiB; 0 for no reserve)");
  EXPECT_EQ(parse_config(with_signals(""), "c.yaml").storage.write_behind, 32u << 20);
  EXPECT_EQ(parse_config(with_signals("storage: { write_behind: 4MiB }\n"), "c.yaml")
                .storage.write_behind,
            4u << 20);
  EXPECT_EQ(
      parse_config(with_signals("storage: { write_behind: 0 }\n"), "c.yaml").storage.write_behind,
      0u);
  EXPECT_EQ(error_of(with_signals("storage: { write_behind: yes }\n")),
            "cfg.yaml:1: storage.write_behind: \"yes\" is not a size (use bytes, or "
            "<integer><unit> with unit B, KiB, MiB, GiB or TiB, e.g. 1GiB; 0 for none: every "
            "commit writes its tiles)");
}

TEST_F(ConfigTest, RocksdbMemoryKeysTakeSizes) {
  const Config defaults = parse_config(with_signals(""), "c.yaml");
  EXPECT_EQ(defaults.storage.block_cache, 256u << 20);
  EXPECT_EQ(defaults.storage.write_buffer, 16u << 20);
  const Config small =
      parse_config(with_signals("storage: { block_cache: 0, write_buffer: 8MiB }\n"), "c.yaml");
  EXPECT_EQ(small.storage.block_cache, 0u);
  EXPECT_EQ(small.storage.write_buffer, 8u << 20);
  EXPECT_EQ(error_of(with_signals("storage: { write_buffer: 0 }\n")),
            "cfg.yaml:1: storage.write_buffer: 0 is below 1MiB, the least memtable");
  EXPECT_EQ(error_of(with_signals("storage: { block_cache: lots }\n")),
            "cfg.yaml:1: storage.block_cache: \"lots\" is not a size (use bytes, or "
            "<integer><unit> with unit B, KiB, MiB, GiB or TiB, e.g. 1GiB; 0 for no block cache)");
}

TEST_F(ConfigTest, RocksdbCompressionIsOneOfThreeNames) {
  EXPECT_EQ(parse_config(with_signals(""), "c.yaml").storage.compression, "lz4");
  for (const char* name : {"lz4", "zstd", "none"}) {
    EXPECT_EQ(parse_config(with_signals(std::string("storage: { compression: ") + name + " }\n"),
                           "c.yaml")
                  .storage.compression,
              name);
  }
  EXPECT_EQ(
      error_of(with_signals("storage: { compression: gzip }\n")),
      "cfg.yaml:1: storage.compression: unknown compression \"gzip\" (use lz4, zstd or none)");
}

TEST_F(ConfigTest, RocksdbTuningCountsAreReadAndRefusedOutOfRange) {
  const Config defaults = parse_config(with_signals(""), "c.yaml");
  EXPECT_EQ(defaults.storage.write_behind_tile_updates, 16u);
  EXPECT_EQ(defaults.storage.fold_index_users, 1u << 20);
  const Config set = parse_config(
      with_signals("storage: { write_behind_tile_updates: 1, fold_index_users: 0 }\n"), "c.yaml");
  EXPECT_EQ(set.storage.write_behind_tile_updates, 1u);
  EXPECT_EQ(set.storage.fold_index_users, 0u);
  EXPECT_EQ(parse_config(with_signals("storage: { fold_index_users: 4000000 }\n"), "c.yaml")
                .storage.fold_index_users,
            4'000'000u);
  EXPECT_EQ(error_of(with_signals("storage: { write_behind_tile_updates: 0 }\n")),
            "cfg.yaml:1: storage.write_behind_tile_updates: must be an integer from 1 to 1000000");
  EXPECT_EQ(error_of(with_signals("storage: { write_behind_tile_updates: many }\n")),
            "cfg.yaml:1: storage.write_behind_tile_updates: must be an integer from 1 to 1000000");
  EXPECT_EQ(error_of(with_signals("storage: { fold_index_users: -1 }\n")),
            "cfg.yaml:1: storage.fold_index_users: must be an integer from 0 (every fold scans "
            "all users) to 1000000000");
}

TEST_F(ConfigTest, EngineTuningKeysAreReadAndRefusedByName) {
  const Config defaults = parse_config(with_signals(""), "c.yaml");
  EXPECT_EQ(defaults.storage.span_cache, 64u << 20);
  EXPECT_EQ(defaults.storage.fold_slice_users, 64u);
  EXPECT_EQ(defaults.server.inline_query_budget, 1);
  const Config set = parse_config(
      with_signals(
          "server: { inline_query_budget: 0 }\n"
          "storage: { kind: redis, nodes: [h:1], span_cache: 1GiB, fold_slice_users: 0 }\n"),
      "c.yaml");
  EXPECT_EQ(set.storage.span_cache, 1u << 30);
  EXPECT_EQ(set.storage.fold_slice_users, 0u);
  EXPECT_EQ(set.server.inline_query_budget, 0);
  EXPECT_EQ(error_of(with_signals("storage: { span_cache: big }\n")),
            "cfg.yaml:1: storage.span_cache: \"big\" is not a size (use bytes, or "
            "<integer><unit> with unit B, KiB, MiB, GiB or TiB, e.g. 1GiB; 0 for no cache: every "
            "query merges its tiles)");
  EXPECT_EQ(error_of(with_signals("storage: { fold_slice_users: -1 }\n")),
            "cfg.yaml:1: storage.fold_slice_users: must be an integer from 0 (all users at once) "
            "to 1000000000");
  EXPECT_NE(error_of(with_signals("server: { inline_query_budget: soon }\n"))
                .find("server.inline_query_budget"),
            std::string::npos);
}

TEST_F(ConfigTest, RocksdbIgnoresNodes) {
  Config c = parse_config(with_signals("storage: { kind: rocksdb, nodes: [h:1] }\n"), "c.yaml");
  EXPECT_TRUE(c.storage.nodes.empty());
}

// --- file and YAML errors ---

TEST_F(ConfigTest, MissingFile) {
  fs::path missing = dir_ / "nope.yaml";
  try {
    load_config(missing);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), missing.string() + ": cannot read: No such file or directory");
  }
}

TEST_F(ConfigTest, DirectoryIsNotAFile) {
  try {
    load_config(dir_);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), dir_.string() + ": cannot read: Is a directory");
  }
}

TEST(ConfigErrors, YamlSyntax) {
  EXPECT_EQ(error_of("signals:\n  - { name: s, aggregator: count\nviews: []\n"),
            "cfg.yaml:3: yaml: end of map flow not found");
  EXPECT_EQ(error_of("signals: [1, 2\n"), "cfg.yaml:2: yaml: end of sequence flow not found");
}

TEST(ConfigErrors, MoreThanOneDocument) {
  EXPECT_EQ(error_of(std::string(kMinimal) + "---\nviews: []\n"),
            "cfg.yaml:3: yaml: more than one document");
}

TEST(ConfigErrors, TopLevel) {
  EXPECT_EQ(error_of(""), "cfg.yaml:1: signals: required");
  EXPECT_EQ(error_of("# nothing\n"), "cfg.yaml:1: signals: required");
  EXPECT_EQ(error_of("server: {}\n"), "cfg.yaml:1: signals: required");
  EXPECT_EQ(error_of("- a\n- b\n"), "cfg.yaml:1: config: must be a mapping of sections");
  EXPECT_EQ(error_of(std::string(kMinimal) + "\nsignal: []\n"),
            "cfg.yaml:3: signal: unknown section (expected server, log, storage, event_store, "
            "ingest, sources, features, signals, views or plugins)");
}

TEST(ConfigErrors, Log) {
  auto with = [](const std::string& log) { return error_of(std::string(kMinimal) + log); };
  EXPECT_EQ(
      with("log: { level: loud }\n"),
      R"(cfg.yaml:2: log.level: unknown level "loud" (use trace, debug, info, warn, error or off))");
  EXPECT_EQ(with("log: { level: [info] }\n"), "cfg.yaml:2: log.level: must be a string");
  EXPECT_EQ(with("log: { format: xml }\n"),
            R"(cfg.yaml:2: log.format: unknown format "xml" (use text or json))");
  EXPECT_EQ(
      with("log: { slow_query: 5 }\n").rfind(R"(cfg.yaml:2: log.slow_query: bad duration "5")", 0),
      0u);
  EXPECT_EQ(with("log: { levle: info }\n"),
            "cfg.yaml:2: log.levle: unknown key (did you mean level?)");
}

TEST(ConfigLog, DefaultsAndValues) {
  Config defaults = parse_config(kMinimal, "cfg.yaml");
  EXPECT_EQ(defaults.log.level, "info");
  EXPECT_EQ(defaults.log.format, "text");
  EXPECT_EQ(defaults.log.slow_query, 1000);
  Config set = parse_config(
      std::string(kMinimal) + "log: { level: warn, format: json, slow_query: 250ms }\n",
      "cfg.yaml");
  EXPECT_EQ(set.log.level, "warn");
  EXPECT_EQ(set.log.format, "json");
  EXPECT_EQ(set.log.slow_query, 250);
}

TEST(ConfigErrors, DuplicateKey) {
  EXPECT_EQ(error_of(std::string(kMinimal) + "server: {}\nsignals: []\n"),
            "cfg.yaml:3: signals: duplicate key (first at line 1)");
  EXPECT_EQ(error_of(with_signals("server:\n  http: a:1\n  http: b:2\n")),
            "cfg.yaml:3: server.http: duplicate key (first at line 2)");
}

// --- server, storage, event_store ---

TEST(ConfigErrors, Server) {
  EXPECT_EQ(error_of(with_signals("server:\n  http: localhost\n")),
            "cfg.yaml:2: server.http: bad address \"localhost\" (use host:port, port 1-65535)");
  EXPECT_EQ(error_of(with_signals("server: { http: \"h:0\" }\n")),
            "cfg.yaml:1: server.http: bad address \"h:0\" (use host:port, port 1-65535)");
  EXPECT_EQ(error_of(with_signals("server: { grpc: \"h:65536\" }\n")),
            "cfg.yaml:1: server.grpc: bad address \"h:65536\" (use host:port, port 1-65535)");
  EXPECT_EQ(error_of(with_signals("server: { http: \":80\" }\n")),
            "cfg.yaml:1: server.http: bad address \":80\" (use host:port, port 1-65535)");
  EXPECT_EQ(error_of(with_signals("server:\n\n  max_body_bytes: 0\n")),
            "cfg.yaml:3: server.max_body_bytes: must be a positive integer");
  EXPECT_EQ(error_of(with_signals("server:\n  max_body_bytes: 1MB\n")),
            "cfg.yaml:2: server.max_body_bytes: must be a positive integer");
  EXPECT_EQ(error_of(with_signals("server:\n  http: [a]\n")),
            "cfg.yaml:2: server.http: must be a string");
  EXPECT_EQ(error_of(with_signals("server: [a]\n")), "cfg.yaml:1: server: must be a mapping");
}

TEST(ConfigErrors, ServerGuards) {
  Config c = parse_config(
      with_signals("server:\n  idle_timeout: 5s\n  request_timeout: 2s\n  query_timeout: 250ms\n"
                   "  shutdown_timeout: 3s\n  max_connections: 10\n  max_inflight_bytes: 64MiB\n"
                   "  max_queued_requests: 7\n  max_events_per_request: 500\n  query_threads: 3\n"
                   "  io_threads: 4\n"
                   "  auth: { ingest: env:IN, query: \"file:q.txt\" }\n"
                   "  tls: { cert: tls/c.pem, key: /k.pem }\n"),
      "/etc/sb/cfg.yaml");
  EXPECT_EQ(c.server.idle_timeout, 5000);
  EXPECT_EQ(c.server.request_timeout, 2000);
  EXPECT_EQ(c.server.query_timeout, 250);
  EXPECT_EQ(c.server.shutdown_timeout, 3000);
  EXPECT_EQ(c.server.max_connections, 10u);
  EXPECT_EQ(c.server.max_inflight_bytes, 64u * 1024 * 1024);
  EXPECT_EQ(c.server.max_queued_requests, 7u);
  EXPECT_EQ(c.server.max_events_per_request, 500u);
  EXPECT_EQ(c.server.query_threads, 3u);
  EXPECT_EQ(c.server.io_threads, 4u);
  EXPECT_EQ(c.server.auth.ingest, "env:IN");
  EXPECT_EQ(c.server.auth.query, "file:q.txt");
  EXPECT_TRUE(c.server.auth.metrics.empty());
  ASSERT_TRUE(c.server.tls);
  EXPECT_EQ(c.server.tls->cert, "/etc/sb/tls/c.pem");
  EXPECT_EQ(c.server.tls->key, "/k.pem");
  Config defaults = parse_config(with_signals(""), "cfg.yaml");
  EXPECT_FALSE(defaults.server.auth.any());
  EXPECT_FALSE(defaults.server.tls);
  EXPECT_EQ(defaults.server.query_threads, 0u) << "one per core, at least 2";
  EXPECT_EQ(defaults.server.io_threads, 2u);

  EXPECT_EQ(error_of(with_signals("server: { auth: { query: s3cret } }\n")),
            "cfg.yaml:1: server.auth.query: give env:NAME or file:PATH (never the token itself "
            "in the file)");
  EXPECT_EQ(error_of(with_signals("server: { auth: { admin: env:X } }\n")),
            "cfg.yaml:1: server.auth.admin: unknown key (expected ingest, query or metrics)");
  EXPECT_EQ(error_of(with_signals("server: { tls: { cert: c.pem } }\n")),
            "cfg.yaml:1: server.tls.key: required when server.tls is given (a PEM file)");
  EXPECT_EQ(error_of(with_signals("server: { idle_timeout: 0s }\n")),
            "cfg.yaml:1: server.idle_timeout: bad duration \"0s\" (use <integer><unit>, unit ms, "
            "s, m, h or d)");
  EXPECT_EQ(error_of(with_signals("server: { max_connections: -1 }\n")),
            "cfg.yaml:1: server.max_connections: must be a positive integer");
  EXPECT_EQ(error_of(with_signals("server: { query_threads: 0 }\n")),
            "cfg.yaml:1: server.query_threads: must be a positive integer");
  EXPECT_EQ(error_of(with_signals("server: { io_threads: 0 }\n")),
            "cfg.yaml:1: server.io_threads: must be a positive integer");
  EXPECT_EQ(error_of(with_signals("server: { io_threads: 100000 }\n")),
            "cfg.yaml:1: server.io_threads: must be at most 64 (got 100000)");
  EXPECT_NE(error_of(with_signals("server: { max_inflight_bytes: 1MB }\n"))
                .find("server.max_inflight_bytes: bad size \"1MB\""),
            std::string::npos);
}

TEST(ConfigErrors, UnknownKeys) {
  EXPECT_EQ(
      error_of(with_signals("server:\n  http: a:1\n  port: 8080\n")),
      "cfg.yaml:3: server.port: unknown key (expected http, grpc, max_body_bytes, "
      "idle_timeout, request_timeout, query_timeout, shutdown_timeout, max_connections, "
      "max_inflight_bytes, max_queued_requests, inline_query_budget, io_threads, query_threads, "
      "max_events_per_request, auth or tls)");
  EXPECT_EQ(error_of(with_signals("storage: { kind: rocksdb, dir: x }\n")),
            "cfg.yaml:1: storage.dir: unknown key (expected kind, path, nodes, password, "
            "key_prefix, timeout, pool, sync, reserve, write_behind, block_cache, write_buffer, "
            "compression, write_behind_tile_updates, fold_index_users, span_cache or "
            "fold_slice_users)");
  EXPECT_EQ(error_of(with_signals("event_store:\n  retention: 7d\n  retension: 7d\n")),
            "cfg.yaml:3: event_store.retension: unknown key (did you mean retention?)");
  EXPECT_EQ(error_of(with_signals("sources: { p: { kind: table, path: p.tsv, key: id } }\n"
                                  "features:\n"
                                  "  - { name: f, source: p, key: item_id, field: c, kind: x }\n")),
            "cfg.yaml:3: features[0].kind: unknown key (expected name, source, key, field, type, "
            "top or min_prob)");
}

TEST(ConfigErrors, Storage) {
  EXPECT_EQ(error_of(with_signals("storage:\n  kind: leveldb\n")),
            "cfg.yaml:2: storage.kind: unknown kind \"leveldb\" (use rocksdb or redis)");
  EXPECT_EQ(error_of(with_signals("storage:\n  kind: redis\n")),
            "cfg.yaml:2: storage.nodes: required for kind redis (a list of host:port)");
  EXPECT_EQ(error_of(with_signals("storage:\n  kind: redis\n  nodes: []\n")),
            "cfg.yaml:3: storage.nodes: required for kind redis (a list of host:port)");
  EXPECT_EQ(error_of(with_signals("storage:\n  kind: redis\n  nodes:\n    - a:1\n    - b\n")),
            "cfg.yaml:5: storage.nodes[1]: bad address \"b\" (use host:port, port 1-65535)");
  EXPECT_EQ(error_of(with_signals("storage:\n  kind: redis\n  nodes: a:1\n")),
            "cfg.yaml:3: storage.nodes: must be a list of host:port addresses");
  EXPECT_EQ(error_of(with_signals("storage:\n  path: \"\"\n")),
            "cfg.yaml:2: storage.path: must not be empty");
  const std::string redis = "storage:\n  kind: redis\n  nodes: [a:1]\n";
  EXPECT_EQ(error_of(with_signals(redis + "  password: hunter2\n")),
            "cfg.yaml:4: storage.password: give env:NAME or file:PATH (never the password itself "
            "in the file)");
  EXPECT_EQ(error_of(with_signals(redis + "  key_prefix: \"a{b\"\n")),
            "cfg.yaml:4: storage.key_prefix: must be a non-empty text without { or }");
  EXPECT_EQ(error_of(with_signals(redis + "  pool: 0\n")),
            "cfg.yaml:4: storage.pool: must be an integer from 1 to 1024");
  EXPECT_EQ(error_of(with_signals(redis + "  timeout: soon\n")),
            "cfg.yaml:4: storage.timeout: bad duration \"soon\" (use <integer><unit>, unit ms, s, "
            "m, h or d)");
  EXPECT_EQ(error_of(with_signals("storage:\n  sync: true\n")),
            "cfg.yaml:2: storage.sync: unknown mode \"true\" (use always or none)");
  EXPECT_EQ(
      error_of(with_signals(redis + "  sync: always\n")),
      "cfg.yaml:4: storage.sync: applies to kind rocksdb only (a Redis server's durability is its "
      "own appendonly and appendfsync settings)");
}

TEST(ConfigStorage, RedisKeys) {
  Config c = parse_config(
      with_signals("storage:\n  kind: redis\n  nodes: [a:1, b:2]\n  password: env:REDIS_PW\n"
                   "  key_prefix: sb-prod\n  timeout: 250ms\n  pool: 16\n"),
      "/tmp/cfg.yaml");
  EXPECT_EQ(c.storage.nodes, (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_EQ(c.storage.password, "env:REDIS_PW");
  EXPECT_EQ(c.storage.key_prefix, "sb-prod");
  EXPECT_EQ(c.storage.timeout, 250);
  EXPECT_EQ(c.storage.pool, 16u);
  Config defaults =
      parse_config(with_signals("storage:\n  kind: redis\n  nodes: [a:1]\n"), "/tmp/cfg.yaml");
  EXPECT_EQ(defaults.storage.key_prefix, "signalbox");
  EXPECT_EQ(defaults.storage.timeout, 2000);
  EXPECT_EQ(defaults.storage.pool, 4u);
  EXPECT_TRUE(defaults.storage.password.empty());
}

TEST(ConfigErrors, EventStore) {
  EXPECT_EQ(error_of(with_signals("event_store:\n  retention: 7x\n")),
            "cfg.yaml:2: event_store.retention: bad duration \"7x\" (use <integer><unit>, unit "
            "ms, s, m, h or d)");
  EXPECT_EQ(error_of(with_signals("event_store: { max_future_skew: 0s }\n")),
            "cfg.yaml:1: event_store.max_future_skew: bad duration \"0s\" (use <integer><unit>, "
            "unit ms, s, m, h or d)");
  EXPECT_EQ(error_of(with_signals("event_store: { late_horizon: soon }\n")),
            "cfg.yaml:1: event_store.late_horizon: bad duration \"soon\" (use <integer><unit>, "
            "unit ms, s, m, h or d)");
}

TEST(Config, TheLateHorizonIsTheLongestWindowUnlessWritten) {
  const std::string signals =
      "signals:\n"
      "  - { name: a, aggregator: count, windows: [1h, 30d] }\n"
      "  - { name: b, aggregator: count, windows: [90d] }\n"
      "  - { name: c, aggregator: decayed_count, half_life: 400d }\n";
  Config longest = parse_config("event_store: { retention: 7d }\n" + signals, "cfg.yaml");
  EXPECT_FALSE(longest.event_store.late_horizon);
  EXPECT_EQ(late_horizon(longest), 90 * kDayMs);
  Config written =
      parse_config("event_store: { retention: 7d, late_horizon: 14d }\n" + signals, "cfg.yaml");
  EXPECT_EQ(late_horizon(written), 14 * kDayMs);
  // Never shorter than what raw events are kept for: retention plus max_future_skew.
  Config short_one =
      parse_config("event_store: { retention: 7d, late_horizon: 1d }\n" + signals, "cfg.yaml");
  EXPECT_EQ(late_horizon(short_one), 7 * kDayMs + kHourMs);
  Config no_windows = parse_config(
      "event_store: { retention: 2d }\nsignals:\n  - { name: c, aggregator: last_k, value: "
      "item_id, k: 3 }\n",
      "cfg.yaml");
  EXPECT_EQ(late_horizon(no_windows), 2 * kDayMs + kHourMs);
}

// --- ingest, sources, features ---

TEST(ConfigErrors, Ingest) {
  EXPECT_EQ(error_of(with_signals("ingest:\n  - { topic: t }\n")),
            "cfg.yaml:2: ingest[0].kind: required");
  EXPECT_EQ(error_of(with_signals("ingest:\n  - kind: http\n  - kind: file\n")),
            "cfg.yaml:3: ingest[1].kind: unknown kind \"file\" (use http or kafka)");
  EXPECT_EQ(error_of(with_signals("ingest:\n  - { kind: kafka, brokers: b:1 }\n")),
            "cfg.yaml:2: ingest[0].topic: required for kind kafka");
  EXPECT_EQ(error_of(with_signals("ingest:\n  - kind: kafka\n    brokers: b:1\n    topic: t\n"
                                  "    format: avro\n")),
            "cfg.yaml:5: ingest[0].format: unknown format \"avro\" (use json or protobuf)");
  EXPECT_EQ(error_of(with_signals("ingest:\n  - kind: kafka\n    brokers: [b:1, b:2]\n")),
            "cfg.yaml:3: ingest[0].brokers: must be a single value");
  EXPECT_EQ(error_of(with_signals("ingest: { kind: http }\n")),
            "cfg.yaml:1: ingest: must be a list of mappings");
  EXPECT_EQ(error_of(with_signals("ingest:\n  - http\n")),
            "cfg.yaml:2: ingest[0]: must be a mapping");
  // HTTP ingest is configured in `server`; anything else written for it is a mistake.
  EXPECT_EQ(error_of(with_signals("ingest:\n  - { kind: http, topic: t }\n")),
            "cfg.yaml:2: ingest[0].topic: unknown key for ingest kind http (expected kind)");
  EXPECT_EQ(error_of(with_signals("ingest:\n  - { kinds: http }\n")),
            "cfg.yaml:2: ingest[0].kinds: unknown key (did you mean kind?)");
  EXPECT_EQ(error_of(with_signals("ingest:\n  - { kind: kafka, brokers: b:1, topik: t }\n")),
            "cfg.yaml:2: ingest[0].topik: unknown key (did you mean topic?)");
}

TEST(ConfigErrors, Sources) {
  EXPECT_EQ(error_of(with_signals("sources:\n  \"my pins\": { kind: table, path: p, key: k }\n")),
            "cfg.yaml:2: sources.my pins: bad name \"my pins\" (use 1-64 characters A-Z a-z 0-9 _ "
            ". -)");
  EXPECT_EQ(error_of(with_signals("sources:\n  pins: { path: p, key: k }\n")),
            "cfg.yaml:2: sources.pins.kind: required");
  EXPECT_EQ(error_of(with_signals("sources:\n  pins: { kind: CSV }\n")),
            "cfg.yaml:2: sources.pins.kind: bad kind \"CSV\" (use table, fasttext, redis or a "
            "registered kind of characters a-z 0-9 _)");
  EXPECT_EQ(error_of(with_signals("sources:\n  pins:\n    kind: table\n    key: k\n")),
            "cfg.yaml:3: sources.pins.path: required for a table source");
  EXPECT_EQ(error_of(with_signals("sources:\n  q:\n    kind: fasttext\n    model: m.bin\n"
                                  "    path: x\n")),
            "cfg.yaml:5: sources.q.path: not used by a fasttext source");
  // Whether `labels` is a parameter of the kind is decided when the source is built, before
  // its shape: the loader keeps it, marked as not a single value.
  Config c = parse_config(
      with_signals("sources:\n  q: { kind: fasttext, model: m, labels: [a] }\n"), "cfg.yaml");
  EXPECT_FALSE(c.sources[0].params.at("labels").scalar);
  EXPECT_EQ(c.sources[0].params.at("labels").where.line, 2);
  EXPECT_EQ(c.sources[0].params.at("labels").where.path, "sources.q");
  // A misspelt `kind` is named as such rather than `kind` reported missing.
  EXPECT_EQ(error_of(with_signals("sources:\n  pins: { knd: table, path: p, key: k }\n")),
            "cfg.yaml:2: sources.pins.knd: unknown key (did you mean kind?)");
  EXPECT_EQ(error_of(with_signals("sources:\n  - { kind: table }\n")),
            "cfg.yaml:2: sources: must be a mapping");
}

constexpr const char* kSources = R"(sources:
  pins: { kind: table, path: p.tsv, key: id }
  queries: { kind: fasttext, model: q.bin }
features:
)";  // features start at line 5

TEST(ConfigErrors, Features) {
  auto features = [](const std::string& text) {
    return error_of(with_signals(std::string(kSources) + text));
  };
  EXPECT_EQ(features("  - { name: f, source: items, key: item_id, field: c }\n"),
            "cfg.yaml:5: features[0].source: unknown source \"items\" (defined: pins, queries)");
  EXPECT_EQ(features("  - { name: f, key: item_id, field: c }\n"),
            "cfg.yaml:5: features[0].source: required");
  EXPECT_EQ(features("  - { name: f, source: pins, key: item_id, field: c }\n"
                     "  - { name: f, source: pins, key: item_id, field: d }\n"),
            "cfg.yaml:6: features[1].name: duplicate feature \"f\" (first at line 5)");
  EXPECT_EQ(features("  - { name: \"\", source: pins, key: item_id, field: c }\n"),
            "cfg.yaml:5: features[0].name: bad name \"\" (use 1-64 characters A-Z a-z 0-9 _ . -)");
  EXPECT_EQ(features("  - { name: item_id, source: pins, key: item_id, field: c }\n"),
            "cfg.yaml:5: features[0].name: \"item_id\" is an event field; choose another name");
  EXPECT_EQ(features("  - { name: f, source: pins, key: item_id }\n"),
            "cfg.yaml:5: features[0].field: required for a table source");
  EXPECT_EQ(features("  - { name: f, source: queries, key: query, field: x }\n"),
            "cfg.yaml:5: features[0].field: not used by a fasttext source");
  EXPECT_EQ(features("  - { name: f, source: queries, key: query, type: vector }\n"),
            "cfg.yaml:5: features[0].type: a fasttext source gives strings");
  EXPECT_EQ(features("  - { name: f, source: pins, key: item_id, field: c, type: list }\n"),
            "cfg.yaml:5: features[0].type: unknown type \"list\" (use strings, vector or number)");
  EXPECT_EQ(features("  - { name: f, source: pins, key: pin_id, field: c }\n"),
            "cfg.yaml:5: features[0].key: unknown reference \"pin_id\" (use item_id, query, "
            "action or attrs.NAME; no features are defined before it)");
  // A feature may only be keyed by one defined above, so there are no cycles.
  EXPECT_EQ(features("  - { name: f, source: pins, key: g, field: c }\n"
                     "  - { name: g, source: pins, key: item_id, field: c }\n"),
            "cfg.yaml:5: features[0].key: unknown reference \"g\" (use item_id, query, action "
            "or attrs.NAME; no features are defined before it)");
  EXPECT_EQ(features("  - { name: board, source: pins, key: item_id, field: b }\n"
                     "  - { name: topic, source: pins, key: g, field: t }\n"
                     "  - { name: g, source: pins, key: item_id, field: c }\n"),
            "cfg.yaml:6: features[1].key: unknown reference \"g\" (use item_id, query, action, "
            "attrs.NAME or an earlier feature: board)");
  EXPECT_EQ(features("  - { name: f, source: queries, key: query, min_prob: 1.5 }\n"),
            "cfg.yaml:5: features[0].min_prob: must be a number from 0 to 1");
  EXPECT_EQ(features("  - { name: f, source: queries, key: query, top: -1 }\n"),
            "cfg.yaml:5: features[0].top: must be an integer >= 0");
  EXPECT_EQ(features("  - { name: f, source: pins, key: item_id, field: c, top: 3 }\n"),
            "cfg.yaml:5: features[0].top: only for a fasttext source");
  EXPECT_EQ(error_of(with_signals("features:\n  - { name: f, source: pins, key: item_id }\n")),
            "cfg.yaml:2: features[0].source: unknown source \"pins\" (no sources are defined)");
}

// --- signals ---

TEST(ConfigErrors, SignalsSection) {
  EXPECT_EQ(error_of("signals:\n"), "cfg.yaml:1: signals: must be a list of signals");
  EXPECT_EQ(error_of("signals: []\n"), "cfg.yaml:1: signals: must not be empty");
  EXPECT_EQ(error_of("signals: { name: s }\n"), "cfg.yaml:1: signals: must be a list of signals");
  EXPECT_EQ(error_of("signals:\n  - s\n"), "cfg.yaml:2: signals[0]: must be a mapping");
}

TEST(ConfigErrors, SignalRequiredKeys) {
  EXPECT_EQ(error_of("signals:\n  - name: a\n    aggregator: count\n  - name: b\n"),
            "cfg.yaml:4: signals[1].aggregator: required");
  EXPECT_EQ(error_of("signals:\n  - { aggregator: count }\n"),
            "cfg.yaml:2: signals[0].name: required");
  EXPECT_EQ(error_of("signals:\n  - { name: a, aggregator: \"\" }\n"),
            "cfg.yaml:2: signals[0].aggregator: must not be empty");
  // A misspelt required key is the mistake to name, not the key it was meant to be.
  EXPECT_EQ(error_of("signals:\n  - name: a\n    aggregater: count\n"),
            "cfg.yaml:3: signals[0].aggregater: unknown key (did you mean aggregator?)");
  EXPECT_EQ(error_of("signals:\n  - { Name: a, aggregator: count }\n"),
            "cfg.yaml:2: signals[0].Name: unknown key (did you mean name?)");
}

TEST(ConfigErrors, SignalNames) {
  EXPECT_EQ(error_of("signals:\n  - { name: a, aggregator: count }\n"
                     "  - { name: a, aggregator: sum }\n"),
            "cfg.yaml:3: signals[1].name: duplicate name \"a\" (first at line 2)");
  EXPECT_EQ(
      error_of("signals:\n  - { name: a/b, aggregator: count }\n"),
      "cfg.yaml:2: signals[0].name: bad name \"a/b\" (use 1-64 characters A-Z a-z 0-9 _ . -)");
  std::string longest(64, 'x');
  EXPECT_EQ(error_of("signals: [{ name: " + longest + ", aggregator: count }]\n"), "(no error)");
  EXPECT_EQ(error_of("signals: [{ name: " + longest + "y, aggregator: count }]\n"),
            "cfg.yaml:1: signals[0].name: bad name \"" + longest +
                "y\" (use 1-64 characters A-Z a-z 0-9 _ . -)");
}

TEST(ConfigErrors, Windows) {
  // The example of the brief: a bad duration deep in the file names its exact place.
  std::string text = std::string(kSpecExample);
  auto at = text.find("windows: [1d, 30d] }\n  - { name: pin_embedding");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 18, "windows: [1d, 7x]");
  EXPECT_EQ(error_of(text),
            "cfg.yaml:24: signals[4].windows[1]: bad duration \"7x\" (use <integer><unit>, unit "
            "ms, s, m, h or d)");

  EXPECT_EQ(error_of("signals:\n  - name: a\n    aggregator: count\n    windows:\n      - 1d\n"
                     "      - 24h\n"),
            "cfg.yaml:6: signals[0].windows[1]: duplicate window \"24h\" (same as \"1d\")");
  EXPECT_EQ(error_of("signals: [{ name: a, aggregator: count, windows: [] }]\n"),
            "cfg.yaml:1: signals[0].windows: must not be empty (omit it for one result over all "
            "history)");
  EXPECT_EQ(error_of("signals: [{ name: a, aggregator: count, windows: 1d }]\n"),
            "cfg.yaml:1: signals[0].windows: must be a list of durations");
  EXPECT_EQ(error_of("signals: [{ name: a, aggregator: count, windows: [1.5d] }]\n"),
            "cfg.yaml:1: signals[0].windows[0]: bad duration \"1.5d\" (use <integer><unit>, unit "
            "ms, s, m, h or d)");
}

TEST(ConfigErrors, Actions) {
  auto actions = [](const std::string& text) {
    return error_of("signals:\n  - name: a\n    aggregator: count\n    actions:\n" + text);
  };
  EXPECT_EQ(actions("      save: 1\n      Click: 2\n"),
            "cfg.yaml:6: signals[0].actions.Click: bad action \"Click\" (use 1-32 characters a-z "
            "0-9 _)");
  EXPECT_EQ(actions("      save: lots\n"),
            "cfg.yaml:5: signals[0].actions.save: weight must be a finite number");
  EXPECT_EQ(actions("      save: .inf\n"),
            "cfg.yaml:5: signals[0].actions.save: weight must be a finite number");
  EXPECT_EQ(actions("      save: nan\n"),
            "cfg.yaml:5: signals[0].actions.save: weight must be a finite number");
  EXPECT_EQ(actions("      save: 1e999\n"),
            "cfg.yaml:5: signals[0].actions.save: weight must be a finite number");
  EXPECT_EQ(actions("      save: -1.7e308\n"),
            "cfg.yaml:5: signals[0].actions.save: weight must be at most 1e100 in magnitude");
  EXPECT_EQ(actions("      save: [1]\n"),
            "cfg.yaml:5: signals[0].actions.save: weight must be a finite number");
  EXPECT_EQ(actions("      save: 1\n      save: 2\n"),
            "cfg.yaml:6: signals[0].actions.save: duplicate key (first at line 5)");
  EXPECT_EQ(error_of("signals: [{ name: a, aggregator: count, actions: {} }]\n"),
            "cfg.yaml:1: signals[0].actions: must not be empty (omit it to count every action)");
  EXPECT_EQ(error_of("signals: [{ name: a, aggregator: count, actions: [save] }]\n"),
            "cfg.yaml:1: signals[0].actions: must be a mapping");

  Config c = parse_config("signals: [{ name: a, aggregator: sum, actions: { buy: -2.5, x: 0 } }]",
                          "c.yaml");
  std::vector<std::pair<std::string, double>> want = {{"buy", -2.5}, {"x", 0}};
  EXPECT_EQ(*c.signals[0].actions, want);
}

TEST(ConfigErrors, SignalReferencesAndParams) {
  EXPECT_EQ(error_of("signals: [{ name: a, aggregator: count, group_by: pin.categories }]\n"),
            "cfg.yaml:1: signals[0].group_by: unknown reference \"pin.categories\" (use item_id, "
            "query, action or attrs.NAME; no features are defined)");
  EXPECT_EQ(error_of("signals: [{ name: a, aggregator: last_k, value: attrs. }]\n"),
            "cfg.yaml:1: signals[0].value: unknown reference \"attrs.\" (use item_id, query, "
            "action or attrs.NAME; no features are defined)");
  EXPECT_EQ(error_of("signals: [{ name: a, aggregator: last_k, value: itemid }]\n"),
            "cfg.yaml:1: signals[0].value: unknown reference \"itemid\" (did you mean item_id?)");
  // With features defined, the message lists them, or names the one meant.
  const std::string features =
      "sources: { pins: { kind: table, path: p.tsv, key: id } }\n"
      "features:\n"
      "  - { name: pin.categories, source: pins, key: item_id, field: c }\n"
      "  - { name: pin.embedding, source: pins, key: item_id, field: e, type: vector }\n";
  EXPECT_EQ(error_of(features + "signals: [{ name: a, aggregator: count, group_by: color }]\n"),
            "cfg.yaml:5: signals[0].group_by: unknown reference \"color\" (use item_id, query, "
            "action, attrs.NAME or a feature: pin.categories, pin.embedding)");
  EXPECT_EQ(
      error_of(features + "signals: [{ name: a, aggregator: count, group_by: pin.category }]\n"),
      "cfg.yaml:5: signals[0].group_by: unknown reference \"pin.category\" (did you mean "
      "pin.categories?)");

  // Whether a parameter is known is for its aggregator to say, when the engine is built; the
  // loader keeps every one with its key's line, a list or mapping marked as such.
  Config shapes = parse_config(
      "signals:\n  - name: a\n    aggregator: last_k\n    k: { n: 3 }\n"
      "    action: purchase\n",
      "cfg.yaml");
  EXPECT_FALSE(shapes.signals[0].params.at("k").scalar);
  EXPECT_EQ(shapes.signals[0].params.at("k").where.line, 4);
  EXPECT_TRUE(shapes.signals[0].params.at("action").scalar);
  EXPECT_EQ(shapes.signals[0].params.at("action").text, "purchase");
  EXPECT_EQ(shapes.signals[0].params.at("action").where.line, 5);
  EXPECT_EQ(shapes.signals[0].params.at("action").where.path, "signals[0]");

  Config c = parse_config(
      "signals: [{ name: a, aggregator: count, group_by: attrs.color, value: action, k: 3 }]",
      "c.yaml");
  EXPECT_EQ(c.signals[0].group_by, "attrs.color");
  EXPECT_EQ(c.signals[0].value, "action");
  EXPECT_EQ(c.signals[0].params.at("k").text, "3");
}

// --- views ---

TEST(ConfigErrors, Views) {
  auto views = [](const std::string& text) { return error_of(with_signals("views:\n" + text)); };
  // with_signals puts the signals after the views: views start at line 2.
  EXPECT_EQ(views("  - { name: v, signal: t, transform: top_k }\n"),
            "cfg.yaml:2: views[0].signal: unknown signal \"t\"");
  EXPECT_EQ(views("  - { name: v, signal: s, window: 30d, transform: top_k }\n"),
            "cfg.yaml:2: views[0].window: unknown window \"30d\" (signal \"s\" has 1d, 7d)");
  EXPECT_EQ(views("  - { name: v, signal: s, window: 24h, transform: top_k }\n"),
            "cfg.yaml:2: views[0].window: unknown window \"24h\" (signal \"s\" has 1d, 7d)");
  EXPECT_EQ(views("  - { name: v, signal: s, window: 1d }\n"),
            "cfg.yaml:2: views[0].transform: required");
  EXPECT_EQ(views("  - { name: v, transform: top_k }\n"), "cfg.yaml:2: views[0].signal: required");
  EXPECT_EQ(views("  - { signal: s, transform: top_k }\n"), "cfg.yaml:2: views[0].name: required");
  // Queries name signals and views alike.
  EXPECT_EQ(views("  - { name: s, signal: s, transform: top_k }\n"),
            "cfg.yaml:2: views[0].name: duplicate name \"s\" (first at line 3)");
  EXPECT_EQ(views("  - { name: v, signal: s, transform: top_k }\n"
                  "  - { name: v, signal: s, transform: normalize }\n"),
            "cfg.yaml:3: views[1].name: duplicate name \"v\" (first at line 2)");
  EXPECT_EQ(views("  - { name: v, signl: s, transform: top_k }\n"),
            "cfg.yaml:2: views[0].signl: unknown key (did you mean signal?)");
  EXPECT_EQ(views("  - { name: v, signal: s, window: 1d, transfrom: top_k }\n"),
            "cfg.yaml:2: views[0].transfrom: unknown key (did you mean transform?)");
  EXPECT_EQ(error_of("views:\n  - { name: v, signal: s, window: 1d, transform: top_k }\n"
                     "signals: [{ name: s, aggregator: count }]\n"),
            "cfg.yaml:2: views[0].window: signal \"s\" has no windows");
}

TEST(ConfigErrors, Plugins) {
  EXPECT_EQ(error_of(with_signals("plugins:\n  - a.so\n  - \"\"\n")),
            "cfg.yaml:3: plugins[1]: must not be empty");
  EXPECT_EQ(error_of(with_signals("plugins: a.so\n")),
            "cfg.yaml:1: plugins: must be a list of paths");
}

// --- parameter helpers ---

TEST(UnknownKeys, TheClosestKeyIsSuggestedWhenItIsAFewEditsAway) {
  const std::vector<std::string> signal = {"name",  "aggregator", "group_by",
                                           "value", "actions",    "windows"};
  EXPECT_EQ(closest_match("action", signal), "actions");    // one left out
  EXPECT_EQ(closest_match("groupby", signal), "group_by");  // one left out
  EXPECT_EQ(closest_match("widht", {"width"}), "width");    // two swapped
  EXPECT_EQ(closest_match("kk", {"k"}), "k");               // one too many
  EXPECT_EQ(closest_match("Window", signal), "windows");    // case does not count
  EXPECT_EQ(closest_match("half_lfie", {"half_life", "k"}), "half_life");
  EXPECT_EQ(closest_match("agregatorr", signal), "aggregator");
  // Nothing within reach: a replaced one-letter key, or nothing in common.
  EXPECT_EQ(closest_match("x", {"k"}), "");
  EXPECT_EQ(closest_match("colour", signal), "");
  EXPECT_EQ(closest_match("action", {}), "");
  // The nearest wins, and the first listed among equally near ones.
  EXPECT_EQ(closest_match("valu", {"values", "value"}), "value");
  EXPECT_EQ(closest_match("ab", {"ax", "xb"}), "ax");
  EXPECT_EQ(closest_match(std::string(100, 'a'), {std::string(100, 'a')}), "");
}

TEST(UnknownKeys, TheProblemNamesTheOwnerAndTheClosestKeyOrAllOfThem) {
  EXPECT_EQ(unknown_key_problem("action", {"actions", "windows"}, "aggregator count"),
            "unknown key for aggregator count (did you mean actions?)");
  EXPECT_EQ(unknown_key_problem("colour", {"k", "name", "signal"}, "transform top_k"),
            "unknown key for transform top_k (expected k, name or signal)");
  EXPECT_EQ(unknown_key_problem("port", {"http", "grpc"}), "unknown key (expected http or grpc)");
  EXPECT_EQ(unknown_key_problem("x", {}, "ingest kind http"),
            "unknown key for ingest kind http (it takes none)");
}

TEST(UnknownKeys, CheckParamsRefusesWhatIsNotDeclared) {
  ConfigParams params;
  params["k"] = ConfigParam{"5", {"c.yaml", 4, "views[1]"}};
  const ParamSpecs top_k = {{"k", "how many"}};
  const std::vector<std::string> view = {"name", "signal", "window", "transform"};
  EXPECT_NO_THROW(check_params(params, top_k, "transform top_k", view));
  EXPECT_NO_THROW(check_params(ConfigParams(), ParamSpecs(), "transform normalize", view));

  auto problem = [&](const ParamSpecs& specs, std::string_view owner) -> std::string {
    try {
      check_params(params, specs, owner, view);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_EQ(problem({}, "transform normalize"),
            "c.yaml:4: views[1].k: unknown key for transform normalize (expected name, signal, "
            "window or transform)");
  params["kk"] = ConfigParam{"5", {"c.yaml", 5, "views[1]"}};
  EXPECT_EQ(problem(top_k, "transform top_k"),
            "c.yaml:5: views[1].kk: unknown key for transform top_k (did you mean k?)");
  params.erase("kk");
  params["windw"] = ConfigParam{"1d", {"c.yaml", 6, "views[1]"}};
  EXPECT_EQ(problem(top_k, "transform top_k"),
            "c.yaml:6: views[1].windw: unknown key for transform top_k (did you mean window?)");
  // A declared parameter written as a list or mapping.
  params.erase("windw");
  params["k"] = ConfigParam{"", {"c.yaml", 4, "views[1]"}, false};
  EXPECT_EQ(problem(top_k, "transform top_k"), "c.yaml:4: views[1].k: must be a single value");
}

TEST(ConfigParamsTest, Helpers) {
  Config c = parse_config(
      "signals:\n"
      "  - name: a\n"
      "    aggregator: x\n"
      "    k: 50\n"
      "    bad_k: 0\n"
      "    alpha: 0.25\n"
      "    beta: inf\n"
      "    half_life: 7d\n"
      "    gap: 30\n",
      "p.yaml");
  const SignalConfig& s = c.signals[0];
  EXPECT_EQ(param_int(s.params, "k", s.where), 50);
  EXPECT_EQ(param_int(s.params, "k", s.where, 3), 50);
  EXPECT_EQ(param_int(s.params, "n", s.where, 3), 3);
  EXPECT_DOUBLE_EQ(param_double(s.params, "alpha", s.where), 0.25);
  EXPECT_DOUBLE_EQ(param_double(s.params, "k", s.where), 50);
  EXPECT_DOUBLE_EQ(param_double(s.params, "zeta", s.where, 1.5), 1.5);
  EXPECT_EQ(param_duration(s.params, "half_life", s.where), 7 * kDayMs);
  EXPECT_EQ(param_duration(s.params, "window", s.where, kHourMs), kHourMs);

  auto error = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_EQ(error([&] { param_int(s.params, "bad_k", s.where, 3); }),
            "p.yaml:5: signals[0].bad_k: must be a positive integer");
  EXPECT_EQ(error([&] { param_int(s.params, "alpha", s.where); }),
            "p.yaml:6: signals[0].alpha: must be a positive integer");
  EXPECT_EQ(error([&] { param_int(s.params, "n", s.where); }), "p.yaml:2: signals[0].n: required");
  EXPECT_EQ(error([&] { param_double(s.params, "beta", s.where); }),
            "p.yaml:7: signals[0].beta: must be a finite number");
  EXPECT_EQ(error([&] { param_double(s.params, "zeta", s.where); }),
            "p.yaml:2: signals[0].zeta: required");
  EXPECT_EQ(
      error([&] { param_duration(s.params, "gap", s.where); }),
      "p.yaml:9: signals[0].gap: bad duration \"30\" (use <integer><unit>, unit ms, s, m, h or d)");
  EXPECT_EQ(error([&] { param_duration(s.params, "gap2", s.where); }),
            "p.yaml:2: signals[0].gap2: required");
}

TEST(ConfigErrors, ThrowConfigErrorFormat) {
  try {
    throw_config_error(ConfigLocation{"f.yaml", 12, ""}, "signals[0].k",
                       "must be a positive integer");
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "f.yaml:12: signals[0].k: must be a positive integer");
  }
  try {
    throw_config_error(ConfigLocation{"f.yaml", 0, ""}, "k", "required");
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "f.yaml: k: required");
  }
}

}  // namespace
}  // namespace signalbox

namespace signalbox {
namespace {

// Inputs on which yaml-cpp 0.7 alone never returns; the loader must refuse them promptly.
TEST(ConfigErrors, InputsThatHangYamlCppAreRefused) {
  for (std::string text : {std::string(","), std::string("{a: 1},"), std::string("signals: [],\n,"),
                           std::string("# )\n, ty\0p }\n", 14)}) {
    EXPECT_THROW(parse_config(text, "cfg.yaml"), ConfigError) << text;
  }
  try {
    parse_config(std::string("signals:\n  - {name: a\0}\n", 22), "cfg.yaml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "cfg.yaml:2: yaml: control character 0x00 is not allowed");
  }
}

}  // namespace
}  // namespace signalbox
