#pragma once

// One Redis command from a test, on a fresh connection: shared by the store tests and the
// materializer's Redis source tests.

#include <string>
#include <vector>

#include <hiredis/hiredis.h>

namespace signalbox::testing {

// Runs one command; the reply as text (arrays joined by newlines, "" for nil).
inline std::string redis_command(int port, const std::vector<std::string>& args) {
  redisContext* c = redisConnect("127.0.0.1", port);
  if (c == nullptr || c->err) {
    if (c) redisFree(c);
    return "<no connection>";
  }
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lengths.data()));
  std::string text;
  if (reply == nullptr) {
    text = "<error>";
  } else {
    auto one = [](const redisReply* r) {
      if (r->type == REDIS_REPLY_INTEGER) return std::to_string(r->integer);
      if (r->str) return std::string(r->str, r->len);
      return std::string();
    };
    if (reply->type == REDIS_REPLY_ARRAY) {
      for (size_t i = 0; i < reply->elements; ++i) text += (i ? "\n" : "") + one(reply->element[i]);
    } else {
      text = one(reply);
    }
    freeReplyObject(reply);
  }
  redisFree(c);
  return text;
}

}  // namespace signalbox::testing
