// The routes behind the web page, through HttpApi over a real Engine: the page's files as
// compiled into the binary, and GET /v1/users (recently ingested users, then stored ones).

#include "signalbox/serve/http_api.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "fixed_times.h"
#include "signalbox/web/web_assets.h"
#include "world.h"

namespace signalbox::testing {
namespace {

namespace http = boost::beast::http;

std::string read_source(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class WebRoutesTest : public ::testing::Test {
 protected:
  WebRoutesTest() : world_(3 * kDayMs, {"1h", "1d", "3d", "10d"}) { open(); }

  // (Re)opens engine and API on the world's store, as a restarted server would.
  void open() {
    api_.reset();
    engine_.reset();
    engine_ = std::make_unique<Engine>(world_.config);
    api_ = std::make_unique<HttpApi>(*engine_);
  }

  HttpResponse call(http::verb verb, std::string target, std::string body = "") {
    HttpRequest request(verb, target, 11);
    request.body() = std::move(body);
    request.prepare_payload();
    return api_->handle(request);
  }

  void post(std::initializer_list<std::uint64_t> users) {
    std::string body;
    int i = 0;
    for (std::uint64_t user : users) {
      body += fmt::format(R"({{"user_id": {}, "ts": {}, "action": "click", "item_id": "p{}"}})"
                          "\n",
                          user, kStart + i * 1000, i);
      ++i;
    }
    HttpResponse answer = call(http::verb::post, "/v1/events", body);
    ASSERT_EQ(answer.result(), http::status::ok) << answer.body();
  }

  World world_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<HttpApi> api_;
};

TEST_F(WebRoutesTest, ServesEveryFileOfWebAsBuilt) {
  std::filesystem::path web = std::filesystem::path(SIGNALBOX_SOURCE_DIR) / "web";
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(web)) {
    std::string name = entry.path().filename().string();
    SCOPED_TRACE(name);
    HttpResponse got = call(http::verb::get, "/" + name);
    ASSERT_EQ(got.result(), http::status::ok) << got.body();
    EXPECT_EQ(got.body(), read_source(entry.path()));
    EXPECT_EQ(got[http::field::cache_control], "no-cache");
    EXPECT_NE(got["Content-Security-Policy"].find("default-src 'self'"), std::string::npos);
    ++files;
  }
  EXPECT_EQ(files, kWebAssetCount);

  HttpResponse index = call(http::verb::get, "/");
  EXPECT_EQ(index.result(), http::status::ok);
  EXPECT_EQ(index[http::field::content_type], "text/html; charset=utf-8");
  EXPECT_EQ(index.body(), read_source(web / "index.html"));
  EXPECT_EQ(call(http::verb::get, "/app.js")[http::field::content_type],
            "text/javascript; charset=utf-8");
  EXPECT_EQ(call(http::verb::get, "/style.css")[http::field::content_type],
            "text/css; charset=utf-8");

  HttpResponse head = call(http::verb::head, "/");
  EXPECT_EQ(head.result(), http::status::ok);
  EXPECT_EQ(head.body(), "");
  EXPECT_EQ(head[http::field::content_length], std::to_string(index.body().size()));
}

TEST_F(WebRoutesTest, OnlyTheFilesOfWebAreServed) {
  EXPECT_EQ(call(http::verb::get, "/nothing.js").result(), http::status::not_found);
  EXPECT_EQ(call(http::verb::get, "/../CMakeLists.txt").result(), http::status::not_found);
  EXPECT_EQ(call(http::verb::get, "/web/app.js").result(), http::status::not_found);
  HttpResponse post = call(http::verb::post, "/", "x");
  EXPECT_EQ(post.result(), http::status::method_not_allowed);
  EXPECT_EQ(post[http::field::allow], "GET, HEAD");
  HttpResponse metrics = call(http::verb::get, "/metrics");
  EXPECT_NE(metrics.body().find("signalbox_http_requests_total{route=\"/\",code=\"405\"} 1\n"),
            std::string::npos);
}

TEST_F(WebRoutesTest, UsersListsRecentlyIngestedUsersNewestFirst) {
  EXPECT_EQ(call(http::verb::get, "/v1/users").body(), R"({"users":[]})");
  post({5, 3, 9});
  post({3});
  HttpResponse got = call(http::verb::get, "/v1/users");
  EXPECT_EQ(got.result(), http::status::ok);
  EXPECT_EQ(got[http::field::content_type], "application/json");
  EXPECT_EQ(got.body(), R"({"users":["3","9","5"]})");
  EXPECT_EQ(call(http::verb::get, "/v1/users?limit=2").body(), R"({"users":["3","9"]})");
  HttpResponse metrics = call(http::verb::get, "/metrics");
  EXPECT_NE(
      metrics.body().find("signalbox_http_requests_total{route=\"/v1/users\",code=\"200\"} 3\n"),
      std::string::npos);
}

TEST_F(WebRoutesTest, UsersListsStoredUsersInIdOrderAfterARestart) {
  post({5, 18446744073709551615u, 3, 9, 3});
  open();
  EXPECT_EQ(call(http::verb::get, "/v1/users").body(),
            R"({"users":["3","5","9","18446744073709551615"]})");
  // Recent users first, then stored ones not already listed.
  post({9});
  EXPECT_EQ(call(http::verb::get, "/v1/users?limit=3").body(), R"({"users":["9","3","5"]})");
  // recent: only the users this process ingested, newest first; none of the stored ones.
  EXPECT_EQ(call(http::verb::get, "/v1/users?recent=10").body(), R"({"users":["9"]})");
  post({18446744073709551615u, 5});
  EXPECT_EQ(call(http::verb::get, "/v1/users?recent=10").body(),
            R"({"users":["5","18446744073709551615","9"]})");
  EXPECT_EQ(call(http::verb::get, "/v1/users?recent=2").body(),
            R"({"users":["5","18446744073709551615"]})");
}

TEST_F(WebRoutesTest, UsersRejectsBadParametersByName) {
  auto error = [&](const std::string& target) {
    HttpResponse got = call(http::verb::get, target);
    EXPECT_EQ(got.result(), http::status::bad_request) << target;
    return got.body();
  };
  EXPECT_EQ(error("/v1/users?limit=0"),
            R"({"error":"limit: \"0\" is not an integer from 1 to 1000"})");
  EXPECT_EQ(error("/v1/users?limit=1001"),
            R"({"error":"limit: \"1001\" is not an integer from 1 to 1000"})");
  EXPECT_EQ(error("/v1/users?limit=ten"),
            R"({"error":"limit: \"ten\" is not an integer from 1 to 1000"})");
  EXPECT_EQ(error("/v1/users?limit=1&limit=2"), R"({"error":"limit: given more than once"})");
  EXPECT_EQ(error("/v1/users?user=1"),
            R"j({"error":"unknown query parameter \"user\" (known: limit, recent)"})j");
  EXPECT_EQ(error("/v1/users?recent=0"),
            R"({"error":"recent: \"0\" is not an integer from 1 to 1000"})");
  EXPECT_EQ(error("/v1/users?recent=2&recent=3"), R"({"error":"recent: given more than once"})");
  EXPECT_EQ(
      error("/v1/users?recent=2&limit=3"),
      R"({"error":"recent: lists the recent users only and takes no limit; give one of limit and recent"})");
  EXPECT_EQ(error("/v1/users?limit=%zz"),
            R"({"error":"query: bad percent-encoding in \"limit=%zz\""})");
  EXPECT_EQ(call(http::verb::post, "/v1/users").result(), http::status::method_not_allowed);
}

}  // namespace
}  // namespace signalbox::testing
