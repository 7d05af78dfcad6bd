// Acknowledged before flushed: `signalbox serve` answers a POST once the batch's events, ids
// and tile updates are in one atomic write, but the tile updates reach the stored tiles only
// at the next flush of the write-behind tiles (storage docs: "Write-behind tiles"). Here the
// server is killed with SIGKILL while /metrics shows tile updates acknowledged and not yet
// flushed; after a restart on the same store every signal of every user equals the reference
// computed from the events, and nothing is left unflushed: the journal was merged at open.

#include <signal.h>

#include <charconv>
#include <string>

#include <gtest/gtest.h>

#include "server_process.h"
#include "traffic.h"
#include "world_yaml.h"

namespace signalbox::testing {
namespace unflushed_tiles_crash {

constexpr std::size_t kEvents = 12000;
constexpr std::size_t kBatch = 400;
constexpr std::size_t kUsers = 30;

// The value of an unlabelled gauge in a /metrics text; fails the test when absent.
double gauge(const std::string& metrics, const std::string& name) {
  const std::string start = "\n" + name + " ";
  const std::size_t at = metrics.find(start);
  if (at == std::string::npos) {
    ADD_FAILURE() << name << " not in /metrics";
    return -1;
  }
  const std::size_t from = at + start.size();
  return std::stod(metrics.substr(from, metrics.find('\n', from) - from));
}

// Posts the world's events in batches, checks the unflushed tile bytes /metrics shows against
// `unflushed` (true: some, false: none), kills the server with SIGKILL, restarts it on the same
// store and checks every signal of every user against the reference.
void post_kill_and_check(World& world, bool unflushed) {
  std::vector<Event> events;
  const TimeMs step = 2 * kDayMs / static_cast<TimeMs>(kEvents);
  for (std::size_t i = 0; i < kEvents; ++i)
    events.push_back(world.make_event(kUsers, kStart + static_cast<TimeMs>(i) * step, i));

  const std::uint16_t port = free_port();
  const std::filesystem::path config = write_config(world.config, port);
  const std::filesystem::path log = world.dir() / "serve.log";
  auto server = std::make_unique<ServerProcess>(config, port, log);
  HttpClient client(port);
  for (std::size_t i = 0; i < events.size(); i += kBatch) {
    std::vector<Event> batch(
        events.begin() + static_cast<long>(i),
        events.begin() + static_cast<long>(std::min(events.size(), i + kBatch)));
    HttpAnswer answer = client.post("/v1/events", events_body(batch, true));
    ASSERT_EQ(answer.status, 200u) << answer.body;
    ASSERT_EQ(answer.json().find("accepted")->number(), static_cast<double>(batch.size()));
  }
  HttpAnswer metrics = client.get("/metrics");
  ASSERT_EQ(metrics.status, 200u);
  if (unflushed) {
    // Every batch is acknowledged; some of their tile updates are still only in the journal.
    ASSERT_GT(gauge(metrics.body, "signalbox_store_unflushed_tile_bytes"), 0)
        << "every tile update was flushed before the kill: the test proves nothing";
  } else {
    ASSERT_EQ(gauge(metrics.body, "signalbox_store_unflushed_tile_bytes"), 0)
        << "storage.write_behind: 0 left tile updates unflushed";
  }
  client.close();

  server->send_signal(SIGKILL);
  server->wait(std::chrono::seconds(30));
  server = std::make_unique<ServerProcess>(config, port, log);

  HttpClient after(port);
  metrics = after.get("/metrics");
  EXPECT_EQ(gauge(metrics.body, "signalbox_store_unflushed_tile_bytes"), 0)
      << "the journal left by the kill was not merged at open";
  expect_every_event_counted_once(world, after, events, kUsers);
}

TEST(UnflushedTilesCrash, AKillBetweenAcknowledgementAndFlushLosesNothing) {
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"}, 4242);
  post_kill_and_check(world, /*unflushed=*/true);
}

// `storage.write_behind: 0`: each commit writes its tiles itself, nothing waits in the journal.
TEST(UnflushedTilesCrash, WithoutWriteBehindNothingIsLeftUnflushedAndAKillLosesNothing) {
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"}, 4242);
  world.config.storage.write_behind = 0;
  post_kill_and_check(world, /*unflushed=*/false);
}

}  // namespace unflushed_tiles_crash
}  // namespace signalbox::testing
