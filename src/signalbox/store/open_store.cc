#include "signalbox/store/open_store.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "signalbox/common/error.h"
#include "signalbox/store/redis/redis_store.h"
#include "signalbox/store/rocksdb/rocksdb_store.h"

namespace signalbox {

namespace {

// The secret a password reference names; the config file itself never holds it.
std::string read_password(const Config& config) {
  const std::string& ref = config.storage.password;
  if (ref.empty()) return ref;
  if (ref.rfind("env:", 0) == 0) {
    const char* value = std::getenv(ref.c_str() + 4);
    if (!value)
      throw ConfigError(fmt::format("{}: storage.password: environment variable {} is not set", config.file.string(),
                                    ref.substr(4)));
    return value;
  }
  if (ref.rfind("file:", 0) == 0) {
    std::ifstream in(ref.substr(5), std::ios::binary);
    if (!in)
      throw ConfigError(
          fmt::format("{}: storage.password: cannot read {}", config.file.string(), ref.substr(5)));
    std::stringstream text;
    text << in.rdbuf();
    std::string secret = text.str();
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    return secret;
  }
  throw ConfigError(fmt::format("{}: storage.password: give env:NAME or file:PATH", config.file.string()));
}

}  // namespace

std::unique_ptr<Store> open_store(const Config& config, const TileMerger& merger, bool read_only) {
  if (config.storage.kind == "redis") {
    RedisStoreOptions options;
    options.cluster.nodes = config.storage.nodes;
    options.cluster.password = read_password(config);
    options.cluster.timeout = std::chrono::milliseconds(config.storage.timeout);
    options.cluster.pool = config.storage.pool;
    options.key_prefix = config.storage.key_prefix;
    return open_redis_store(options, merger);
  }
  if (config.storage.kind != "rocksdb")
    throw ConfigError(fmt::format("{}: storage.kind: \"{}\" is not supported (use rocksdb or redis)",
                                  config.file.string(), config.storage.kind));
  return open_rocksdb_store(RocksDbOptions{config.storage.path, read_only, config.storage.sync, config.storage.reserve}, merger);
}

}  // namespace signalbox
