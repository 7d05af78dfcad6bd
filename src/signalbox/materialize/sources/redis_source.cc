#include "signalbox/materialize/sources/redis_source.h"
#include "signalbox/materialize/field_text.h"

#include <sys/time.h>

#include <charconv>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>
#include <hiredis/hiredis.h>

namespace signalbox {

namespace {

// Commands per pipelined round trip: bounds the client's buffers on very large batches.
constexpr std::size_t kPipelineDepth = 1024;

// The text of one hash field as a feature value, read the way a table cell is.
FeatureValue parse_value(std::string_view text, FeatureType type) {
  switch (type) {
    case FeatureType::kStrings: {
      std::vector<std::string> strings;
      std::size_t start = 0;
      while (start <= text.size()) {
        std::size_t end = text.find('|', start);
        if (end == std::string_view::npos) end = text.size();
        if (end > start) strings.emplace_back(text.substr(start, end - start));
        start = end + 1;
      }
      return strings;
    }
    case FeatureType::kVector: {
      if (trim_spaces(text).empty()) return {};
      std::vector<float> v;
      std::size_t start = 0;
      while (start <= text.size()) {
        std::size_t end = text.find(',', start);
        if (end == std::string_view::npos) end = text.size();
        float f;
        if (!parse_finite(text.substr(start, end - start), f)) return {};
        v.push_back(f);
        start = end + 1;
      }
      return v;
    }
    case FeatureType::kNumber: {
      double d;
      if (!parse_finite(text, d)) return {};
      return d;
    }
  }
  return {};
}

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

}  // namespace

class RedisSource::Connection {
 public:
  explicit Connection(redisContext* context) : context_(context) {}
  ~Connection() { redisFree(context_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  redisContext* get() const { return context_; }

  // The reply to the next command in the pipeline. Throws on an I/O or protocol error.
  Reply next_reply(const std::string& where) {
    void* reply = nullptr;
    if (redisGetReply(context_, &reply) != REDIS_OK || reply == nullptr) {
      throw std::runtime_error(fmt::format("redis {}: {}", where, error()));
    }
    return Reply(static_cast<redisReply*>(reply));
  }

  // Runs one command and throws unless the server said OK.
  void command_ok(const std::string& where, std::span<const std::string> args) {
    append(where, args);
    Reply reply = next_reply(where);
    if (reply->type == REDIS_REPLY_ERROR) {
      throw std::runtime_error(
          fmt::format("redis {}: {}: {}", where, args[0], std::string(reply->str, reply->len)));
    }
  }

  void append(const std::string& where, std::span<const std::string> args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    argv.reserve(args.size());
    lengths.reserve(args.size());
    for (const std::string& a : args) {
      argv.push_back(a.data());
      lengths.push_back(a.size());
    }
    if (redisAppendCommandArgv(context_, static_cast<int>(argv.size()), argv.data(),
                               lengths.data()) != REDIS_OK) {
      throw std::runtime_error(fmt::format("redis {}: {}", where, error()));
    }
  }

  std::string error() const {
    if (context_->err == 0) return "no reply";
    // A socket timeout surfaces as EAGAIN, whose own text says nothing of time.
    std::string text = context_->errstr;
    if (context_->err == REDIS_ERR_IO && text.find("temporarily unavailable") != text.npos) {
      text = "timed out";
    }
    return text;
  }

 private:
  redisContext* context_;
};

std::unique_ptr<RedisSource> RedisSource::create(const SourceConfig& config) {
  std::unique_ptr<RedisSource> source(new RedisSource);

  auto address = config.params.find("address");
  auto nodes = config.params.find("nodes");
  if (address != config.params.end() && nodes != config.params.end()) {
    throw_config_error(nodes->second.where, fmt::format("sources.{}.nodes", config.name),
                       "give address or nodes, not both");
  }
  if (address == config.params.end()) address = nodes;
  if (address == config.params.end()) {
    throw_config_error(config.where, fmt::format("sources.{}.address", config.name),
                       "required for a redis source (host:port)");
  }
  const std::string address_key = fmt::format("sources.{}.{}", config.name, address->first);
  const std::string& text = address->second.text;
  std::size_t colon = text.rfind(':');
  int port = 0;
  bool ok = colon != std::string::npos && colon > 0;
  if (ok) {
    std::string_view p = std::string_view(text).substr(colon + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    ok = ec == std::errc() && end == p.data() + p.size() && port >= 1 && port <= 65535;
  }
  if (!ok || text.find(',') != std::string::npos) {
    throw_config_error(address->second.where, address_key,
                       fmt::format("bad address \"{}\" (use one host:port; Redis Cluster is not "
                                   "supported by this source)",
                                   text));
  }
  source->host_ = text.substr(0, colon);
  if (source->host_.size() > 2 && source->host_.front() == '[' && source->host_.back() == ']') {
    source->host_ = source->host_.substr(1, source->host_.size() - 2);
  }
  source->port_ = port;
  source->key_prefix_ = source_param(config, "key_prefix");
  source->password_ = source_param(config, "password");

  auto read_int = [&](std::string_view key, int fallback, int low, int high) {
    auto it = config.params.find(key);
    if (it == config.params.end()) return fallback;
    int v = 0;
    const std::string& t = it->second.text;
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || end != t.data() + t.size() || v < low || v > high) {
      throw_config_error(it->second.where, fmt::format("sources.{}.{}", config.name, key),
                         fmt::format("must be an integer from {} to {}", low, high));
    }
    return v;
  };
  source->db_ = read_int("db", 0, 0, 1 << 20);
  source->pool_size_ = static_cast<std::size_t>(read_int("pool", 4, 1, 1024));
  source->timeout_ = std::chrono::milliseconds(source_duration(config, "timeout", 50));
  return source;
}

RedisSource::~RedisSource() = default;

void RedisSource::check_field(const FieldRequest& request, const ConfigLocation& where) const {
  if (request.field.empty()) throw_config_error(where, "field", "required for a redis source");
}

std::unique_ptr<RedisSource::Connection> RedisSource::acquire() {
  {
    MutexLock lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<Connection> c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  const std::string where = fmt::format("{}:{}", host_, port_);
  redisContext* context = timeout_.count() > 0
                              ? redisConnectWithTimeout(host_.c_str(), port_, to_timeval(timeout_))
                              : redisConnect(host_.c_str(), port_);
  if (context == nullptr) throw std::runtime_error(fmt::format("redis {}: out of memory", where));
  auto connection = std::make_unique<Connection>(context);
  if (context->err != 0) {
    throw std::runtime_error(fmt::format("redis {}: {}", where, connection->error()));
  }
  if (timeout_.count() > 0 && redisSetTimeout(context, to_timeval(timeout_)) != REDIS_OK) {
    throw std::runtime_error(fmt::format("redis {}: cannot set a timeout", where));
  }
  if (!password_.empty()) {
    std::string args[] = {"AUTH", password_};
    connection->command_ok(where, args);
  }
  if (db_ != 0) {
    std::string args[] = {"SELECT", std::to_string(db_)};
    connection->command_ok(where, args);
  }
  return connection;
}

void RedisSource::release(std::unique_ptr<Connection> connection) {
  MutexLock lock(mutex_);
  if (idle_.size() < pool_size_) idle_.push_back(std::move(connection));
}

std::vector<std::vector<FeatureValue>> RedisSource::lookup(std::span<const std::string> keys,
                                                           std::span<const FieldRequest> fields) {
  std::vector<std::vector<FeatureValue>> result(keys.size(),
                                                std::vector<FeatureValue>(fields.size()));
  if (keys.empty()) return result;
  const std::string where = fmt::format("{}:{}", host_, port_);
  // A connection that failed is dropped rather than released: what it would read next is
  // the rest of an abandoned pipeline.
  std::unique_ptr<Connection> connection = acquire();

  std::vector<std::string> args(2 + fields.size());
  args[0] = "HMGET";
  for (std::size_t f = 0; f < fields.size(); ++f) args[2 + f] = fields[f].field;
  for (std::size_t begin = 0; begin < keys.size(); begin += kPipelineDepth) {
    std::size_t end = std::min(keys.size(), begin + kPipelineDepth);
    for (std::size_t k = begin; k < end; ++k) {
      args[1] = key_prefix_;
      args[1] += keys[k];
      connection->append(where, args);
    }
    for (std::size_t k = begin; k < end; ++k) {
      Reply reply = connection->next_reply(where);
      // An error reply (WRONGTYPE: the key is not a hash) concerns that key only.
      if (reply->type != REDIS_REPLY_ARRAY) continue;
      if (reply->elements != fields.size()) {
        throw std::runtime_error(fmt::format("redis {}: HMGET answered {} values for {} fields",
                                             where, reply->elements, fields.size()));
      }
      for (std::size_t f = 0; f < fields.size(); ++f) {
        const redisReply* value = reply->element[f];
        if (value->type == REDIS_REPLY_STRING) {
          result[k][f] = parse_value(std::string_view(value->str, value->len), fields[f].type);
        }
      }
    }
  }
  release(std::move(connection));
  return result;
}

}  // namespace signalbox
