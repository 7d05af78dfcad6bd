// Every error answer of `signalbox serve`, through the real binary: 400s naming the problem,
// 404, 405 with Allow, 413, 431, malformed HTTP; and the small contracts around them (JSON
// content type, HEAD, URL decoding, Expect: 100-continue, the listed-errors cap).

#include <gtest/gtest.h>

#include "server_process.h"
#include "traffic.h"
#include "world_yaml.h"

namespace signalbox::testing {
namespace {

constexpr std::size_t kMaxBody = 64 * 1024;

class ServeErrors : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world_ = new World(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"});
    port_ = free_port();
    server_ = new ServerProcess(write_config(world_->config, port_, kMaxBody), port_,
                                world_->dir() / "serve.log");
    HttpClient client(port_);
    std::vector<Event> events = generate(*world_, 200, 5, 10 * kMinuteMs, kHourMs, false);
    HttpAnswer answer = client.post("/v1/events", events_body(events, false));
    ASSERT_EQ(answer.status, 200u) << answer.body;
    for (const Event& e : events) head_ = std::max(head_, e.ts);
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->terminate(), 0) << server_->log();
    delete server_;
    delete world_;
  }

  // Expects a JSON error answer with `status` whose message contains each of `parts`.
  static void expect_error(const HttpAnswer& answer, unsigned status,
                           const std::vector<std::string>& parts) {
    EXPECT_EQ(answer.status, status) << answer.body;
    EXPECT_EQ(answer.content_type, "application/json") << answer.body;
    std::string message = answer.error();
    EXPECT_FALSE(message.empty()) << answer.body;
    for (const std::string& part : parts)
      EXPECT_NE(message.find(part), std::string::npos) << "\"" << part << "\" not in: " << message;
  }

  HttpClient client{port_};

  static World* world_;
  static ServerProcess* server_;
  static std::uint16_t port_;
  static TimeMs head_;
};

World* ServeErrors::world_ = nullptr;
ServerProcess* ServeErrors::server_ = nullptr;
std::uint16_t ServeErrors::port_ = 0;
TimeMs ServeErrors::head_ = 0;

TEST_F(ServeErrors, BadUserIds) {
  for (std::string bad : {"abc", "-1", "+1", "1.5", "18446744073709551616", "12abc", "%20"}) {
    expect_error(client.get("/v1/users/" + bad + "/signals"), 400, {"user_id", "unsigned 64-bit"});
  }
  expect_error(client.get("/v1/users/abc/signals"), 400, {"\"abc\""});
  expect_error(client.get("/v1/users//signals"), 400, {"user_id"});
  // The largest id is fine, and so is a percent-encoded one.
  EXPECT_EQ(client.get("/v1/users/18446744073709551615/signals").status, 200u);
  HttpAnswer encoded = client.get(fmt::format("/v1/users/%31%30%30%30/signals?as_of={}", head_));
  ASSERT_EQ(encoded.status, 200u) << encoded.body;
  EXPECT_EQ(encoded.json().find("user_id")->number(), 1000.0);
}

TEST_F(ServeErrors, BadAsOf) {
  for (std::string bad : {"yesterday", "-5", "1e9", "", "99999999999999999999"}) {
    expect_error(client.get("/v1/users/1000/signals?as_of=" + bad), 400, {"as_of"});
  }
  expect_error(client.get("/v1/users/1000/signals?as_of=1700000000000&as_of=2023-11-14"), 400,
               {"as_of", "more than once"});
  // Older than the online state holds: the engine's message says what to use instead.
  expect_error(client.get(fmt::format("/v1/users/1000/signals?as_of={}", head_ - 20 * kDayMs)), 400,
               {"as_of", "too old", "backfill"});
}

TEST_F(ServeErrors, UnknownNamesListTheKnownOnes) {
  HttpAnswer answer = client.get("/v1/users/1000/signals?names=saves,no_such_signal");
  expect_error(answer, 400, {"no_such_signal", "known", "category_counts", "saves", "top3"});
  expect_error(client.get("/v1/users/1000/signals?names=s%61ves%2Cnope"), 400, {"\"nope\""});
}

TEST_F(ServeErrors, QueryStringProblems) {
  expect_error(client.get("/v1/users/1000/signals?asof=5"), 400,
               {"unknown query parameter", "asof"});
  expect_error(client.get("/v1/users/1000/signals?names=%zz"), 400, {"percent-encoding"});
  expect_error(client.get("/v1/users/1000/signals?names=%4"), 400, {"percent-encoding"});
  // Decoding: %2C and '+' inside names, repeated and empty names.
  HttpAnswer answer = client.get("/v1/users/1000/signals?names=saves%2Ctop3&names=&names=saves");
  ASSERT_EQ(answer.status, 200u) << answer.body;
  Value parsed = answer.json();
  const Value::Object& signals = parsed.find("signals")->object();
  ASSERT_EQ(signals.size(), 2u);
  EXPECT_EQ(signals[0].first, "saves");
  EXPECT_EQ(signals[1].first, "top3");
}

TEST_F(ServeErrors, MalformedBatchGet) {
  auto batch = [&](const std::string& body) { return client.post("/v1/signals:batchGet", body); };
  expect_error(batch("{"), 400, {"body", "not valid JSON"});
  expect_error(batch(""), 400, {"body"});
  expect_error(batch("[1, 2]"), 400, {"body", "JSON object"});
  expect_error(batch(R"({"names": ["saves"]})"), 400, {"user_ids", "required"});
  expect_error(batch(R"({"user_ids": 5})"), 400, {"user_ids", "array"});
  expect_error(batch(R"({"user_ids": [1, "abc"]})"), 400,
               {"user_ids[1]", "\"abc\"", "unsigned 64-bit"});
  expect_error(batch(R"({"user_ids": [-1]})"), 400, {"user_ids[0]", "-1"});
  expect_error(batch(R"({"user_ids": [1.5]})"), 400, {"user_ids[0]"});
  expect_error(batch(R"({"user_ids": [1], "names": "saves"})"), 400, {"names", "array of strings"});
  expect_error(batch(R"({"user_ids": [1], "names": [7]})"), 400, {"names[0]"});
  expect_error(batch(R"({"user_ids": [1], "names": ["nope"]})"), 400, {"nope", "known", "saves"});
  expect_error(batch(R"({"user_ids": [1], "as_of": "now"})"), 400, {"as_of"});
  expect_error(batch(R"({"user_ids": [1], "as_of": -3})"), 400, {"as_of"});
  expect_error(batch(R"({"user_ids": [1], "asof": 5})"), 400, {"unknown field", "asof"});

  std::string ids = "1";
  for (int i = 2; i <= 1001; ++i) ids += fmt::format(",{}", i);
  expect_error(batch(fmt::format(R"({{"user_ids": [{}]}})", ids)), 400,
               {"user_ids", "at most 1000"});
  HttpAnswer thousand =
      batch(fmt::format(R"({{"user_ids": [{}], "names": ["saves"], "as_of": {}}})",
                        ids.substr(0, ids.rfind(',')), head_));
  ASSERT_EQ(thousand.status, 200u) << thousand.body.substr(0, 200);
  EXPECT_EQ(thousand.json().find("results")->array().size(), 1000u);
  HttpAnswer empty = batch(R"({"user_ids": []})");
  ASSERT_EQ(empty.status, 200u);
  EXPECT_EQ(empty.body, R"({"results":[]})");
}

TEST_F(ServeErrors, BodiesOverTheLimitAre413) {
  std::string big(kMaxBody + 1, ' ');
  expect_error(client.post("/v1/events", big), 413, {"body", "max_body_bytes", "65536"});
  expect_error(client.post("/v1/signals:batchGet", big), 413, {"body"});
  // Chunked: the limit holds as the chunks arrive.
  std::string chunked =
      "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 20; ++i)
    chunked += fmt::format("{:x}\r\n{}\r\n", 8192, std::string(8192, ' '));
  chunked += "0\r\n\r\n";
  expect_error(client.send_raw(chunked), 413, {"body"});
  // A body just at the limit is taken.
  std::string line = events_body({world_->make_event(3, kStart, 999999)}, false);
  std::string at_limit = line + std::string(kMaxBody - line.size(), '\n');
  HttpAnswer answer = client.post("/v1/events", at_limit);
  ASSERT_EQ(answer.status, 200u) << answer.body;
  EXPECT_EQ(answer.json().find("accepted")->number(), 1.0);
}

TEST_F(ServeErrors, HeadersOverTheLimitAre431) {
  HttpAnswer answer =
      client.send(Method::kGet, "/healthz", "", {{"X-Padding", std::string(20000, 'x')}});
  expect_error(answer, 431, {"headers"});
  expect_error(client.get("/v1/users/1/signals?names=" + std::string(20000, 'a')), 431,
               {"headers"});
}

TEST_F(ServeErrors, UnknownRoutesAre404) {
  // "/" is the web page (docs/web.md); "/nope" is no file of it.
  for (std::string target : {"/nope", "/nope.js", "/v1", "/v1/users/1/signals/extra", "/v1/users/1",
                             "/v1/events/1", "/v2/signals", "/healthz/x"}) {
    expect_error(client.get(target), 404, {"no route", "GET"});
  }
}

TEST_F(ServeErrors, WrongMethodsAre405WithAllow) {
  struct Case {
    Method verb;
    std::string target;
    std::string allow;
  };
  for (const Case& c : std::vector<Case>{{Method::kGet, "/v1/events", "POST"},
                                         {Method::kPut, "/v1/events", "POST"},
                                         {Method::kPost, "/v1/signals", "GET, HEAD"},
                                         {Method::kDelete, "/v1/users/1/signals", "GET, HEAD"},
                                         {Method::kGet, "/v1/signals:batchGet", "POST"},
                                         {Method::kPost, "/healthz", "GET, HEAD"},
                                         {Method::kPost, "/metrics", "GET, HEAD"}}) {
    HttpAnswer answer = client.send(c.verb, c.target, "");
    expect_error(answer, 405, {"not allowed", c.allow});
    EXPECT_EQ(answer.allow, c.allow) << c.target;
  }
}

TEST_F(ServeErrors, MalformedHttpIs400AndCloses) {
  HttpAnswer answer = client.send_raw("GET /healthz HTTP/1.1\r\nBad Header Line\r\n\r\n");
  expect_error(answer, 400, {"malformed HTTP"});
  EXPECT_FALSE(answer.keep_alive);
}

TEST_F(ServeErrors, RejectedEventsAreListedUpToAHundred) {
  std::string body;
  for (int i = 0; i < 150; ++i)
    body += R"({"user_id": "x", "ts": 1, "action": "click"})"
            "\n";
  body += events_body({world_->make_event(3, head_, 777777)}, false);
  HttpAnswer answer = client.post("/v1/events", body);
  ASSERT_EQ(answer.status, 200u) << answer.body;
  Value v = answer.json();
  EXPECT_EQ(v.find("accepted")->number(), 1.0);
  EXPECT_EQ(v.find("rejected")->number(), 150.0);
  const Value::Array& errors = v.find("errors")->array();
  ASSERT_EQ(errors.size(), 100u);
  EXPECT_EQ(errors[0].find("index")->number(), 0.0);
  EXPECT_EQ(errors[99].find("index")->number(), 99.0);
  EXPECT_EQ(errors[0].find("error")->string().rfind("user_id", 0), 0u) << answer.body;
}

TEST_F(ServeErrors, HealthSignalsMetricsAndHead) {
  HttpAnswer health = client.get("/healthz");
  EXPECT_EQ(health.status, 200u);
  EXPECT_EQ(health.content_type, "application/json");

  HttpAnswer signals = client.get("/v1/signals");
  ASSERT_EQ(signals.status, 200u);
  EXPECT_EQ(signals.content_type, "application/json");
  Value described = signals.json();
  const Value::Array& defined = described.find("signals")->array();
  ASSERT_EQ(defined.size(), world_->config.signals.size());
  EXPECT_EQ(defined[0].find("name")->string(), "category_counts");
  EXPECT_EQ(signals.json().find("views")->array().size(), 3u);

  HttpAnswer head = client.send(Method::kHead, "/v1/signals", "");
  EXPECT_EQ(head.status, 200u);
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(head.content_length, signals.body.size());
  EXPECT_TRUE(head.keep_alive);
  EXPECT_EQ(client.get("/healthz").status, 200u) << "the connection still works after HEAD";

  client.get("/nope");
  client.post("/v1/events", std::string(kMaxBody + 1, ' '));
  HttpAnswer metrics = client.get("/metrics");
  ASSERT_EQ(metrics.status, 200u);
  EXPECT_EQ(metrics.content_type, "text/plain; version=0.0.4; charset=utf-8");
  for (std::string name :
       {"signalbox_events_accepted_total", "signalbox_events_rejected_total",
        "signalbox_events_duplicate_total", "signalbox_queries_total",
        "signalbox_query_duration_seconds", "signalbox_http_requests_total",
        "signalbox_stream_time_seconds", "signalbox_store_events", "signalbox_store_tiles",
        "signalbox_store_disk_bytes", "signalbox_query_span_cache_version_hits_total",
        "signalbox_query_tiles_read_total"}) {
    EXPECT_NE(metrics.body.find("# HELP " + name + " "), std::string::npos) << name;
    EXPECT_NE(metrics.body.find("# TYPE " + name + " "), std::string::npos) << name;
  }
  for (std::string sample :
       {"signalbox_events_rejected_total{reason=\"invalid\"} ",
        "signalbox_events_rejected_total{reason=\"late\"} ",
        "signalbox_http_requests_total{route=\"unmatched\",code=\"404\"} ",
        "signalbox_http_requests_total{route=\"/v1/events\",code=\"413\"} ",
        "signalbox_http_requests_total{route=\"/healthz\",code=\"200\"} ",
        "signalbox_query_duration_seconds_bucket{route=\"/v1/users/{user_id}/"
        "signals\",le=\"+Inf\"} ",
        "signalbox_query_duration_seconds_count{route=\"/v1/signals:batchGet\"} "}) {
    EXPECT_NE(metrics.body.find(sample), std::string::npos) << sample << "\n" << metrics.body;
  }
}

TEST_F(ServeErrors, ExpectContinueIsHonoured) {
  std::string body = events_body({world_->make_event(3, head_, 888888)}, false);
  client.write_raw(
      fmt::format("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
                  "Expect: 100-continue\r\nContent-Length: {}\r\n\r\n",
                  body.size()));
  HttpAnswer go_on = client.read(false);
  EXPECT_EQ(go_on.status, 100u);
  client.write_raw(body);
  HttpAnswer answer = client.read(false);
  ASSERT_EQ(answer.status, 200u) << answer.body;
  EXPECT_EQ(answer.json().find("accepted")->number(), 1.0);
}

TEST_F(ServeErrors, PipelinedRequestsAreAnsweredInOrder) {
  client.write_raw(
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /v1/users/42/signals?names=saves&as_of=" +
      std::to_string(head_) + " HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.read(false).status, 200u);
  EXPECT_EQ(client.read(false).status, 404u);
  HttpAnswer third = client.read(false);
  EXPECT_EQ(third.status, 200u);
  // as_of_iso is checked where it is made (common_test); here only that it is in its place.
  const std::string iso_field = R"("as_of_iso":")";
  std::size_t iso = third.body.find(iso_field);
  ASSERT_NE(iso, std::string::npos) << third.body;
  std::string body = third.body;
  body.erase(iso, iso_field.size() + std::string_view("2024-01-01T00:00:00.000Z\",").size());
  EXPECT_EQ(
      body,
      fmt::format(
          R"({{"user_id":42,"as_of":{},"seen":false,"signals":{{"saves":{{"1d":0,"40d":0}}}}}})",
          head_));
}

}  // namespace
}  // namespace signalbox::testing
