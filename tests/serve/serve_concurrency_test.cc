// `signalbox serve` under concurrent load: 32 keep-alive connections mixing ingest, GETs and
// batchGets for 10 seconds. No error answer, no dropped connection, reads see every write
// answered before them, and the final signals equal the reference.

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "server_process.h"
#include "traffic.h"
#include "world_yaml.h"

namespace signalbox::testing {
namespace {

// The run lasts a fixed time; this floor only says it did enough to mean something. Sanitizers
// slow the server several times over.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr std::size_t kMinRequests = 200;
#else
constexpr std::size_t kMinRequests = 1000;
#endif

constexpr int kConnections = 32;
constexpr std::size_t kUsers = 30;
constexpr auto kDuration = std::chrono::seconds(10);
// Far enough ahead that "all_clicks" (no window) counts every event.
constexpr TimeMs kLater = kStart + 10 * kDayMs;

TEST(ServeConcurrency, ManyKeepAliveConnectionsMixingIngestAndQueries) {
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"});
  const std::uint16_t port = free_port();
  ServerProcess server(write_config(world.config, port), port, world.dir() / "serve.log");

  // Each connection owns a stream of fresh events within two days, so nothing is ever late
  // whatever order the server takes the requests in.
  std::vector<std::vector<Event>> streams(kConnections);
  for (int c = 0; c < kConnections; ++c) {
    for (std::size_t i = 0; i < 4000; ++i) {
      TimeMs ts = kStart + static_cast<TimeMs>(world.rng()() % (2 * kDayMs));
      Event e = world.make_event(kUsers, ts, 0);
      e.event_id = fmt::format("c{}-{}", c, i);
      streams[c].push_back(std::move(e));
    }
  }

  std::mutex mutex;
  std::vector<std::vector<Event>> posted;  // batches answered 200, in any order
  std::atomic<std::size_t> requests{0}, failures{0};
  std::vector<std::string> problems;
  auto problem = [&](std::string text) {
    std::lock_guard lock(mutex);
    ++failures;
    if (problems.size() < 20) problems.push_back(std::move(text));
  };

  auto deadline = std::chrono::steady_clock::now() + kDuration;
  std::vector<std::thread> threads;
  for (int c = 0; c < kConnections; ++c) {
    threads.emplace_back([&, c] {
      std::mt19937_64 rng(c);
      HttpClient client(port);
      std::vector<Event>& stream = streams[c];
      std::size_t next = 0;
      std::vector<std::vector<Event>> mine;
      std::map<std::uint64_t, int> my_clicks;  // clicks this connection had acknowledged
      try {
        while (std::chrono::steady_clock::now() < deadline) {
          std::uint64_t pick = rng() % 100;
          HttpAnswer answer;
          if (pick < 35 && next < stream.size()) {
            std::size_t n = std::min<std::size_t>(1 + rng() % 60, stream.size() - next);
            std::vector<Event> batch(stream.begin() + next, stream.begin() + next + n);
            next += n;
            answer = client.post("/v1/events", events_body(batch, rng() % 2 == 0));
            Value v = answer.json();
            if (answer.status == 200 && v.find("rejected")->number() != 0)
              problem("events rejected: " + answer.body);
            for (const Event& e : batch)
              if (e.action == "click") ++my_clicks[e.user_id];
            mine.push_back(std::move(batch));
          } else if (pick < 45 && !mine.empty()) {
            // The same batch again: every event a duplicate.
            const std::vector<Event>& batch = mine[rng() % mine.size()];
            answer = client.post("/v1/events", events_body(batch, false));
            if (answer.status == 200 &&
                answer.json().find("duplicates")->number() != static_cast<double>(batch.size()))
              problem("not all duplicates: " + answer.body);
          } else if (pick < 85) {
            std::uint64_t user = 1000 + rng() % kUsers;
            bool clicks = !my_clicks.empty() && rng() % 2 == 0;
            if (clicks) user = std::next(my_clicks.begin(), rng() % my_clicks.size())->first;
            answer = client.get(
                clicks ? fmt::format("/v1/users/{}/signals?names=all_clicks&as_of={}", user, kLater)
                       : fmt::format("/v1/users/{}/signals", user));
            // Read-your-writes: every click this connection had acknowledged is counted.
            if (clicks && answer.status == 200) {
              double seen = answer.json().find("signals")->find("all_clicks")->number();
              if (seen < my_clicks[user])
                problem(fmt::format("user {}: {} clicks seen, {} acknowledged", user, seen,
                                    my_clicks[user]));
            }
          } else {
            answer = client.post(
                "/v1/signals:batchGet",
                fmt::format(R"({{"user_ids": [{}, {}, {}], "names": ["saves", "top3"]}})",
                            1000 + rng() % kUsers, 1000 + rng() % kUsers, 7));
          }
          ++requests;
          if (answer.status != 200)
            problem(fmt::format("status {}: {}", answer.status, answer.body));
          if (!answer.keep_alive) problem("the server closed a keep-alive connection");
        }
      } catch (const std::exception& e) {
        problem(std::string("connection failed: ") + e.what());
      }
      std::lock_guard lock(mutex);
      for (auto& batch : mine) posted.push_back(std::move(batch));
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0u) << fmt::format("{}", fmt::join(problems, "\n"));
  EXPECT_GT(requests.load(), kMinRequests);

  // Every posted event once: their ids are unique, so arrival order does not matter.
  std::vector<RefEvent> events;
  TimeMs head = 0;
  for (const auto& batch : posted) {
    for (const Event& e : batch) {
      events.push_back(world.to_ref(e));
      head = std::max(head, e.ts);
    }
  }
  HttpClient client(port);
  for (std::uint64_t user = 1000; user < 1000 + kUsers; ++user) {
    HttpAnswer answer = client.get(fmt::format("/v1/users/{}/signals?as_of={}", user, head));
    ASSERT_EQ(answer.status, 200u) << answer.body;
    EXPECT_EQ(diff(world.served(events, user, head), answer.json(), 1e-9), "") << "user " << user;
  }
  std::string metrics = client.get("/metrics").body;
  auto sample = [&](const std::string& name) {
    std::size_t at = metrics.find("\n" + name + " ");
    return at == std::string::npos ? 0.0 : std::stod(metrics.substr(at + name.size() + 2));
  };
  const std::string query = "signalbox_query_duration_seconds";
  const std::string route = "{route=\"/v1/users/{user_id}/signals\"}";
  std::printf(
      "%zu requests over %d connections in %lld s; %zu events posted; server time per "
      "GET signals %.2f ms, per POST /v1/events %.2f ms\n",
      requests.load(), kConnections, static_cast<long long>(kDuration.count()), events.size(),
      1e3 * sample(query + "_sum" + route) / sample(query + "_count" + route),
      1e3 * sample("signalbox_ingest_duration_seconds_sum") /
          sample("signalbox_ingest_duration_seconds_count"));
  EXPECT_EQ(server.terminate(), 0) << server.log();
}

}  // namespace
}  // namespace signalbox::testing
