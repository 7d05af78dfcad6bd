// HttpApi without sockets: routing, parameters and answers over an in-process Engine.

#include "signalbox/serve/http_api.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "fixed_times.h"
#include "world.h"

namespace signalbox::testing {
namespace {

namespace http = boost::beast::http;

class HttpApiTest : public ::testing::Test {
 protected:
  HttpApiTest()
      : world_(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"}),
        engine_(world_.config),
        api_(engine_, HttpApiOptions{3}) {}

  HttpResponse call(http::verb verb, std::string target, std::string body = "") {
    HttpRequest request(verb, target, 11);
    request.body() = std::move(body);
    request.prepare_payload();
    return api_.handle(request);
  }

  World world_;
  Engine engine_;
  HttpApi api_;
};

TEST_F(HttpApiTest, IngestsAndAnswersWithTheEngine) {
  std::string body;
  for (int i = 0; i < 3; ++i) {
    body += fmt::format(R"({{"user_id": 7, "ts": {}, "action": "click", "item_id": "pin{}"}})"
                        "\n",
                        kStart + i * 1000, i);
  }
  body += R"({"user_id": 7, "ts": "soon", "action": "click"})";
  HttpResponse posted = call(http::verb::post, "/v1/events", body);
  EXPECT_EQ(posted.result(), http::status::ok);
  EXPECT_EQ(posted.body().substr(0, 52), R"({"accepted":3,"rejected":1,"errors":[{"index":3,"err)");
  EXPECT_NE(posted.body().find(R"("duplicates":0})"), std::string::npos) << posted.body();

  std::string target =
      fmt::format("/v1/users/7/signals?names=all_clicks,all_clicks&as_of={}", kStart + 5000);
  HttpResponse got = call(http::verb::get, target);
  EXPECT_EQ(got.result(), http::status::ok);
  EXPECT_EQ(got.body(),
            engine_.query(7, {"all_clicks"}, kStart + 5000, Engine::Seen::kReport).to_json());
  EXPECT_EQ(got[http::field::content_type], "application/json");
}

TEST_F(HttpApiTest, BatchGetUsesOneAsOfForAllUsers) {
  HttpResponse batch = call(http::verb::post, "/v1/signals:batchGet",
                            R"({"user_ids": [1, 2, 3], "names": ["saves"]})");
  ASSERT_EQ(batch.result(), http::status::ok) << batch.body();
  std::string as_of = batch.body().substr(batch.body().find(R"("as_of":)"), 22);
  std::size_t count = 0;
  for (std::size_t at = batch.body().find(as_of); at != std::string::npos;
       at = batch.body().find(as_of, at + 1))
    ++count;
  EXPECT_EQ(count, 3u) << batch.body();
  HttpResponse too_many =
      call(http::verb::post, "/v1/signals:batchGet", R"({"user_ids": [1, 2, 3, 4]})");
  EXPECT_EQ(too_many.result(), http::status::bad_request);
  EXPECT_NE(too_many.body().find("at most 3"), std::string::npos) << too_many.body();
}

TEST_F(HttpApiTest, HeadAnswersHeadersOnly) {
  HttpResponse get = call(http::verb::get, "/v1/signals");
  HttpResponse head = call(http::verb::head, "/v1/signals");
  EXPECT_EQ(head.result(), http::status::ok);
  EXPECT_EQ(head.body(), "");
  EXPECT_EQ(head[http::field::content_length], std::to_string(get.body().size()));
}

TEST_F(HttpApiTest, RoutesByDecodedPath) {
  EXPECT_EQ(HttpApi::route_of("/v1/events"), Route::kEvents);
  EXPECT_EQ(HttpApi::route_of("/v1/signals%3AbatchGet"), Route::kBatchGet);
  EXPECT_EQ(HttpApi::route_of("/v1/users/x/signals?names=a"), Route::kUserSignals);
  EXPECT_EQ(HttpApi::route_of("/v1/users/x"), Route::kUnmatched);
  EXPECT_EQ(HttpApi::route_of("/metrics?x"), Route::kMetrics);
  EXPECT_EQ(call(http::verb::post, "/v1/signals%3AbatchGet", R"({"user_ids": []})").body(),
            R"({"results":[]})");
}

TEST_F(HttpApiTest, MetricsAreWellFormedPrometheusText) {
  call(http::verb::get, "/v1/users/1/signals?names=saves");
  call(http::verb::get, "/nope");
  std::string text = call(http::verb::get, "/metrics").body();
  std::istringstream lines(text);
  std::string line, family;
  std::set<std::string> typed;
  while (std::getline(lines, line)) {
    ASSERT_FALSE(line.empty());
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(typed.insert(name).second) << "typed twice: " << name;
      family = name;
      continue;
    }
    // Every sample belongs to the family typed last: name, name_bucket, name_sum, name_count.
    std::string name = line.substr(0, line.find_first_of("{ "));
    EXPECT_EQ(name.rfind(family, 0), 0u) << line;
    EXPECT_NE(line.find(' '), std::string::npos) << line;
  }
  EXPECT_NE(text.find("signalbox_http_requests_total{route=\"unmatched\",code=\"404\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(
      text.find(
          "signalbox_query_duration_seconds_count{route=\"/v1/users/{user_id}/signals\"} 1\n"),
      std::string::npos)
      << text;
}

}  // namespace
}  // namespace signalbox::testing
