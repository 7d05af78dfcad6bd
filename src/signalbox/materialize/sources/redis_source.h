#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "signalbox/common/mutex.h"
#include "signalbox/config/config.h"
#include "signalbox/materialize/source.h"

namespace signalbox {

// A Redis server as a source (`kind: redis`): one hash per key, named `key_prefix` + key,
// whose fields are the features' fields. A batch is one pipelined round trip of
// `HMGET key field...` per key. Values are text: `strings` split on '|', `vector` comma-
// separated floats, `number` a double; a missing key or field, a value that does not parse,
// or a key that is not a hash reads as empty.
//
// Built on hiredis 0.14's blocking API with a small pool of connections, opened on demand
// and kept open between batches, so start-up never waits for the server and a dead server
// costs each batch one failed connect. Every socket operation is bounded by `timeout`. A
// single node only: hiredis 0.14 knows nothing of Redis Cluster.
//
// Safe for concurrent lookup() calls: each takes a connection of its own.
class RedisSource : public Source {
 public:
  // Reads `address` (or `nodes`: one host:port), `key_prefix`, `db`, `password`, `pool` and
  // `timeout`. Throws ConfigError naming a missing or bad parameter. Does not connect.
  static std::unique_ptr<RedisSource> create(const SourceConfig& config);
  ~RedisSource() override;
  RedisSource(const RedisSource&) = delete;
  RedisSource& operator=(const RedisSource&) = delete;

  // Any field of any type; the server is not asked (it may be down at start-up).
  void check_field(const FieldRequest& request, const ConfigLocation& where) const override;

  // Throws std::runtime_error when the server cannot be reached or answers out of
  // protocol; the connection is then dropped.
  std::vector<std::vector<FeatureValue>> lookup(std::span<const std::string> keys,
                                                std::span<const FieldRequest> fields) override;

  bool remote() const override { return true; }

 private:
  class Connection;

  RedisSource() = default;
  std::unique_ptr<Connection> acquire();
  void release(std::unique_ptr<Connection> connection);

  std::string host_;
  int port_ = 6379;
  std::string key_prefix_;
  std::string password_;
  int db_ = 0;
  std::chrono::milliseconds timeout_{0};  // zero: none
  std::size_t pool_size_ = 4;             // idle connections kept

  Mutex mutex_;  // guards idle_
  std::vector<std::unique_ptr<Connection>> idle_ SIGNALBOX_GUARDED_BY(mutex_);
};

}  // namespace signalbox
