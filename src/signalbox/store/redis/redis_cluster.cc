#include "signalbox/store/redis/redis_cluster.h"

#include <sys/time.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <thread>

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include "signalbox/common/error.h"
#include "signalbox/store/redis/redis_reply_builder.h"
#include "signalbox/store/redis/resp_command.h"

namespace signalbox {

namespace {

constexpr int kSlots = 16384;
// Redirections and reconnections one command may go through before the call gives up: a
// resharding moves a slot once, a failover takes a refresh or two.
constexpr int kAttempts = 6;

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::pair<std::string, int> split_address(const std::string& address) {
  std::size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0)
    throw StorageError(fmt::format("redis: bad address \"{}\"", address));
  std::string_view p = std::string_view(address).substr(colon + 1);
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc() || end != p.data() + p.size() || port < 1 || port > 65535)
    throw StorageError(fmt::format("redis: bad address \"{}\"", address));
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return {host, port};
}

// "MOVED 3999 127.0.0.1:6381" and "ASK 3999 127.0.0.1:6381": the node named.
std::string redirect_target(const std::string& error) {
  std::size_t space = error.rfind(' ');
  return space == std::string::npos ? std::string() : error.substr(space + 1);
}

}  // namespace

class RedisCluster::Connection {
 public:
  Connection(const std::string& node, const RedisClusterOptions& options) : node_(node) {
    auto [host, port] = split_address(node);
    // Owned before anything can throw: a constructor that throws runs no destructor.
    context_.reset(options.timeout.count() > 0
                       ? redisConnectWithTimeout(host.c_str(), port, to_timeval(options.timeout))
                       : redisConnect(host.c_str(), port));
    if (context_ == nullptr) throw StorageError(fmt::format("redis {}: out of memory", node));
    if (context_->err != 0)
      throw StorageError(fmt::format("redis {}: cannot connect: {}", node, error()));
    context_->reader->fn = redis_value_functions();
    if (options.timeout.count() > 0 &&
        redisSetTimeout(context_.get(), to_timeval(options.timeout)) != REDIS_OK)
      throw StorageError(fmt::format("redis {}: cannot set a timeout", node));
    if (!options.password.empty()) {
      append({"AUTH", options.password});
      RedisValue reply = next();
      if (reply.is_error()) throw StorageError(fmt::format("redis {}: AUTH: {}", node, reply.str));
    }
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void append(const std::vector<std::string>& args) { append(RespCommand({}, args)); }
  void append(const RespCommand& command) {
    if (redisAppendFormattedCommand(context_.get(), command.text().data(), command.text().size()) !=
        REDIS_OK)
      throw StorageError(fmt::format("redis {}: {}", node_, error()));
  }

  // Sends what is buffered, so that every node works on its part while replies are read.
  void send() {
    int done = 0;
    while (!done) {
      if (redisBufferWrite(context_.get(), &done) != REDIS_OK)
        throw StorageError(fmt::format("redis {}: {}", node_, error()));
    }
  }

  RedisValue next() {
    void* reply = nullptr;
    if (redisGetReply(context_.get(), &reply) != REDIS_OK || reply == nullptr)
      throw StorageError(fmt::format("redis {}: {}", node_, error()));
    return take_reply(reply);
  }

  std::string error() const {
    if (context_->err == 0) return "no reply";
    std::string text = context_->errstr;
    // A socket timeout surfaces as EAGAIN, whose own text says nothing of time.
    if (context_->err == REDIS_ERR_IO && text.find("temporarily unavailable") != text.npos)
      text = "timed out";
    return text;
  }

 private:
  std::string node_;
  std::unique_ptr<redisContext, ContextDeleter> context_;
};

RedisCluster::RedisCluster(RedisClusterOptions options) : options_(std::move(options)) {
  if (options_.nodes.empty()) throw StorageError("redis: no nodes given");
  refresh_slots();
}

RedisCluster::~RedisCluster() = default;

std::uint16_t RedisCluster::key_slot(std::string_view key) {
  // The part between the first '{' and the next '}' is hashed instead when not empty.
  std::size_t open = key.find('{');
  if (open != std::string_view::npos) {
    std::size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1)
      key = key.substr(open + 1, close - open - 1);
  }
  // CRC16-CCITT (XMODEM), as the cluster specification defines it.
  std::uint16_t crc = 0;
  for (char c : key) {
    crc ^= static_cast<std::uint16_t>(static_cast<std::uint8_t>(c)) << 8;
    for (int bit = 0; bit < 8; ++bit)
      crc = static_cast<std::uint16_t>((crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1);
  }
  return crc % kSlots;
}

std::unique_ptr<RedisCluster::Connection> RedisCluster::acquire(const std::string& node) {
  {
    MutexLock lock(mutex_);
    auto it = idle_.find(node);
    if (it != idle_.end() && !it->second.empty()) {
      std::unique_ptr<Connection> c = std::move(it->second.back());
      it->second.pop_back();
      return c;
    }
  }
  return std::make_unique<Connection>(node, options_);
}

void RedisCluster::release(const std::string& node, std::unique_ptr<Connection> connection) {
  MutexLock lock(mutex_);
  auto& idle = idle_[node];
  if (idle.size() < options_.pool) idle.push_back(std::move(connection));
}

void RedisCluster::refresh_slots() {
  std::vector<std::string> seeds = options_.nodes;
  {
    // Known masters first: the seeds may be the nodes that went away.
    MutexLock lock(mutex_);
    for (const std::string& node : slots_)
      if (std::find(seeds.begin(), seeds.end(), node) == seeds.end()) seeds.push_back(node);
  }
  std::string errors;
  for (const std::string& seed : seeds) {
    RedisValue reply;
    try {
      auto connection = acquire(seed);
      connection->append({"CLUSTER", "SLOTS"});
      reply = connection->next();
      release(seed, std::move(connection));
    } catch (const StorageError& e) {
      errors += errors.empty() ? e.what() : fmt::format("; {}", e.what());
      continue;
    }
    if (reply.is_error()) {
      if (reply.str.find("cluster support disabled") == std::string::npos)
        throw StorageError(fmt::format("redis {}: CLUSTER SLOTS: {}", seed, reply.str));
      if (options_.nodes.size() > 1)
        throw StorageError(
            fmt::format("redis {}: storage.nodes lists {} nodes but this server is not a "
                        "Redis Cluster node (list one node for a single server)",
                        seed, options_.nodes.size()));
      MutexLock lock(mutex_);
      clustered_ = false;
      slots_.clear();
      return;
    }
    std::vector<std::string> slots(kSlots);
    const std::string seed_host = split_address(seed).first;
    for (const RedisValue& range : reply.elements) {
      if (range.elements.size() < 3 || range.elements[2].elements.size() < 2) continue;
      const RedisValue& master = range.elements[2];
      std::string host = master.elements[0].str;
      if (host.empty() || host == "?") host = seed_host;
      std::string node =
          fmt::format("{}:{}", host.find(':') != std::string::npos ? "[" + host + "]" : host,
                      master.elements[1].integer);
      for (long long s = range.elements[0].integer; s <= range.elements[1].integer && s < kSlots;
           ++s)
        slots[static_cast<std::size_t>(s)] = node;
    }
    for (int s = 0; s < kSlots; ++s) {
      if (slots[s].empty())
        throw StorageError(
            fmt::format("redis {}: the cluster serves no node for slot {} (is it down?)", seed, s));
    }
    MutexLock lock(mutex_);
    clustered_ = true;
    slots_ = std::move(slots);
    return;
  }
  throw StorageError(fmt::format("redis: no node reachable ({})", errors));
}

std::string RedisCluster::node_of(const std::string& key) {
  MutexLock lock(mutex_);
  if (!clustered_ || key.empty()) return options_.nodes.front();
  return slots_[key_slot(key)];
}

std::vector<std::string> RedisCluster::masters() {
  MutexLock lock(mutex_);
  if (!clustered_) return {options_.nodes.front()};
  std::vector<std::string> out;
  for (const std::string& node : slots_)
    if (std::find(out.begin(), out.end(), node) == out.end()) out.push_back(node);
  return out;
}

void RedisCluster::ping_all() {
  for (const std::string& node : masters()) {
    try {
      auto connection = acquire(node);
      connection->append({"PING"});
      connection->send();
      RedisValue reply = connection->next();
      if (reply.is_error()) throw StorageError(fmt::format("redis {}: PING: {}", node, reply.str));
      release(node, std::move(connection));
    } catch (const StorageError&) {
      try {
        refresh_slots();  // a failed-over shard has a new master, asked for at the next probe
      } catch (const StorageError&) {
        // No node answers: the first error says enough.
      }
      throw;
    }
  }
}

void RedisCluster::load(RedisScript& script) {
  RedisValue reply = run(RedisCommand{{}, {"SCRIPT", "LOAD", script.body}});
  if (reply.type != RedisValue::Type::kString)
    throw StorageError(fmt::format("redis: SCRIPT LOAD: {}", reply.str));
  script.sha = reply.str;
}

RedisValue RedisCluster::run(const RedisCommand& command) {
  return std::move(run(std::vector<RedisCommand>{command}).front());
}

std::vector<RedisValue> RedisCluster::run(const std::vector<RedisCommand>& commands) {
  std::vector<RedisValue> replies(commands.size());
  // Per command still to run: where to send it instead of its slot's node (after ASK), and
  // whether to send the script's body (after NOSCRIPT).
  struct Pending {
    std::size_t index;
    std::string ask;
    bool eval = false;
  };
  std::vector<Pending> pending;
  pending.reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) pending.push_back(Pending{i, {}, false});
  std::string last_error;
  for (int attempt = 0; attempt < kAttempts && !pending.empty(); ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20 * attempt));
    std::vector<std::string> order;  // nodes in first-use order
    std::unordered_map<std::string, std::vector<Pending>> by_node;
    for (Pending& p : pending) {
      std::string node = p.ask.empty() ? node_of(commands[p.index].key) : p.ask;
      auto [it, inserted] = by_node.try_emplace(node);
      if (inserted) order.push_back(node);
      it->second.push_back(std::move(p));
    }
    pending.clear();
    bool refresh = false;
    struct Sent {
      std::string node;
      std::unique_ptr<Connection> connection;
    };
    std::vector<Sent> sent;
    for (const std::string& node : order) {
      std::vector<Pending>& mine = by_node[node];
      try {
        auto connection = acquire(node);
        for (const Pending& p : mine) {
          const RedisCommand& c = commands[p.index];
          if (!p.ask.empty()) connection->append({"ASKING"});
          if (c.script) {
            // EVALSHA, or EVAL with the script's body when Redis does not know it (yet).
            const bool eval = p.eval || c.script->sha.empty();
            connection->append(
                RespCommand({eval ? "EVAL" : "EVALSHA", eval ? c.script->body : c.script->sha,
                             std::to_string(c.key_count)},
                            c.args));
          } else {
            connection->append(c.args);
          }
        }
        connection->send();
        sent.push_back(Sent{node, std::move(connection)});
      } catch (const StorageError& e) {
        last_error = e.what();
        refresh = true;
        for (Pending& p : mine) pending.push_back(Pending{p.index, {}, p.eval});
        sent.push_back(Sent{node, nullptr});
      }
    }
    for (Sent& s : sent) {
      if (!s.connection) continue;
      std::vector<Pending>& mine = by_node[s.node];
      std::size_t done = 0;
      try {
        for (; done < mine.size(); ++done) {
          Pending& p = mine[done];
          if (!p.ask.empty()) s.connection->next();  // ASKING's OK
          RedisValue reply = s.connection->next();
          if (reply.is_error()) {
            if (starts_with(reply.str, "MOVED ")) {
              refresh = true;
              pending.push_back(Pending{p.index, {}, p.eval});
              continue;
            }
            if (starts_with(reply.str, "ASK ")) {
              pending.push_back(Pending{p.index, redirect_target(reply.str), p.eval});
              continue;
            }
            if (starts_with(reply.str, "NOSCRIPT")) {
              pending.push_back(Pending{p.index, p.ask, true});
              continue;
            }
            if (starts_with(reply.str, "TRYAGAIN") || starts_with(reply.str, "CLUSTERDOWN") ||
                starts_with(reply.str, "LOADING")) {
              last_error = fmt::format("redis {}: {}", s.node, reply.str);
              refresh = refresh || starts_with(reply.str, "CLUSTERDOWN");
              pending.push_back(Pending{p.index, p.ask, p.eval});
              continue;
            }
          }
          replies[p.index] = std::move(reply);
        }
        release(s.node, std::move(s.connection));
      } catch (const StorageError& e) {
        // The node went away mid-pipeline: what it had not answered runs again elsewhere.
        last_error = e.what();
        refresh = true;
        for (; done < mine.size(); ++done)
          pending.push_back(Pending{mine[done].index, {}, mine[done].eval});
      }
    }
    if (refresh && !pending.empty()) {
      try {
        refresh_slots();
      } catch (const StorageError& e) {
        last_error = e.what();
      }
    }
  }
  if (!pending.empty())
    throw StorageError(last_error.empty() ? std::string("redis: too many redirections")
                                          : last_error);
  return replies;
}

}  // namespace signalbox
