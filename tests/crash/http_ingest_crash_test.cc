// Acknowledged means stored: an at-least-once client posts 100 000 events to the real
// `signalbox serve` in batches, re-sending each batch until it is answered 200, while the
// server is killed with SIGKILL twenty times at random moments and restarted on the same
// store. In the end every signal of every user equals the reference computed from the events
// themselves: no acknowledged event lost, none counted twice.

#include <signal.h>

#include <atomic>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "server_process.h"
#include "traffic.h"
#include "world_yaml.h"

namespace signalbox::testing {
namespace {

constexpr std::size_t kEvents = 100000;
constexpr std::size_t kBatch = 500;
constexpr std::size_t kUsers = 40;
constexpr int kKills = 20;
constexpr int kClients = 2;

// Events over about six days (twice the retention, so that expiry and the folding of old day
// tiles run between kills), mostly in time order, every id distinct.
std::vector<Event> generate_events(World& world) {
  auto& rng = world.rng();
  const TimeMs step = 6 * kDayMs / static_cast<TimeMs>(kEvents);
  std::vector<Event> events;
  events.reserve(kEvents);
  for (std::size_t i = 0; i < kEvents; ++i) {
    TimeMs ts =
        kStart + static_cast<TimeMs>(i) * step - static_cast<TimeMs>(rng() % (10 * kMinuteMs));
    events.push_back(world.make_event(kUsers, ts, i));
  }
  return events;
}

// Posts each of its batches until the server answers 200 with every event taken. A batch
// whose answer was lost (the server died with it in flight) is sent again as it was.
class AtLeastOnceClient {
 public:
  AtLeastOnceClient(std::uint16_t port, std::atomic<std::size_t>& acknowledged,
                    const std::atomic<bool>& abandon)
      : client_(port), acknowledged_(acknowledged), abandon_(abandon) {}

  void send(const std::string& body, std::size_t events) {
    for (int attempt = 0; !abandon_; ++attempt) {
      if (attempt > 0) ++resends;
      try {
        HttpAnswer answer = client_.post("/v1/events", body);
        if (answer.status == 200) {
          Value v = answer.json();
          if (v.find("accepted")->number() != static_cast<double>(events) ||
              v.find("rejected")->number() != 0)
            problems.push_back(answer.body.substr(0, 300));
          duplicates += static_cast<std::size_t>(v.find("duplicates")->number());
          acknowledged_.fetch_add(1);
          return;
        }
        if (answer.status != 503)
          problems.push_back(fmt::format("status {}: {}", answer.status, answer.body));
      } catch (const std::exception&) {
        // The server is down or died with the request: connect again and re-send.
      }
      client_.close();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  std::size_t resends = 0;
  std::size_t duplicates = 0;
  std::vector<std::string> problems;

 private:
  HttpClient client_;
  std::atomic<std::size_t>& acknowledged_;
  const std::atomic<bool>& abandon_;
};

TEST(HttpIngestCrash, EveryAcknowledgedEventSurvivesKillNineExactlyOnce) {
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"}, 2026);
  const std::vector<Event> events = generate_events(world);
  std::vector<std::string> bodies;
  for (std::size_t i = 0; i < events.size(); i += kBatch) {
    std::vector<Event> batch(
        events.begin() + static_cast<long>(i),
        events.begin() + static_cast<long>(std::min(events.size(), i + kBatch)));
    bodies.push_back(events_body(batch, bodies.size() % 2 == 1));
  }

  const std::uint16_t port = free_port();
  const std::filesystem::path config = write_config(world.config, port);
  const std::filesystem::path log = world.dir() / "serve.log";
  auto server = std::make_unique<ServerProcess>(config, port, log);

  // Kill points: after a random number of acknowledged batches, plus a random delay, so that
  // kills land before, during and after writes.
  std::vector<std::size_t> kill_after;
  for (int k = 0; k < kKills; ++k) kill_after.push_back(world.rng()() % bodies.size());
  std::sort(kill_after.begin(), kill_after.end());
  std::vector<int> kill_delay_us;
  for (int k = 0; k < kKills; ++k) kill_delay_us.push_back(static_cast<int>(world.rng()() % 20000));

  std::atomic<std::size_t> acknowledged{0};
  std::atomic<bool> done{false};
  int kills = 0;
  std::atomic<bool> restart_failed{false};
  std::string restart_error;
  std::thread killer([&] {
    for (int k = 0; k < kKills && !done; ++k) {
      while (acknowledged < kill_after[static_cast<std::size_t>(k)] && !done)
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      std::this_thread::sleep_for(
          std::chrono::microseconds(kill_delay_us[static_cast<std::size_t>(k)]));
      server->send_signal(SIGKILL);
      server->wait(std::chrono::seconds(30));
      ++kills;
      try {
        server = std::make_unique<ServerProcess>(config, port, log);
      } catch (const std::exception& e) {
        restart_error = e.what();
        restart_failed = true;
        return;
      }
    }
    // The server started last is this thread's child: it is killed when this thread ends
    // (PR_SET_PDEATHSIG follows the thread that forked), so stay until the clients are done.
    while (!done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });

  std::vector<std::unique_ptr<AtLeastOnceClient>> clients;
  for (int c = 0; c < kClients; ++c)
    clients.push_back(std::make_unique<AtLeastOnceClient>(port, acknowledged, restart_failed));
  std::vector<std::thread> senders;
  for (int c = 0; c < kClients; ++c) {
    senders.emplace_back([&, c] {
      for (std::size_t b = static_cast<std::size_t>(c); b < bodies.size(); b += kClients) {
        std::size_t n = std::min(kBatch, events.size() - b * kBatch);
        clients[static_cast<std::size_t>(c)]->send(bodies[b], n);
      }
    });
  }
  for (auto& t : senders) t.join();
  done = true;
  killer.join();
  ASSERT_EQ(restart_error, "");
  ASSERT_EQ(acknowledged.load(), bodies.size());

  std::size_t resends = 0, duplicates = 0;
  for (const auto& client : clients) {
    resends += client->resends;
    duplicates += client->duplicates;
    for (const std::string& problem : client->problems) ADD_FAILURE() << problem;
  }
  EXPECT_EQ(kills, kKills);
  EXPECT_GT(resends, 0u) << "no batch was ever in flight at a kill: the test proved nothing";

  // One last kill after everything was acknowledged: the answers below come from what the
  // store recovered, not from a process that never went down.
  server->send_signal(SIGKILL);
  server->wait(std::chrono::seconds(30));
  server = std::make_unique<ServerProcess>(config, port, log);

  std::vector<RefEvent> reference;
  TimeMs head = kBeginningOfTime;
  for (const Event& e : events) {
    reference.push_back(world.to_ref(e));
    head = std::max(head, e.ts);
  }
  HttpClient client(port);
  for (std::uint64_t user = 1000; user < 1000 + kUsers; ++user) {
    HttpAnswer answer = client.get(fmt::format("/v1/users/{}/signals?as_of={}", user, head));
    ASSERT_EQ(answer.status, 200u) << answer.body;
    ASSERT_EQ(diff(world.served(reference, user, head), answer.json(), 1e-9), "")
        << "user " << user << " after " << kills << " kills, " << resends << " re-sent batches, "
        << duplicates << " duplicates reported";
  }
  RecordProperty("resends", static_cast<int>(resends));
  RecordProperty("duplicates", static_cast<int>(duplicates));
}

}  // namespace
}  // namespace signalbox::testing
