#include "signalbox/store/open_store.h"

#include <fmt/format.h>

#include "signalbox/common/error.h"
#include "signalbox/common/secret.h"
#include "signalbox/store/redis/redis_store.h"
#include "signalbox/store/rocksdb/rocksdb_store.h"

namespace signalbox {

namespace {

// The one place where the config reaches the RocksDB store's options; the tuning fields the
// config does not name keep their documented defaults.
RocksDbOptions rocksdb_options(const StorageConfig& storage, StoreAccess access) {
  RocksDbOptions options;
  options.path = storage.path;
  options.read_only = access.read_only;
  options.bulk_load = access.bulk_load;
  options.sync = storage.sync;
  options.reserve_bytes = storage.reserve;
  options.unflushed_tile_bytes = storage.write_behind;
  options.block_cache_bytes = storage.block_cache;
  options.write_buffer_bytes = storage.write_buffer;
  options.compression = storage.compression == "zstd"   ? RocksDbCompression::kZstd
                        : storage.compression == "none" ? RocksDbCompression::kNone
                                                        : RocksDbCompression::kLz4;
  options.unflushed_values_per_tile = storage.write_behind_tile_updates;
  options.fold_index_users = storage.fold_index_users;
  return options;
}

}  // namespace

std::unique_ptr<Store> open_store(const Config& config, const TileMerger& merger,
                                  StoreAccess access) {
  if (config.storage.kind == "redis") {
    RedisStoreOptions options;
    options.cluster.nodes = config.storage.nodes;
    if (!config.storage.password.empty()) {
      options.cluster.password = read_secret(
          config.storage.password, fmt::format("{}: storage.password", config.file.string()));
    }
    options.cluster.timeout = std::chrono::milliseconds(config.storage.timeout);
    options.cluster.pool = config.storage.pool;
    options.key_prefix = config.storage.key_prefix;
    return open_redis_store(options, merger);
  }
  if (config.storage.kind != "rocksdb")
    throw ConfigError(
        fmt::format("{}: storage.kind: \"{}\" is not supported (use rocksdb or redis)",
                    config.file.string(), config.storage.kind));
  return open_rocksdb_store(rocksdb_options(config.storage, access), merger);
}

}  // namespace signalbox
