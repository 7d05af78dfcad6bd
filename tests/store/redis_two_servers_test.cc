// Two `signalbox serve` processes on one three-master Redis Cluster, as replicas behind a load
// balancer: the same users' events are posted to both at once, some batches to both, and every
// user's signals read from either process equal the brute-force reference.

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "fixed_times.h"
#include "redis_servers.h"
#include "server_process.h"
#include "traffic.h"
#include "world_yaml.h"

namespace signalbox::testing {
namespace {

// `config` as `serve` reads it, on the Redis nodes `nodes` instead of RocksDB.
std::filesystem::path write_redis_config(const Config& config, std::uint16_t port,
                                         const std::vector<std::string>& nodes,
                                         const std::filesystem::path& file) {
  std::string yaml = config_yaml(config, port, 16 * 1024 * 1024);
  const std::size_t storage = yaml.find("storage:");
  const std::size_t end = yaml.find('\n', storage);
  std::string redis = "storage: { kind: redis, key_prefix: replicas, timeout: 2s, nodes: [";
  for (std::size_t i = 0; i < nodes.size(); ++i) redis += (i ? ", " : "") + nodes[i];
  redis += "] }";
  yaml.replace(storage, end - storage, redis);
  std::ofstream(file) << yaml;
  return file;
}

// Posts `batch` until it is answered 200 (a 503 says: a concurrent write of the same user won
// the race, try again), and returns the answer's (accepted, duplicates, rejected).
struct Counts {
  std::size_t accepted = 0, duplicates = 0, rejected = 0;
};
Counts post_until_taken(HttpClient& client, const std::vector<Event>& batch) {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    HttpAnswer answer = client.post("/v1/events", events_body(batch, true));
    if (answer.status == 503) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    EXPECT_EQ(answer.status, 200u) << answer.body;
    Value v = answer.json();
    auto count = [&](const char* key) { return static_cast<std::size_t>(v.find(key)->number()); };
    return {count("accepted"), count("duplicates"), count("rejected")};
  }
  ADD_FAILURE() << "a batch was answered 503 a thousand times";
  return {};
}

TEST(RedisTwoServers, EventsPostedToBothAtOnceCountOnceAndBothAnswerTheReference) {
  ASSERT_TRUE(have_program("redis-server"))
      << "redis-server is not installed (Debian package redis-server)";
  ASSERT_TRUE(have_program("redis-cli"))
      << "redis-cli is not installed (Debian package redis-tools)";
  RedisClusterProcesses cluster;
  ASSERT_TRUE(cluster.ready()) << "the Redis Cluster did not come up";

  World world(3 * kDayMs, {"1h", "1d", "3d", "10d"});
  // Distinct events over six days, a few minutes out of order, from 12 users of which three are
  // heavy (World::make_event): each user's events reach both processes at the same moments.
  std::vector<Event> events;
  const std::size_t users = 12;
  for (std::size_t i = 0; i < 4000; ++i) {
    TimeMs ts = kStart + static_cast<TimeMs>(i) * (6 * kDayMs / 4000) -
                static_cast<TimeMs>(world.rng()() % (10 * kMinuteMs));
    events.push_back(world.make_event(users, ts, i));
  }
  // Batches of 40 in time order; batch b goes to process b % 2, and every fifth batch to the
  // other process too, so that the same events race through both.
  std::vector<std::vector<Event>> to[2];
  for (std::size_t at = 0, b = 0; at < events.size(); at += 40, ++b) {
    std::vector<Event> batch(events.begin() + at,
                             events.begin() + std::min(events.size(), at + 40));
    to[b % 2].push_back(batch);
    if (b % 5 == 0) to[1 - b % 2].push_back(batch);
  }

  std::uint16_t ports[2] = {free_port(), free_port()};
  std::vector<std::unique_ptr<ServerProcess>> servers;
  for (int p = 0; p < 2; ++p) {
    auto file = write_redis_config(world.config, ports[p], cluster.addresses(),
                                   world.dir() / fmt::format("replica{}.yaml", p));
    servers.push_back(std::make_unique<ServerProcess>(
        file, ports[p], world.dir() / fmt::format("replica{}.log", p)));
  }

  Counts totals[2];
  std::vector<std::thread> posters;
  for (int p = 0; p < 2; ++p) {
    posters.emplace_back([&, p] {
      HttpClient client(ports[p]);
      for (const auto& batch : to[p]) {
        Counts c = post_until_taken(client, batch);
        totals[p].accepted += c.accepted;
        totals[p].duplicates += c.duplicates;
        totals[p].rejected += c.rejected;
      }
    });
  }
  for (auto& t : posters) t.join();

  // Every event is distinct and inside the late horizon: none is rejected, and the answers
  // report at most every event once as new. (Fewer when a batch answered 503 had stored some
  // users before losing a race on another: its retry reports those as duplicates. That each
  // counts exactly once shows in the signals below.)
  std::size_t sent = 0;
  for (const auto& side : to)
    for (const auto& batch : side) sent += batch.size();
  EXPECT_EQ(totals[0].rejected + totals[1].rejected, 0u);
  EXPECT_EQ(totals[0].accepted + totals[1].accepted, sent);
  EXPECT_LE(totals[0].accepted - totals[0].duplicates + totals[1].accepted - totals[1].duplicates,
            events.size());
  EXPECT_GE(totals[0].duplicates + totals[1].duplicates, sent - events.size());

  std::vector<RefEvent> reference;
  TimeMs head = 0;
  for (const Event& e : events) {
    reference.push_back(world.to_ref(e));
    head = std::max(head, e.ts);
  }
  for (int p = 0; p < 2; ++p) {
    HttpClient client(ports[p]);
    for (std::uint64_t user = 1000; user < 1000 + users; ++user) {
      for (TimeMs as_of : {head, head - 30 * kMinuteMs}) {
        HttpAnswer answer = client.get(fmt::format("/v1/users/{}/signals?as_of={}", user, as_of));
        ASSERT_EQ(answer.status, 200u) << answer.body;
        ASSERT_EQ(diff(world.served(reference, user, as_of), answer.json(), kTolerance), "")
            << "process " << p << ", user " << user << ", as_of " << as_of;
      }
    }
  }
}

}  // namespace
}  // namespace signalbox::testing
