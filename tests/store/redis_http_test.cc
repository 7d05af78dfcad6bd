// HTTP answers over an engine whose Redis went away: 503 with Retry-After and the reason,
// and service again once Redis is back.

#include "signalbox/serve/http_api.h"

#include <gtest/gtest.h>

#include "fixed_times.h"
#include "redis_servers.h"
#include "world.h"

namespace signalbox::testing {
namespace {

namespace http = boost::beast::http;

TEST(RedisHttp, StoreUnavailableIs503WithRetryAfterAndTheReason) {
  ASSERT_TRUE(have_program("redis-server"))
      << "redis-server is not installed (Debian package redis-server)";
  auto server = start_redis();
  ASSERT_TRUE(server->ready()) << "redis-server did not answer PING";
  const int port = server->port();
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d"});
  world.config.storage.kind = "redis";
  world.config.storage.nodes = {server->address()};
  world.config.storage.timeout = 300;
  Engine engine(world.config);
  HttpApi api(engine, HttpApiOptions{3});
  auto call = [&](http::verb verb, std::string target, std::string body = "") {
    HttpRequest request(verb, target, 11);
    request.body() = std::move(body);
    request.prepare_payload();
    return api.handle(request);
  };
  const std::string event =
      fmt::format(R"({{"user_id": 7, "ts": {}, "action": "click", "item_id": "pin1"}})", kStart);
  EXPECT_EQ(call(http::verb::post, "/v1/events", event).result(), http::status::ok);

  server->stop();
  for (auto [verb, target] :
       {std::pair{http::verb::post, std::string("/v1/events")},
        std::pair{http::verb::get, fmt::format("/v1/users/7/signals?as_of={}", kStart)}}) {
    HttpResponse r = call(verb, target, verb == http::verb::post ? event : "");
    EXPECT_EQ(r.result(), http::status::service_unavailable) << target;
    EXPECT_EQ(r[http::field::retry_after], "1");
    EXPECT_NE(r.body().find("storage unavailable: redis"), std::string::npos) << r.body();
    EXPECT_NE(r.body().find(server->address()), std::string::npos) << r.body();
  }

  // The same server comes back (empty: no persistence in this test) and is used again.
  server = std::make_unique<RedisProcess>(port, std::vector<std::string>{});
  ASSERT_TRUE(server->ready());
  HttpResponse again = call(http::verb::post, "/v1/events", event);
  EXPECT_EQ(again.result(), http::status::ok) << again.body();
}

}  // namespace
}  // namespace signalbox::testing
