// The redis source against a real redis-server, started by the test on a free loopback port.

#include "signalbox/materialize/sources/redis_source.h"

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_error.h"
#include "redis_servers.h"
#include "signalbox/common/error.h"
#include "signalbox/materialize/materializer.h"
#include "support.h"

namespace signalbox {
namespace {

using ::testing::HasSubstr;
using Strings = std::vector<std::string>;
using Floats = std::vector<float>;
using Clock = std::chrono::steady_clock;

SourceConfig redis_config(const std::string& address, std::map<std::string, std::string> params) {
  SourceConfig c;
  c.name = "cache";
  c.kind = "redis";
  c.where = {"demo.yaml", 4};
  c.params["address"] = ConfigParam{address, {"demo.yaml", 5}};
  for (auto& [k, v] : params) c.params[k] = ConfigParam{v, {"demo.yaml", 6}};
  return c;
}

FeatureConfig feature(const std::string& name, const std::string& field, FeatureType type) {
  FeatureConfig f;
  f.name = name;
  f.source = "cache";
  f.key = "item_id";
  f.field = field;
  f.type = type;
  f.where = {"demo.yaml", 20};
  return f;
}

Event pin_click(std::uint64_t user, std::string item) {
  Event e;
  e.user_id = user;
  e.ts = 1'700'000'000'000;
  e.action = "click";
  e.event_id = "e" + std::to_string(user);
  e.item_id = std::move(item);
  return e;
}

using testing::config_error;

class RedisSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::have_program("redis-server"))
        << "redis-server is not installed (Debian package redis-server)";
    server_ = testing::start_redis();
    ASSERT_TRUE(server_->ready()) << "redis-server did not answer PING";
    server_->command({"HSET", "pin:p1", "categories", "food|travel", "embedding", "0.5,1.5,-2",
                      "price", "3.25"});
    server_->command({"HSET", "pin:p2", "categories", "", "price", "cheap", "embedding", "1,x"});
    server_->command({"SET", "pin:p3", "not a hash"});
  }

  std::unique_ptr<testing::RedisProcess> server_;
};

// What is checked here is the answers, not the time they take: the socket timeout is far above
// the default 50 ms, which a loaded machine or a sanitized build can exceed on the big batch.
TEST_F(RedisSourceTest, PipelinedLookupOfHashFields) {
  auto source = RedisSource::create(
      redis_config(server_->address(), {{"key_prefix", "pin:"}, {"timeout", "5s"}}));
  EXPECT_TRUE(source->remote());
  std::vector<FieldRequest> fields = {{"categories", FeatureType::kStrings},
                                      {"embedding", FeatureType::kVector},
                                      {"price", FeatureType::kNumber},
                                      {"nothing", FeatureType::kStrings}};
  for (const auto& f : fields) source->check_field(f, {"demo.yaml", 20});

  long before = server_->calls_of("hmget");
  Strings keys = {"p1", "p2", "p3", "nope"};
  auto rows = source->lookup(keys, fields);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(server_->calls_of("hmget") - before, 4);

  EXPECT_EQ(rows[0][0], FeatureValue(Strings{"food", "travel"}));
  EXPECT_EQ(rows[0][1], FeatureValue(Floats{0.5f, 1.5f, -2.0f}));
  EXPECT_EQ(rows[0][2], FeatureValue(3.25));
  EXPECT_EQ(rows[0][3], FeatureValue());
  // An empty value is an empty list; values that do not parse are empty.
  EXPECT_EQ(rows[1][0], FeatureValue(Strings{}));
  EXPECT_EQ(rows[1][1], FeatureValue());
  EXPECT_EQ(rows[1][2], FeatureValue());
  // Not a hash, and absent: unknown.
  EXPECT_EQ(rows[2], std::vector<FeatureValue>(4));
  EXPECT_EQ(rows[3], std::vector<FeatureValue>(4));

  // The connection is reused and a big batch goes through in pipelined chunks.
  Strings many;
  for (int i = 0; i < 3000; ++i) many.push_back(i % 2 ? "p1" : "x" + std::to_string(i));
  std::vector<FieldRequest> one = {{"price", FeatureType::kNumber}};
  auto big = source->lookup(many, one);
  ASSERT_EQ(big.size(), 3000u);
  EXPECT_EQ(big[1][0], FeatureValue(3.25));
  EXPECT_EQ(big[2][0], FeatureValue());
}

TEST_F(RedisSourceTest, MaterializerCachesAndBatches) {
  Config config;
  config.sources.push_back(
      redis_config(server_->address(), {{"key_prefix", "pin:"}, {"timeout", "5s"}}));  // as above
  config.features.push_back(feature("pin.categories", "categories", FeatureType::kStrings));
  config.features.push_back(feature("pin.price", "price", FeatureType::kNumber));
  Materializer m(config);

  long before = server_->calls_of("hmget");
  auto out = m.materialize({pin_click(1, "p1"), pin_click(2, "p1"), pin_click(3, "nope")});
  EXPECT_EQ(out[0].features[0], FeatureValue(Strings{"food", "travel"}));
  EXPECT_EQ(out[1].features[1], FeatureValue(3.25));
  EXPECT_EQ(out[2].features[0], FeatureValue());
  EXPECT_EQ(server_->calls_of("hmget") - before, 2);  // one per distinct key, one round trip

  out = m.materialize({pin_click(4, "p1"), pin_click(5, "nope")});
  EXPECT_EQ(out[0].features[1], FeatureValue(3.25));
  EXPECT_EQ(server_->calls_of("hmget") - before, 2) << "served from the cache";
  auto stats = m.stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].lookups, 1u);
  EXPECT_EQ(stats[0].cache.hits, 2u);
  EXPECT_EQ(stats[0].cache.misses, 2u);
}

TEST_F(RedisSourceTest, AHungServerTimesOutAndADeadOneFailsFast) {
  Config config;
  config.sources.push_back(redis_config(
      server_->address(), {{"key_prefix", "pin:"}, {"timeout", "80ms"}, {"cache_bytes", "0"}}));
  config.features.push_back(feature("pin.price", "price", FeatureType::kNumber));
  Materializer m(config);
  EXPECT_EQ(m.materialize({pin_click(1, "p1")})[0].features[0], FeatureValue(3.25));

  server_->pause();
  auto start = Clock::now();
  auto out = m.materialize({pin_click(1, "p1"), pin_click(2, "p2")});
  double took = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  EXPECT_LT(took, 400);
  EXPECT_EQ(out[0].features[0], FeatureValue());
  auto s = m.stats()[0];
  EXPECT_EQ(s.timeouts + s.failures, 1u);
  EXPECT_EQ(s.degraded_events, 2u);
  server_->resume();

  server_->stop();
  // Wait out any backoff; the abandoned call has ended with its socket timeout.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  start = Clock::now();
  out = m.materialize({pin_click(1, "p1")});
  took = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  EXPECT_LT(took, 400);
  EXPECT_EQ(out[0].features[0], FeatureValue());
  s = m.stats()[0];
  EXPECT_GE(s.failures, 1u);
  EXPECT_EQ(s.degraded_events, 3u);
}

TEST(RedisSourceConfig, ParametersAreChecked) {
  SourceConfig none = redis_config("127.0.0.1:6379", {});
  none.params.clear();
  EXPECT_THAT(config_error([&] { RedisSource::create(none); }),
              HasSubstr("demo.yaml:4: sources.cache.address: required for a redis source"));
  EXPECT_THAT(config_error([&] { RedisSource::create(redis_config("localhost", {})); }),
              HasSubstr("demo.yaml:5: sources.cache.address: bad address \"localhost\""));
  EXPECT_THAT(config_error([&] { RedisSource::create(redis_config("a:1,b:2", {})); }),
              HasSubstr("Redis Cluster is not supported"));
  // Unknown keys are refused by make_source, from what the redis kind declares.
  EXPECT_EQ(config_error([&] {
              make_source(redis_config("h:1", {{"prefix", "x"}}));
            }),
            "demo.yaml:6: sources.cache.prefix: unknown key for a redis source (expected address, "
            "nodes, key_prefix, db, password, pool, cache_bytes, cache_ttl, timeout, backoff, "
            "reload_interval or kind)");
  EXPECT_EQ(config_error([&] {
              make_source(redis_config("h:1", {{"keyprefix", "x"}}));
            }),
            "demo.yaml:6: sources.cache.keyprefix: unknown key for a redis source (did you mean "
            "key_prefix?)");
  EXPECT_THAT(config_error([&] {
                RedisSource::create(redis_config("h:1", {{"pool", "0"}}));
              }),
              HasSubstr("sources.cache.pool: must be an integer from 1 to 1024"));
  EXPECT_THAT(config_error([&] {
                RedisSource::create(redis_config("h:1", {{"timeout", "1"}}));
              }),
              HasSubstr("sources.cache.timeout: bad duration"));
  // `nodes` is another spelling of one address; building does not connect.
  SourceConfig nodes = redis_config("h:1", {});
  nodes.params.erase("address");
  nodes.params["nodes"] = ConfigParam{"[::1]:7000", {"demo.yaml", 5}};
  EXPECT_NO_THROW(RedisSource::create(nodes));
  EXPECT_THAT(config_error([&] {
                RedisSource::create(redis_config("127.0.0.1:1", {}))
                    ->check_field({"", FeatureType::kStrings}, {"demo.yaml", 21});
              }),
              HasSubstr("demo.yaml:21: field: required for a redis source"));
}

}  // namespace
}  // namespace signalbox
