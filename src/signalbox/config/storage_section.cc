// The `storage` section (docs/config.md#storage): `kind`, then the keys of each store kind.
// A file may keep the keys of the other kind (switching back keeps it valid), so every kind's
// keys are checked whichever kind is chosen; a key that would change nothing for the chosen
// kind is refused where that would hide a mistake (`sync` for redis).

#include <array>
#include <optional>

#include <fmt/format.h>

#include "signalbox/common/byte_size.h"
#include "signalbox/config/sections.h"

namespace signalbox {

namespace {

// The section being read, with where the keys the cross-checks name were written.
struct StorageEntry {
  StorageConfig& config;
  ConfigLocation kind_where;
  std::optional<ConfigLocation> nodes_where;
  std::optional<ConfigLocation> sync_where;
};

const std::array<SchemaKey<StorageEntry>, 1> kStorageKindKey = {{
    {"kind",
     ValueType::kText,
     {},
     "rocksdb",
     [](const ConfigValue& v, StorageEntry& out) {
       if (v.text != "rocksdb" && v.text != "redis") {
         v.fail(fmt::format("unknown kind {} (use rocksdb or redis)", quote_config_text(v.text)));
       }
       out.config.kind = v.text;
       out.kind_where = v.field.value_where;
     }},
}};

// `v` as a size in bytes or with a unit, or 0; `zero` says what 0 means (empty: 0 is no
// special value).
std::uint64_t config_size(const ConfigValue& v, std::string_view zero) {
  std::optional<std::uint64_t> bytes =
      v.text == "0" ? std::optional<std::uint64_t>(0) : parse_byte_size(v.text);
  if (!bytes) {
    v.fail(fmt::format(
        "{} is not a size (use bytes, or <integer><unit> with unit B, KiB, MiB, GiB or TiB, "
        "e.g. 1GiB{})",
        quote_config_text(v.text), zero.empty() ? "" : fmt::format("; 0 for {}", zero)));
  }
  return *bytes;
}

// A size of at least `least` bytes (`what` names that bound).
std::uint64_t size_at_least(const ConfigValue& v, std::uint64_t least, std::string_view what) {
  const std::uint64_t bytes = config_size(v, "");
  if (bytes < least) v.fail(fmt::format("{} is below {}", v.text, what));
  return bytes;
}

// `v` as a count from `least` to `most`; `least_means` says what `least` means, if anything
// special (it goes into the message, after the number).
std::size_t count_from(const ConfigValue& v, std::int64_t least, std::int64_t most,
                       std::string_view least_means = "") {
  const std::optional<std::int64_t> n = parse_config_int(v.text);
  if (!n || *n < least || *n > most) {
    v.fail(fmt::format("must be an integer from {}{} to {}", least,
                       least_means.empty() ? "" : fmt::format(" ({})", least_means), most));
  }
  return static_cast<std::size_t>(*n);
}

// Read by the RocksDB store (store/rocksdb).
const std::array<SchemaKey<StorageEntry>, 9> kRocksdbKeys = {{
    {"path",
     ValueType::kPath,
     {},
     "data",
     [](const ConfigValue& v, StorageEntry& out) { out.config.path = v.file; }},
    {"sync",
     ValueType::kText,
     {},
     "none",
     [](const ConfigValue& v, StorageEntry& out) {
       if (v.text != "always" && v.text != "none") {
         v.fail(fmt::format("unknown mode {} (use always or none)", quote_config_text(v.text)));
       }
       out.config.sync = v.text == "always";
       if (v.written) out.sync_where = v.field.value_where;
     }},
    {"reserve",
     ValueType::kText,
     {},
     "64MiB",
     [](const ConfigValue& v, StorageEntry& out) {
       out.config.reserve = config_size(v, "no reserve");
     }},
    {"write_behind",
     ValueType::kText,
     {},
     "32MiB",
     [](const ConfigValue& v, StorageEntry& out) {
       out.config.write_behind = config_size(v, "none: every commit writes its tiles");
     }},
    {"block_cache",
     ValueType::kText,
     {},
     "256MiB",
     [](const ConfigValue& v, StorageEntry& out) {
       out.config.block_cache = config_size(v, "no block cache");
     }},
    {"write_buffer",
     ValueType::kText,
     {},
     "16MiB",
     [](const ConfigValue& v, StorageEntry& out) {
       out.config.write_buffer =
           size_at_least(v, std::uint64_t{1} << 20, "1MiB, the least memtable");
     }},
    {"compression",
     ValueType::kText,
     {},
     "lz4",
     [](const ConfigValue& v, StorageEntry& out) {
       if (v.text != "lz4" && v.text != "zstd" && v.text != "none") {
         v.fail(fmt::format("unknown compression {} (use lz4, zstd or none)",
                            quote_config_text(v.text)));
       }
       out.config.compression = v.text;
     }},
    {"write_behind_tile_updates",
     ValueType::kText,
     {},
     "16",
     [](const ConfigValue& v, StorageEntry& out) {
       out.config.write_behind_tile_updates = count_from(v, 1, 1'000'000);
     }},
    {"fold_index_users",
     ValueType::kText,
     {},
     "1048576",
     [](const ConfigValue& v, StorageEntry& out) {
       out.config.fold_index_users = count_from(v, 0, 1'000'000'000, "every fold scans all users");
     }},
}};

// Read by the engine, whichever the kind.
const std::array<SchemaKey<StorageEntry>, 2> kEngineKeys = {{
    {"span_cache",
     ValueType::kText,
     {},
     "64MiB",
     [](const ConfigValue& v, StorageEntry& out) {
       out.config.span_cache = config_size(v, "no cache: every query merges its tiles");
     }},
    {"fold_slice_users",
     ValueType::kText,
     {},
     "64",
     [](const ConfigValue& v, StorageEntry& out) {
       out.config.fold_slice_users = count_from(v, 0, 1'000'000'000, "all users at once");
     }},
}};

// Read by the Redis store (store/redis).
const std::array<SchemaKey<StorageEntry>, 5> kRedisKeys = {{
    {"nodes",
     ValueType::kAny,
     {},
     {},
     [](const ConfigValue& v, StorageEntry& out) {
       YamlReader reader(*v.context);
       for (const auto& [n, where] : reader.items(v.field, v.path, "host:port addresses")) {
         std::string item_path = index_path(v.path, out.config.nodes.size());
         std::string address = YamlReader::text(n, where, item_path);
         if (!is_endpoint(address)) {
           throw_config_error(where, item_path,
                              fmt::format("bad address {} (use host:port, port 1-65535)",
                                          quote_config_text(address)));
         }
         out.config.nodes.push_back(address);
       }
       out.nodes_where = v.field.value_where;
     }},
    {"password",
     ValueType::kText,
     {},
     {},
     [](const ConfigValue& v, StorageEntry& out) {
       out.config.password = secret_reference(v, "password");
     }},
    {"key_prefix",
     ValueType::kText,
     {},
     "signalbox",
     [](const ConfigValue& v, StorageEntry& out) {
       if (v.text.empty() || v.text.find_first_of("{}") != std::string::npos)
         v.fail("must be a non-empty text without { or }");
       out.config.key_prefix = v.text;
     }},
    {"timeout",
     ValueType::kDuration,
     {},
     "2s",
     [](const ConfigValue& v, StorageEntry& out) {
       if (v.duration <= 0) v.fail("must be positive");
       out.config.timeout = v.duration;
     }},
    {"pool",
     ValueType::kText,
     {},
     "4",
     [](const ConfigValue& v, StorageEntry& out) { out.config.pool = count_from(v, 1, 1024); }},
}};

const Schema<StorageEntry>& storage_schema() {
  static const std::vector<SchemaKey<StorageEntry>> keys = [] {
    // In the order docs/config.md lists them, which the unknown-key message repeats: path
    // first, then the Redis keys, then RocksDB's later additions, then the engine's.
    std::vector<SchemaKey<StorageEntry>> all(kStorageKindKey.begin(), kStorageKindKey.end());
    all.push_back(kRocksdbKeys[0]);
    all.insert(all.end(), kRedisKeys.begin(), kRedisKeys.end());
    all.insert(all.end(), kRocksdbKeys.begin() + 1, kRocksdbKeys.end());
    all.insert(all.end(), kEngineKeys.begin(), kEngineKeys.end());
    return all;
  }();
  static const Schema<StorageEntry> schema{keys};
  return schema;
}

}  // namespace

void read_storage(const YamlReader& reader, const ConfigField& section, StorageConfig& out) {
  StorageEntry entry{out, section.value_where, std::nullopt, std::nullopt};
  apply_schema(storage_schema(), reader.sub_fields(section, "storage"), "storage",
               section.value_where, reader.context(), entry);
  if (out.kind == "redis" && out.nodes.empty()) {
    throw_config_error(entry.nodes_where.value_or(entry.kind_where), "storage.nodes",
                       "required for kind redis (a list of host:port)");
  }
  if (out.kind == "redis" && out.sync) {
    throw_config_error(*entry.sync_where, "storage.sync",
                       "applies to kind rocksdb only (a Redis server's durability is its own "
                       "appendonly and appendfsync settings)");
  }
  // Nodes are still checked above for rocksdb, so switching kinds back keeps a valid file.
  if (out.kind == "rocksdb") out.nodes.clear();
}

std::vector<KeyDescription> storage_keys() { return describe(storage_schema()); }

}  // namespace signalbox
