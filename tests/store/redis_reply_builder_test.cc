// The RedisValue a reader builds with redis_value_functions() is the one hiredis's own reply
// objects describe (the reference here: its default reader, walked into a RedisValue), for
// random replies of every kind, nested, fed in pieces of random sizes.

#include "signalbox/store/redis/redis_reply_builder.h"

#include <gtest/gtest.h>

#include <hiredis/hiredis.h>

#include <random>
#include <string>

namespace signalbox::testing {
namespace {

// What hiredis's own redisReply says, as a RedisValue.
RedisValue from_hiredis(const redisReply* r) {
  RedisValue v;
  switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      v.type = r->type == REDIS_REPLY_STRING   ? RedisValue::Type::kString
               : r->type == REDIS_REPLY_STATUS ? RedisValue::Type::kStatus
                                               : RedisValue::Type::kError;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      v.type = RedisValue::Type::kInteger;
      v.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      v.type = RedisValue::Type::kArray;
      for (std::size_t i = 0; i < r->elements; ++i)
        v.elements.push_back(from_hiredis(r->element[i]));
      break;
    default:
      break;
  }
  return v;
}

bool same(const RedisValue& a, const RedisValue& b) {
  if (a.type != b.type || a.str != b.str || a.integer != b.integer ||
      a.elements.size() != b.elements.size())
    return false;
  for (std::size_t i = 0; i < a.elements.size(); ++i)
    if (!same(a.elements[i], b.elements[i])) return false;
  return true;
}

// A random reply in the Redis protocol.
void random_reply(std::mt19937_64& rng, int depth, std::string& out) {
  switch (rng() % (depth < 3 ? 7 : 6)) {
    case 0:
      out += "+OK\r\n";
      break;
    case 1:
      out += "-ERR something " + std::to_string(rng() % 100) + "\r\n";
      break;
    case 2:
      out += ":" + std::to_string(static_cast<long long>(rng())) + "\r\n";
      break;
    case 3:
      out += "$-1\r\n";
      break;
    case 4:
    case 5: {
      std::string bytes(rng() % 4 == 0 ? rng() % 5000 : rng() % 30, '\0');
      for (char& c : bytes) c = static_cast<char>(rng());
      out += "$" + std::to_string(bytes.size()) + "\r\n" + bytes + "\r\n";
      break;
    }
    default: {
      if (rng() % 8 == 0) {
        out += "*-1\r\n";
        break;
      }
      const std::size_t n = rng() % 9;
      out += "*" + std::to_string(n) + "\r\n";
      for (std::size_t i = 0; i < n; ++i) random_reply(rng, depth + 1, out);
    }
  }
}

TEST(RedisReplyBuilder, BuildsWhatHiredisReads) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 300; ++round) {
    std::string bytes;
    random_reply(rng, 0, bytes);
    redisReader* ours = redisReaderCreateWithFunctions(redis_value_functions());
    redisReader* reference = redisReaderCreate();
    void* built = nullptr;
    void* expected = nullptr;
    // Fed in pieces: a reply cut anywhere is built across feeds.
    for (std::size_t at = 0; at < bytes.size();) {
      const std::size_t n = std::min<std::size_t>(bytes.size() - at, 1 + rng() % 700);
      ASSERT_EQ(redisReaderFeed(ours, bytes.data() + at, n), REDIS_OK);
      ASSERT_EQ(redisReaderFeed(reference, bytes.data() + at, n), REDIS_OK);
      at += n;
      if (!built) {
        ASSERT_EQ(redisReaderGetReply(ours, &built), REDIS_OK);
      }
      if (!expected) {
        ASSERT_EQ(redisReaderGetReply(reference, &expected), REDIS_OK);
      }
    }
    ASSERT_NE(built, nullptr) << "round " << round;
    ASSERT_NE(expected, nullptr) << "round " << round;
    const RedisValue value = take_reply(built);
    EXPECT_TRUE(same(value, from_hiredis(static_cast<redisReply*>(expected)))) << "round " << round;
    freeReplyObject(expected);
    // A reply left half read is freed with the reader.
    ASSERT_EQ(redisReaderFeed(ours, "*3\r\n$2\r\nab\r\n:1\r\n", 16), REDIS_OK);
    void* partial = nullptr;
    ASSERT_EQ(redisReaderGetReply(ours, &partial), REDIS_OK);
    EXPECT_EQ(partial, nullptr);
    redisReaderFree(ours);
    redisReaderFree(reference);
  }
}

}  // namespace
}  // namespace signalbox::testing
