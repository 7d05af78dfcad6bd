// http_server_options(): the HTTP server's options from a config, where they depend on more
// than the `server` section.

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "signalbox/serve/server_options.h"

namespace signalbox::testing {
namespace {

TEST(ServerOptions, TheQueryPoolHasMoreThreadsOnRedisWhoseQueriesWaitOnTheNetwork) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  Config embedded;
  EXPECT_EQ(http_server_options(embedded).query_threads, 0u)
      << "the server's default: one per core, at least 2";
  Config redis;
  redis.storage.kind = "redis";
  EXPECT_EQ(http_server_options(redis).query_threads, std::max(4u, 2 * cores));
  embedded.server.query_threads = 3;
  redis.server.query_threads = 3;
  EXPECT_EQ(http_server_options(embedded).query_threads, 3u) << "the config's number wins";
  EXPECT_EQ(http_server_options(redis).query_threads, 3u) << "the config's number wins";
}

TEST(ServerOptions, InlineAnswersCountTheirBlockedTimeOnRedisOnly) {
  Config embedded;
  EXPECT_FALSE(http_server_options(embedded).inline_answers_block);
  Config redis;
  redis.storage.kind = "redis";
  EXPECT_TRUE(http_server_options(redis).inline_answers_block)
      << "a Redis round trip blocks the I/O thread without showing in its CPU clock";
}

}  // namespace
}  // namespace signalbox::testing
