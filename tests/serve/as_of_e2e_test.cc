// as_of through the real binary: ISO 8601 and epoch milliseconds answer the same instant, the
// answer carries both spellings, and a value in seconds is refused with a hint.

#include <gtest/gtest.h>

#include "server_process.h"
#include "traffic.h"
#include "world_yaml.h"

namespace signalbox::testing {
namespace {

class AsOfEndToEnd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world_ = new World(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"});
    port_ = free_port();
    server_ = new ServerProcess(write_config(world_->config, port_, 1 << 20), port_,
                                world_->dir() / "serve.log");
    HttpClient client(port_);
    std::vector<Event> events = generate(*world_, 300, 3, 10 * kMinuteMs, kHourMs, false);
    HttpAnswer answer = client.post("/v1/events", events_body(events, false));
    ASSERT_EQ(answer.status, 200u) << answer.body;
    for (const Event& e : events) head_ = std::max(head_, e.ts);
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->terminate(), 0) << server_->log();
    delete server_;
    delete world_;
  }

  static std::string error_of(const HttpAnswer& answer) {
    EXPECT_EQ(answer.status, 400u) << answer.body;
    return answer.error();
  }

  HttpClient client{port_};

  static World* world_;
  static ServerProcess* server_;
  static std::uint16_t port_;
  static TimeMs head_;
};

World* AsOfEndToEnd::world_ = nullptr;
ServerProcess* AsOfEndToEnd::server_ = nullptr;
std::uint16_t AsOfEndToEnd::port_ = 0;
TimeMs AsOfEndToEnd::head_ = 0;

// `t` written in UTC+01:00, the '+' percent-encoded.
std::string plus_one_hour(TimeMs t) {
  std::string local = ref_iso_time(t + kHourMs);
  local.pop_back();
  return local + "%2B01:00";
}

TEST_F(AsOfEndToEnd, IsoAndMillisecondsAnswerTheSameInstant) {
  const std::string iso = ref_iso_time(head_);
  HttpAnswer by_ms = client.get(fmt::format("/v1/users/1/signals?as_of={}", head_));
  ASSERT_EQ(by_ms.status, 200u) << by_ms.body;
  Value answer = by_ms.json();
  EXPECT_EQ(answer.find("as_of")->number(), static_cast<double>(head_));
  EXPECT_EQ(answer.find("as_of_iso")->string(), iso);

  for (const std::string& spelled : {iso, plus_one_hour(head_)}) {
    HttpAnswer by_iso = client.get("/v1/users/1/signals?as_of=" + spelled);
    ASSERT_EQ(by_iso.status, 200u) << spelled << ": " << by_iso.body;
    EXPECT_EQ(by_iso.body, by_ms.body) << spelled;
  }

  HttpAnswer batch = client.post("/v1/signals:batchGet",
                                 fmt::format(R"({{"user_ids": [1, 2], "as_of": "{}"}})", iso));
  ASSERT_EQ(batch.status, 200u) << batch.body;
  const Value batch_json = batch.json();
  const Value::Array& results = batch_json.find("results")->array();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].to_json(), by_ms.body);
  EXPECT_EQ(results[1].find("as_of_iso")->string(), iso);
}

TEST_F(AsOfEndToEnd, SecondsAndImpossibleDatesAreRefusedWithAHint) {
  const TimeMs seconds = head_ / 1000;
  std::string message = error_of(client.get(fmt::format("/v1/users/1/signals?as_of={}", seconds)));
  EXPECT_NE(message.find(fmt::format("as_of: \"{}\" looks like seconds", seconds)),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("multiply by 1000"), std::string::npos) << message;

  message = error_of(client.post("/v1/signals:batchGet",
                                 fmt::format(R"({{"user_ids": [1], "as_of": {}}})", seconds)));
  EXPECT_NE(message.find("looks like seconds"), std::string::npos) << message;

  message = error_of(client.get(fmt::format("/v1/users/1/signals?as_of={}000", head_)));
  EXPECT_NE(message.find("microseconds"), std::string::npos) << message;

  message = error_of(client.get("/v1/users/1/signals?as_of=2026-02-30"));
  EXPECT_NE(message.find("2026-02 has 28 days"), std::string::npos) << message;

  // An unencoded '+' in a URL query is a space: the message says so.
  message = error_of(client.get("/v1/users/1/signals?as_of=2026-11-30T12:00:00+01:00"));
  EXPECT_NE(message.find("%2B"), std::string::npos) << message;
}

}  // namespace
}  // namespace signalbox::testing
