// Late events through the real binary over HTTP: events up to the late horizon behind stream
// time, each posted twice (the second time days later, after their raw copies expired), count
// once in the right windows; the server's accept, duplicate and reject decisions are checked
// against the reference's own reading of the rule.

#include <gtest/gtest.h>

#include "fixed_times.h"
#include "late_rule.h"
#include "server_process.h"
#include "traffic.h"
#include "world_yaml.h"

namespace signalbox::testing {
namespace {

class LateOverHttp {
 public:
  LateOverHttp() : world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"}), port(free_port()) {
    config = write_config(world.config, port);
    server = std::make_unique<ServerProcess>(config, port, world.dir() / "serve.log");
    client = std::make_unique<HttpClient>(port);
  }

  // Posts `batch` as one request and checks the answer against the rule.
  void post(const std::vector<Event>& batch) {
    LateRule::Decision expected = rule.decide(world, batch);
    HttpAnswer answer = client->post("/v1/events", events_body(batch, batch.size() % 2 == 0));
    ASSERT_EQ(answer.status, 200u) << answer.body;
    Value v = answer.json();
    std::set<std::size_t> rejected;
    for (const Value& e : v.find("errors")->array()) {
      rejected.insert(static_cast<std::size_t>(e.find("index")->number()));
      EXPECT_NE(e.find("error")->string().find("too late"), std::string::npos) << answer.body;
    }
    ASSERT_EQ(rejected, expected.rejected) << answer.body;
    EXPECT_EQ(v.find("accepted")->number(),
              static_cast<double>(batch.size() - expected.rejected.size()));
    EXPECT_EQ(v.find("duplicates")->number(), static_cast<double>(expected.duplicates))
        << answer.body;
    rejected_total += expected.rejected.size();
    duplicates_total += expected.duplicates;
  }

  void check_users(std::size_t users, TimeMs as_of) {
    for (std::uint64_t user = 1000; user < 1000 + users; ++user) {
      HttpAnswer answer = client->get(fmt::format("/v1/users/{}/signals?as_of={}", user, as_of));
      ASSERT_EQ(answer.status, 200u) << answer.body;
      ASSERT_EQ(diff(world.served(rule.taken, user, as_of), answer.json(), kTolerance), "")
          << "user " << user << " as_of " << as_of;
    }
  }

  World world;
  std::uint16_t port;
  std::filesystem::path config;
  std::unique_ptr<ServerProcess> server;
  std::unique_ptr<HttpClient> client;
  LateRule rule{40 * kDayMs};  // the longest window: the default late horizon
  std::size_t rejected_total = 0, duplicates_total = 0;
};

TEST(LateEventsOverHttp, EachCountsOnceInTheRightWindowsAfterItsRawCopyExpired) {
  LateOverHttp t;
  const std::size_t users = 8;
  auto& rng = t.world.rng();
  std::size_t serial = 0;
  // 45 days of on-time traffic, a batch every two hours.
  TimeMs now = kStart;
  auto on_time = [&](int days) {
    for (int b = 0; b < days * 12; ++b, now += 2 * kHourMs) {
      std::vector<Event> batch;
      for (int i = 0; i < 8; ++i)
        batch.push_back(
            t.world.make_event(users, now + static_cast<TimeMs>(rng() % (2 * kHourMs)), serial++));
      t.post(batch);
    }
  };
  on_time(45);
  const TimeMs head = t.rule.head();
  // Late events from just inside the late horizon up to an hour behind stream time: most are
  // older than the raw retention (3 days) and so live in tiles only from the start.
  std::vector<Event> late;
  for (int i = 0; i < 300; ++i) {
    TimeMs behind = kHourMs + static_cast<TimeMs>(rng() % (40 * kDayMs - 2 * kHourMs));
    late.push_back(t.world.make_event(users, head - behind, serial++));
  }
  for (std::size_t i = 0; i < late.size(); i += 50)
    t.post(std::vector<Event>(late.begin() + i, late.begin() + std::min(late.size(), i + 50)));
  ASSERT_EQ(t.rejected_total, 0u);
  t.check_users(users, head);

  // Four more days: the late events that were inside the retention have expired as raw
  // events too. Then every late event comes again: those still inside the late horizon are
  // duplicates, the others too late - as the rule decides.
  on_time(4);
  const std::size_t duplicates_before = t.duplicates_total;
  for (std::size_t i = 0; i < late.size(); i += 50)
    t.post(std::vector<Event>(late.begin() + i, late.begin() + std::min(late.size(), i + 50)));
  EXPECT_GT(t.duplicates_total - duplicates_before, 200u);
  EXPECT_GT(t.rejected_total, 0u) << "some re-sent events fell beyond the late horizon";
  t.check_users(users, t.rule.head());
  t.check_users(users, t.rule.head() - 30 * kMinuteMs);
}

}  // namespace
}  // namespace signalbox::testing
