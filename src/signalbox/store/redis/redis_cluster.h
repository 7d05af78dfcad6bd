#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "signalbox/common/mutex.h"

namespace signalbox {

// A reply from Redis, owned (hiredis replies are converted as they arrive).
struct RedisValue {
  enum class Type { kNil, kString, kInteger, kArray, kStatus, kError };
  Type type = Type::kNil;
  std::string str;  // string, status and error text
  long long integer = 0;
  std::vector<RedisValue> elements;

  bool is_error() const { return type == Type::kError; }
};

// A Lua script run by EVALSHA; a node that does not know it yet (NOSCRIPT) gets it by EVAL,
// which also caches it there.
struct RedisScript {
  std::string body;
  std::string sha;  // filled by RedisCluster::load()
};

// One command of a pipeline. `key` routes it (its hash slot picks the node); an empty key
// sends it to the first node. With `script`, `args` are the script's KEYS then ARGV, and
// `key_count` says how many of them are keys.
struct RedisCommand {
  std::string key;
  std::vector<std::string> args;
  const RedisScript* script = nullptr;
  int key_count = 0;
};

struct RedisClusterOptions {
  std::vector<std::string> nodes;  // host:port seeds; one plain server or any cluster masters
  std::string password;            // sent with AUTH when not empty
  std::chrono::milliseconds timeout{2000};
  std::size_t pool = 4;  // idle connections kept per node
};

// The small Redis Cluster client the Redis store needs, over hiredis (which has no cluster
// support): the slot map from CLUSTER SLOTS, CRC16 key slots with {hash tags}, pipelines
// split per node and sent to all nodes before any reply is read, MOVED and ASK redirections
// followed, and the map refreshed after a redirection or a lost node. A server that is not a
// cluster node is used as a single node holding every slot.
//
// Safe for concurrent use: connections come from a per-node pool, the slot map is guarded.
// Errors (unreachable nodes, repeated redirections, protocol errors) throw StorageError
// naming the node; an error reply to one command is returned as that command's reply.
// A command may run twice when its node is lost after it ran and before it answered:
// commands must be safe to repeat (the store's scripts check what they write, and its commit
// script recognises a send of itself again by its token).
class RedisCluster {
 public:
  explicit RedisCluster(RedisClusterOptions options);
  ~RedisCluster();
  RedisCluster(const RedisCluster&) = delete;
  RedisCluster& operator=(const RedisCluster&) = delete;

  // Runs the commands, pipelined per node, and returns their replies in order.
  std::vector<RedisValue> run(const std::vector<RedisCommand>& commands);
  RedisValue run(const RedisCommand& command);

  // SCRIPT LOAD: fills script.sha.
  void load(RedisScript& script);

  // The master nodes (host:port), for commands that go to every node.
  std::vector<std::string> masters();
  bool clustered() const { return clustered_; }
  // PINGs every master; throws StorageError naming the first one that does not answer.
  void ping_all();

  static std::uint16_t key_slot(std::string_view key);

 private:
  class Connection;
  std::unique_ptr<Connection> acquire(const std::string& node);
  void release(const std::string& node, std::unique_ptr<Connection> connection);
  void refresh_slots();
  std::string node_of(const std::string& key);

  RedisClusterOptions options_;
  bool clustered_ = false;
  Mutex mutex_;                                                  // guards slots_, idle_
  std::vector<std::string> slots_ SIGNALBOX_GUARDED_BY(mutex_);  // node per slot, when clustered
  std::unordered_map<std::string, std::vector<std::unique_ptr<Connection>>> idle_
      SIGNALBOX_GUARDED_BY(mutex_);
};

}  // namespace signalbox
