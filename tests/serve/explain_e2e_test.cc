// GET /v1/users/{id}/explain through the real binary: the value is the one GET .../signals
// serves at the same as_of, grouped count parts sum to it key by key, the events listed are ones
// this test sent in the window, the answer is bounded by max_events, and bad parameters are 400s
// naming them.

#include <gtest/gtest.h>

#include <map>

#include "server_process.h"
#include "traffic.h"
#include "world_yaml.h"

namespace signalbox::testing {
namespace {

class ExplainEndToEnd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world_ = new World(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"}, 37);
    port_ = free_port();
    server_ =
        new ServerProcess(write_config(world_->config, port_), port_, world_->dir() / "serve.log");
    HttpClient client(port_);
    // Five days of traffic in a few posts, so that the 10d and 40d windows reach past the raw
    // retention into day tiles.
    std::vector<Event> events = generate(*world_, 1200, 3, 6 * kMinuteMs, kHourMs, false);
    for (std::size_t from = 0; from < events.size(); from += 400) {
      std::vector<Event> part(
          events.begin() + static_cast<long>(from),
          events.begin() + static_cast<long>(std::min(events.size(), from + 400)));
      HttpAnswer answer = client.post("/v1/events", events_body(part, false));
      ASSERT_EQ(answer.status, 200u) << answer.body;
    }
    for (const Event& e : events) {
      sent_->try_emplace({e.user_id, e.event_id}, e);
      head_ = std::max(head_, e.ts);
    }
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->terminate(), 0) << server_->log();
    delete server_;
    delete world_;
  }

  Value get_json(const std::string& target) {
    HttpAnswer answer = client.get(target);
    EXPECT_EQ(answer.status, 200u) << target << ": " << answer.body;
    return answer.json();
  }
  std::string error_of(const std::string& target) {
    HttpAnswer answer = client.get(target);
    EXPECT_EQ(answer.status, 400u) << target << ": " << answer.body;
    return answer.error();
  }

  HttpClient client{port_};

  static World* world_;
  static ServerProcess* server_;
  static std::uint16_t port_;
  static TimeMs head_;
  static std::map<std::pair<std::uint64_t, std::string>, Event>* sent_;
};

World* ExplainEndToEnd::world_ = nullptr;
ServerProcess* ExplainEndToEnd::server_ = nullptr;
std::uint16_t ExplainEndToEnd::port_ = 0;
TimeMs ExplainEndToEnd::head_ = 0;
std::map<std::pair<std::uint64_t, std::string>, Event>* ExplainEndToEnd::sent_ =
    new std::map<std::pair<std::uint64_t, std::string>, Event>();

// Adds a part's value (an object of counts per category) into `sums`.
void add_counts(std::map<std::string, double>& sums, const Value& part) {
  for (const auto& [key, v] : part.object()) sums[key] += v.number();
}

TEST_F(ExplainEndToEnd, CountPartsSumToTheServedValueAndListSentEvents) {
  std::size_t with_tiles = 0, with_events = 0;
  for (std::uint64_t user = 1000; user < 1003; ++user) {
    for (const WindowConfig& w : world_->find_signal("category_counts")->windows) {
      for (TimeMs as_of : {head_, head_ - 7 * kMinuteMs, head_ + 5 * kHourMs}) {
        SCOPED_TRACE(fmt::format("user {} window {} as_of {}", user, w.text, as_of));
        const Value x = get_json(fmt::format(
            "/v1/users/{}/explain?signal=category_counts&window={}&as_of={}&max_events=1000", user,
            w.text, ref_iso_time(as_of)));
        const Value served = get_json(
            fmt::format("/v1/users/{}/signals?names=category_counts&as_of={}", user, as_of));
        const Value* value = served.find("signals")->find("category_counts")->find(w.text);
        ASSERT_NE(value, nullptr);
        EXPECT_EQ(x.find("value")->to_json(), value->to_json());
        EXPECT_EQ(x.find("combine")->string(), "sum");
        EXPECT_EQ(x.find("as_of")->number(), static_cast<double>(as_of));
        const Value& window = x.find("windows")->array().at(0);
        EXPECT_EQ(window.find("truncated")->number(), 0);
        std::map<std::string, double> sums;
        for (const Value& t : window.find("tiles")->array()) add_counts(sums, *t.find("value"));
        for (const Value& e : window.find("events")->array()) {
          add_counts(sums, *e.find("value"));
          auto it = sent_->find({user, e.find("event_id")->string()});
          ASSERT_NE(it, sent_->end()) << e.to_json();
          EXPECT_EQ(e.find("ts")->number(), static_cast<double>(it->second.ts));
          EXPECT_EQ(e.find("action")->string(), it->second.action);
          EXPECT_TRUE(in_window(it->second.ts, as_of, w.length, 3 * kDayMs)) << e.to_json();
        }
        std::map<std::string, double> expected;
        add_counts(expected, *value);
        std::erase_if(sums, [](const auto& entry) { return entry.second == 0; });
        EXPECT_EQ(sums, expected);
        with_tiles += !window.find("tiles")->array().empty();
        with_events += !window.find("events")->array().empty();
      }
    }
  }
  EXPECT_GT(with_tiles, 20u);
  EXPECT_GT(with_events, 10u);
}

TEST_F(ExplainEndToEnd, ViewsAndSignalsWithoutWindowsAnswerTheServedValue) {
  for (const char* name : {"top3", "session", "recent_items", "category_counts", "affinity"}) {
    SCOPED_TRACE(name);
    const Value x = get_json(fmt::format("/v1/users/1000/explain?signal={}&as_of={}", name, head_));
    const Value served =
        get_json(fmt::format("/v1/users/1000/signals?names={}&as_of={}", name, head_));
    EXPECT_EQ(x.find("value")->to_json(), served.find("signals")->find(name)->to_json());
    EXPECT_FALSE(x.find("windows")->array().empty());
  }
}

// A moment before stream time, so that the last partial hour is read as raw events (as of
// stream time it is the hour's tile).
TEST_F(ExplainEndToEnd, MaxEventsBoundsTheAnswer) {
  const Value x = get_json(fmt::format(
      "/v1/users/1000/explain?signal=category_counts&window=1d&as_of={}&max_events=1", head_ - 1));
  const Value& window = x.find("windows")->array().at(0);
  EXPECT_EQ(window.find("events")->array().size(), 1u);
  EXPECT_GT(window.find("truncated")->number(), 0);
  EXPECT_EQ(window.find("truncated")->number() + 1, window.find("events_total")->number());
}

TEST_F(ExplainEndToEnd, BadParametersAre400sNamingThem) {
  EXPECT_NE(error_of("/v1/users/1000/explain?signal=nope").find("\"nope\""), std::string::npos);
  EXPECT_EQ(error_of("/v1/users/1000/explain?signal=saves&window=2d")
                .rfind("window: signal \"saves\" has no window \"2d\"", 0),
            0u);
  EXPECT_EQ(error_of("/v1/users/1000/explain").rfind("signal: required", 0), 0u);
  EXPECT_EQ(error_of("/v1/users/1000/explain?signal=saves&max_events=5000").rfind("max_events:", 0),
            0u);
  EXPECT_EQ(error_of("/v1/users/1000/explain?signal=saves&as_of=yesterday").rfind("as_of:", 0), 0u);
  EXPECT_EQ(error_of("/v1/users/x/explain?signal=saves").rfind("user_id:", 0), 0u);
  EXPECT_EQ(error_of("/v1/users/1000/explain?signal=saves&colour=red")
                .rfind("unknown query parameter", 0),
            0u);
  EXPECT_NE(
      error_of(fmt::format("/v1/users/1000/explain?signal=saves&as_of={}", head_ - 20 * kDayMs))
          .find("too old"),
      std::string::npos);
}

}  // namespace
}  // namespace signalbox::testing
