// HttpServer in-process: listening on port 0, stop() from another thread, timeouts, the
// process's periodic expiry running beside traffic.

#include "signalbox/serve/http_server.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "fixed_times.h"
#include "http_client.h"
#include "json.h"
#include "loopback.h"
#include "signalbox/process/engine_upkeep.h"
#include "signalbox/process/process_runner.h"
#include "world.h"

namespace signalbox::testing {
namespace {

using namespace std::chrono_literals;

std::uint16_t port_of(const std::string& address) {
  return static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

struct Running {
  Running(Engine& engine, HttpServerOptions options) : server(engine, std::move(options)) {
    server.listen();
    port = port_of(server.local_address());
    server.start();
  }
  ~Running() {
    server.stop();
    server.wait();
  }
  HttpServer server;
  std::uint16_t port = 0;
};

HttpServerOptions test_options() {
  HttpServerOptions options;
  options.address = "127.0.0.1:0";
  return options;
}

TEST(HttpServer, ServesWhileExpiringAndStopsOnRequest) {
  World world(kDayMs, {"1h", "1d", "3d", "10d", "40d"});
  Engine engine(world.config);
  HttpServer server(engine, test_options());
  server.listen();
  std::uint16_t port = port_of(server.local_address());
  auto runner = std::make_unique<ProcessRunner>(ProcessRunnerOptions{.handle_signals = false});
  runner->add(server);
  runner->every(5ms, "expiring old events", [&engine] { expire_and_log(engine); });
  runner->start();
  EXPECT_EQ(server.local_address(), fmt::format("127.0.0.1:{}", port));
  HttpClient client(port);
  for (int day = 0; day < 5; ++day) {
    std::string body;
    for (int i = 0; i < 200; ++i) {
      body += fmt::format(R"({{"user_id": 1, "ts": {}, "action": "click", "item_id": "pin{}"}})",
                          kStart + day * kDayMs + i * kMinuteMs, i % 7) +
              "\n";
    }
    HttpAnswer answer = client.post("/v1/events", body);
    ASSERT_EQ(answer.status, 200u) << answer.body;
    EXPECT_EQ(answer.json().find("accepted")->number(), 200.0);
    std::this_thread::sleep_for(20ms);
    HttpAnswer got = client.get(fmt::format("/v1/users/1/signals?names=all_clicks&as_of={}",
                                            kStart + day * kDayMs + kHourMs));
    ASSERT_EQ(got.status, 200u) << got.body;
    EXPECT_EQ(got.json().find("signals")->find("all_clicks")->number(), 200.0 * day + 61);
  }
  auto start = std::chrono::steady_clock::now();
  runner.reset();  // stop() and wait()
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_TRUE(client.closed_by_server());
}

// The `field`th number (from 0) of /proc/sys/net/ipv4/`name`, or `otherwise`.
std::size_t tcp_setting(const char* name, int field, std::size_t otherwise) {
  std::ifstream in(std::string("/proc/sys/net/ipv4/") + name);
  std::size_t value = otherwise;
  for (int i = 0; i <= field && in >> value; ++i) {
  }
  return in ? value : otherwise;
}

// An answer larger than the socket takes while the client does not read: what the first
// write left is written as the client reads, every byte once and in order. (Not among the
// HttpServer tests that scripts/sanitize.sh runs under ThreadSanitizer, whose pace makes tens
// of thousands of queries take minutes; it is about bytes, not threads.)
TEST(LargeAnswers, AnAnswerLargerThanTheSocketTakesArrivesWhole) {
  // What loopback holds unread: the reader's first window (tcp_rmem's default) and a send
  // buffer that grows to tcp_wmem's maximum (128 KiB and 4 MiB on Debian). The answer must
  // be larger, or all of it would be written at once and the rest never be.
  const std::size_t holds =
      tcp_setting("tcp_rmem", 1, 128 << 10) + tcp_setting("tcp_wmem", 2, 4 << 20);
  const std::size_t users = std::max<std::size_t>(40000, holds / 100);  // >= 130 bytes each
  World world(kDayMs, {"1h", "1d", "3d", "10d", "40d"});
  Engine engine(world.config);
  HttpServerOptions options = test_options();
  options.max_batch_users = users;
  options.query_timeout = std::chrono::minutes(5);  // tens of thousands of users under ASan
  Running running(engine, options);
  std::string body = R"({"as_of": )" + std::to_string(kStart + kHourMs) + R"(, "user_ids": [)";
  for (std::size_t user = 1; user <= users; ++user)
    body += (user > 1 ? "," : "") + std::to_string(user);
  body += "]}";

  RawConnection slow(running.port);
  ASSERT_TRUE(
      slow.write("POST /v1/signals:batchGet HTTP/1.1\r\nHost: test\r\n"
                 "Content-Type: application/json\r\nConnection: close\r\n"
                 "Content-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n" + body));
  std::this_thread::sleep_for(500ms);  // the answer is written meanwhile, as far as it goes
  const std::string bytes = slow.read_all(std::chrono::minutes(5));
  const std::size_t head_end = bytes.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos) << bytes.substr(0, 300);
  ASSERT_EQ(bytes.substr(0, 17), "HTTP/1.1 200 OK\r\n") << bytes.substr(0, 300);
  const std::string answer = bytes.substr(head_end + 4);
  EXPECT_GT(answer.size(), holds);
  EXPECT_NE(bytes.find("Content-Length: " + std::to_string(answer.size()) + "\r\n"),
            std::string::npos)
      << bytes.substr(0, head_end);
  const Value parsed = parse_json(answer);  // throws on a byte lost, doubled or out of place
  const Value* results = parsed.find("results");
  ASSERT_NE(results, nullptr);
  ASSERT_EQ(results->array().size(), users);
  for (std::size_t i = 0; i < users; ++i)
    ASSERT_EQ(results->array()[i].find("user_id")->number(), static_cast<double>(i + 1));
}

TEST(HttpServer, StopBeforeStartReturnsAtOnce) {
  World world(kDayMs, {"1h", "1d", "3d", "10d", "40d"});
  Engine engine(world.config);
  HttpServer server(engine, test_options());
  server.listen();
  server.stop();
  auto start = std::chrono::steady_clock::now();
  server.start();
  server.wait();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(HttpServer, IdleConnectionsAreClosedAfterTheIdleTimeout) {
  World world(kDayMs, {"1h", "1d", "3d", "10d", "40d"});
  Engine engine(world.config);
  HttpServerOptions options = test_options();
  options.idle_timeout = 100ms;
  Running running(engine, options);
  HttpClient client(running.port);
  ASSERT_EQ(client.get("/healthz").status, 200u);
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(client.closed_by_server());
  HttpClient again(running.port);
  EXPECT_EQ(again.get("/healthz").status, 200u);
}

TEST(HttpServer, ListenNamesTheAddressItCannotTake) {
  World world(kDayMs, {"1h", "1d", "3d", "10d", "40d"});
  Engine engine(world.config);
  HttpServer first(engine, test_options());
  first.listen();
  HttpServerOptions options = test_options();
  options.address = first.local_address();
  HttpServer second(engine, options);
  try {
    second.listen();
    FAIL() << "expected the second listen to fail";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(options.address), std::string::npos) << e.what();
  }
  options.address = "no-such-host.invalid:80";
  HttpServer third(engine, options);
  EXPECT_THROW(third.listen(), std::runtime_error);
}

}  // namespace
}  // namespace signalbox::testing
