// The server's guards against clients that misbehave, through the real binary: a request that
// makes the HTTP layer throw ends its connection only, slow and idle connections are closed
// after their timeouts, load beyond the configured bounds is answered 503 within a bounded
// memory, cross-origin writes are refused, and SIGTERM does not wait for half-sent requests.

#include <signal.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "small_server.h"

// g++ says __SANITIZE_ADDRESS__; clang 14 only __has_feature(address_sanitizer).
#if defined(__SANITIZE_ADDRESS__)
#define SIGNALBOX_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIGNALBOX_UNDER_ASAN 1
#endif
#endif

namespace signalbox::testing {
namespace {

using namespace std::chrono_literals;

struct Server {
  explicit Server(const std::string& server_extra)
      : port(free_port()),
        process(write_small_config(dir, port, server_extra), port, dir.path() / "serve.log") {}
  ScratchDir dir;
  std::uint16_t port;
  ServerProcess process;
};

std::string chunked_post(std::string_view trailer_field) {
  return fmt::format(
      "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\nTrailer: X-Big\r\n\r\n2\r\n[]\r\n0\r\n{}\r\n\r\n",
      trailer_field);
}

TEST(ServeGuards, LargeTrailerEndsOnlyItsConnection) {
  Server server("");
  // A 64 KiB trailer field: counted against the header limit (16 KiB), answered 431.
  RawConnection big(server.port);
  ASSERT_TRUE(big.write(chunked_post("X-Big: " + std::string(64 * 1024, 'a'))));
  std::string answer = big.read_all(5s);
  EXPECT_EQ(answer.rfind("HTTP/1.1 431", 0), 0u) << answer.substr(0, 300);
  EXPECT_NE(answer.find("trailers"), std::string::npos) << answer.substr(0, 300);
  // Just under the limit, and a long chunk extension: refused or taken, never fatal.
  RawConnection medium(server.port);
  medium.write(chunked_post("X-Big: " + std::string(15 * 1024, 'b')));
  medium.read_all(1s);
  RawConnection extension(server.port);
  extension.write(
      "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n2;" +
      std::string(100 * 1024, 'e') + "\r\n[]\r\n0\r\n\r\n");
  std::string refused = extension.read_all(5s);
  EXPECT_EQ(refused.rfind("HTTP/1.1 4", 0), 0u) << refused.substr(0, 300);

  HttpClient client(server.port);
  EXPECT_EQ(client.get("/healthz").status, 200u) << server.process.log();
  EXPECT_EQ(client.post("/v1/events", click_events(3, 1)).status, 200u);
  EXPECT_EQ(server.process.terminate(), 0) << server.process.log();
}

TEST(ServeGuards, SlowAndIdleConnectionsAreClosedWhileOthersAreServed) {
  Server server("idle_timeout: 1s, request_timeout: 2s");
  std::atomic<bool> headers_closed{false}, body_closed{false};
  // One byte every 100 ms: the request would take minutes.
  auto trickle = [&](std::string bytes, std::atomic<bool>& closed) {
    RawConnection connection(server.port);
    auto give_up = std::chrono::steady_clock::now() + 20s;
    for (char c : bytes) {
      if (!connection.write(std::string_view(&c, 1)) || connection.closed_within(100ms)) {
        closed = true;
        return;
      }
      if (std::chrono::steady_clock::now() > give_up) return;
    }
  };
  std::string slow_headers =
      "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + std::string(2000, 'x') + ": y\r\n\r\n";
  std::string slow_body =
      "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Content-Length: 2000\r\n\r\n" +
      std::string(2000, ' ');
  std::thread headers_thread(trickle, slow_headers, std::ref(headers_closed));
  std::thread body_thread(trickle, slow_body, std::ref(body_closed));
  RawConnection idle(server.port);

  HttpClient client(server.port);
  std::size_t answered = 0;
  auto until = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < until) {
    HttpAnswer answer = client.get("/v1/users/1/signals");
    EXPECT_EQ(answer.status, 200u) << answer.body;
    answered += answer.status == 200;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(idle.closed_within(10s));
  headers_thread.join();
  body_thread.join();
  EXPECT_TRUE(headers_closed);
  EXPECT_TRUE(body_closed);
  EXPECT_GT(answered, 10u);
  EXPECT_EQ(server.process.terminate(), 0) << server.process.log();
}

TEST(ServeGuards, OverloadIsAnswered503WithinBoundedMemory) {
  constexpr std::size_t kMiB = 1024 * 1024;
  constexpr std::size_t kInflight = 8 * kMiB;
  Server server(
      fmt::format("max_body_bytes: {}, max_connections: 24, max_inflight_bytes: {}, "
                  "max_queued_requests: 8",
                  4 * kMiB, kInflight));
  pid_t pid = server.process.pid();
  std::size_t baseline = rss_bytes(pid);
  // ~3 MiB of 1 KiB events: 40 clients sending them at once would hold 120 MiB unbounded.
  const std::string big = click_events(3 * 1024, 7, 1024);
  std::mutex mutex;
  std::map<unsigned, std::size_t> statuses;
  std::size_t transport_errors = 0;
  std::atomic<bool> stop{false};
  auto client_loop = [&](int id) {
    HttpClient client(server.port);
    std::map<unsigned, std::size_t> mine;
    std::size_t errors = 0;
    for (int i = 0; !stop; ++i) {
      try {
        HttpAnswer answer =
            (id + i) % 3 == 0 ? client.get("/v1/users/7/signals") : client.post("/v1/events", big);
        ++mine[answer.status];
        if (answer.status != 200) client.close();
      } catch (const std::exception&) {
        ++errors;
        client.close();
      }
    }
    std::lock_guard lock(mutex);
    for (auto [status, n] : mine) statuses[status] += n;
    transport_errors += errors;
  };
  std::vector<std::thread> clients;
  for (int i = 0; i < 40; ++i) clients.emplace_back(client_loop, i);
  std::this_thread::sleep_for(4s);
  stop = true;
  for (std::thread& t : clients) t.join();

  std::string seen;
  for (auto [status, n] : statuses) seen += fmt::format("{}: {}, ", status, n);
  for (auto [status, n] : statuses) {
    EXPECT_TRUE(status == 200 || status == 429 || status == 503) << seen;
  }
  // Refused requests are answered, not reset: past the bounds connections wait to be accepted.
  EXPECT_EQ(transport_errors, 0u) << seen;
  EXPECT_GT(statuses[200], 0u) << seen;
  EXPECT_GT(statuses[503], 0u) << seen;
  // The bound plus the requests being decoded (2 ingest threads, a few copies of a body each).
  std::size_t peak = peak_rss_bytes(pid);
  RecordProperty("answers", seen);
  RecordProperty("transport_errors", static_cast<int>(transport_errors));
  RecordProperty("peak_rss_over_start_mib", static_cast<int>((peak - baseline) / kMiB));
#ifndef SIGNALBOX_UNDER_ASAN
  EXPECT_LT(peak, baseline + kInflight + 64 * kMiB)
      << "baseline " << baseline << ", answers " << seen << "transport errors " << transport_errors;
#else
  // Under AddressSanitizer the server's RSS says nothing of what it holds: freed memory waits in
  // ASan's quarantine (256 MiB by default) and every allocation has shadow and redzones. The
  // memory bound is checked by the plain build's run of this test; the answers above still are.
#endif

  // Full service again within a second of the load's end.
  auto deadline = std::chrono::steady_clock::now() + 1s;
  HttpClient client(server.port);
  bool query_ok = false, ingest_ok = false;
  while (!(query_ok && ingest_ok) && std::chrono::steady_clock::now() < deadline) {
    query_ok = query_ok || client.get("/v1/users/7/signals").status == 200;
    ingest_ok = ingest_ok || client.post("/v1/events", click_events(2, 8)).status == 200;
    client.close();
  }
  EXPECT_TRUE(query_ok);
  EXPECT_TRUE(ingest_ok);
  EXPECT_EQ(server.process.terminate(), 0) << server.process.log();
}

// Counts the status of a GET of `path` in `statuses`, 0 when no answer came (the connection is
// then closed, and the next GET opens another).
void count_get(HttpClient& client, const char* path, std::map<unsigned, std::size_t>& statuses) {
  try {
    ++statuses[client.get(path).status];
  } catch (const std::exception&) {
    ++statuses[0];
    client.close();
  }
}

// Queries past the queue's bound are refused 503, and a liveness probe meanwhile is still
// answered 200: refused, it would have an orchestrator restart a process that is doing its work.
TEST(ServeGuards, ALivenessProbeIsAnsweredWhileQueriesAreRefused) {
  Server server("max_connections: 64, max_queued_requests: 2");
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::map<unsigned, std::size_t> queries, probes;
  auto query_loop = [&] {
    HttpClient client(server.port);
    std::map<unsigned, std::size_t> mine;
    while (!stop) count_get(client, "/v1/users/7/signals", mine);
    std::lock_guard lock(mutex);
    for (auto [status, n] : mine) queries[status] += n;
  };
  std::vector<std::thread> clients;
  for (int i = 0; i < 32; ++i) clients.emplace_back(query_loop);
  // The probes go on for at least three seconds and until 100 were answered: under a sanitizer
  // on a busy machine 32 query clients leave the prober fewer than 100 turns in three seconds.
  constexpr std::size_t kProbes = 100;
  std::atomic<std::size_t> probes_sent{0};
  std::thread prober([&] {
    HttpClient client(server.port);
    while (!stop) {
      count_get(client, "/healthz", probes);
      ++probes_sent;
      std::this_thread::sleep_for(2ms);
    }
  });
  const auto started = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - started < 3s ||
         (probes_sent < kProbes && std::chrono::steady_clock::now() - started < 60s)) {
    std::this_thread::sleep_for(10ms);
  }
  stop = true;
  for (std::thread& t : clients) t.join();
  prober.join();
  auto seen = [](const std::map<unsigned, std::size_t>& statuses) {
    std::string out;
    for (auto [status, n] : statuses) out += fmt::format("{}: {}, ", status, n);
    return out;
  };
  ASSERT_GT(queries[503], 0u) << "the load did not reach the queue's bound: " << seen(queries);
  EXPECT_EQ(probes.size(), 1u) << "/healthz: " << seen(probes) << "queries: " << seen(queries);
  EXPECT_GE(probes[200], kProbes) << "/healthz: " << seen(probes);
  EXPECT_EQ(server.process.terminate(), 0) << server.process.log();
}

// Past server.max_connections a new connection's request is refused 503, but for a liveness
// probe, which opens a connection of its own each time (Kubernetes' httpGet): answered 200.
TEST(ServeGuards, ALivenessProbeIsAnsweredWhileConnectionsAreExhausted) {
  Server server("max_connections: 3");
  std::vector<std::unique_ptr<HttpClient>> held;
  // The server counts a connection until it has seen it closed: on a busy machine the probes
  // of its start may still count when the held ones arrive. The first waits until it is the
  // only one counted.
  held.push_back(std::make_unique<HttpClient>(server.port));
  for (auto deadline = std::chrono::steady_clock::now() + 10s;;) {
    const std::string metrics = held.front()->get("/metrics").body;
    if (metrics.find("\nsignalbox_http_connections 1\n") != std::string::npos) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "connections stay open:\n" << metrics;
    std::this_thread::sleep_for(10ms);
  }
  for (int i = 0; i < 3; ++i) {
    if (i > 0) held.push_back(std::make_unique<HttpClient>(server.port));
    ASSERT_EQ(held.back()->get("/v1/users/7/signals").status, 200u) << "connection " << i;
  }
  for (int i = 0; i < 3; ++i) {
    HttpClient probe(server.port);
    EXPECT_EQ(probe.get("/healthz").status, 200u) << "probe " << i;
    HttpClient query(server.port);
    const HttpAnswer refused = query.get("/v1/users/7/signals");
    EXPECT_EQ(refused.status, 503u);
    EXPECT_NE(refused.body.find("server.max_connections"), std::string::npos) << refused.body;
  }
  held.clear();
  EXPECT_EQ(server.process.terminate(), 0) << server.process.log();
}

TEST(ServeGuards, QueryDeadlineFromHeader) {
  Server server("query_timeout: 5s");
  HttpClient client(server.port);
  HttpAnswer bad =
      client.send(Method::kGet, "/v1/users/1/signals", "", {{"X-Request-Timeout-Ms", "soon"}});
  EXPECT_EQ(bad.status, 400u);
  EXPECT_NE(bad.error().find("x-request-timeout-ms"), std::string::npos) << bad.body;
  HttpAnswer ok =
      client.send(Method::kGet, "/v1/users/1/signals", "", {{"X-Request-Timeout-Ms", "2000"}});
  EXPECT_EQ(ok.status, 200u) << ok.body;
  // 1000 users do not fit in a millisecond: the batch stops at its deadline, answered 503.
  std::string ids = "1";
  for (int i = 2; i <= 1000; ++i) ids += fmt::format(",{}", i);
  std::string batch = fmt::format(R"({{"user_ids":[{}]}})", ids);
  HttpAnswer late =
      client.send(Method::kPost, "/v1/signals:batchGet", batch, {{"X-Request-Timeout-Ms", "1"}});
  EXPECT_EQ(late.status, 503u) << late.body.substr(0, 300);
  EXPECT_EQ(late.error().rfind("deadline: ", 0), 0u) << late.body.substr(0, 300);
  EXPECT_EQ(late.retry_after, "1");
  HttpAnswer in_time = client.post("/v1/signals:batchGet", batch);
  EXPECT_EQ(in_time.status, 200u) << in_time.body.substr(0, 300);
  EXPECT_EQ(server.process.terminate(), 0) << server.process.log();
}

TEST(ServeGuards, CrossOriginWritesAndFormBodiesAreRefused) {
  Server server("");
  HttpClient client(server.port);
  std::string body = click_events(2, 3);
  HttpAnswer foreign =
      client.send(Method::kPost, "/v1/events", body, {{"Origin", "http://attacker.example"}});
  EXPECT_EQ(foreign.status, 403u) << foreign.body;
  EXPECT_NE(foreign.error().find("cross-origin"), std::string::npos) << foreign.body;
  EXPECT_NE(foreign.error().find("attacker.example"), std::string::npos) << foreign.body;
  HttpAnswer batch = client.send(Method::kPost, "/v1/signals:batchGet", R"({"user_ids":[3]})",
                                 {{"Origin", "null"}});
  EXPECT_EQ(batch.status, 403u) << batch.body;

  std::string host = fmt::format("127.0.0.1:{}", server.port);
  HttpAnswer same = client.send(Method::kPost, "/v1/events", body,
                                {{"Host", host}, {"Origin", "http://" + host}});
  EXPECT_EQ(same.status, 200u) << same.body;
  EXPECT_EQ(same.json().find("accepted")->number(), 2.0) << same.body;

  for (std::string type :
       {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}) {
    HttpAnswer form = client.send(Method::kPost, "/v1/events", body, {{"Content-Type", type}});
    EXPECT_EQ(form.status, 415u) << type << ": " << form.body;
    EXPECT_NE(form.error().find("content-type"), std::string::npos) << form.body;
  }
  HttpAnswer none = client.send_raw(
      fmt::format("POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n{}",
                  body.size(), body));
  EXPECT_EQ(none.status, 415u) << none.body;
  for (std::string type : {"application/json", "application/x-ndjson; charset=utf-8"}) {
    HttpAnswer json = client.send(Method::kPost, "/v1/events", body, {{"Content-Type", type}});
    EXPECT_EQ(json.status, 200u) << type << ": " << json.body;
  }
  // Nothing refused was stored: only the two accepted bodies' events count (duplicates once).
  HttpAnswer signals = client.get("/v1/users/3/signals?names=clicks");
  ASSERT_EQ(signals.status, 200u) << signals.body;
  EXPECT_NE(signals.body.find("\"1h\":2"), std::string::npos) << signals.body;
  EXPECT_EQ(server.process.terminate(), 0) << server.process.log();
}

TEST(ServeGuards, SigtermDoesNotWaitForHalfSentRequests) {
  // The default shutdown_timeout (30 s) is what a half-sent request used to hold the stop for.
  Server server("");
  RawConnection half_body(server.port);
  ASSERT_TRUE(half_body.write(
      "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Content-Length: 1000\r\n\r\n{\"user_id\":"));
  RawConnection half_headers(server.port);
  ASSERT_TRUE(half_headers.write("GET /v1/users/1/signals HTTP/1.1\r\nHost: 12"));
  RawConnection idle(server.port);
  std::this_thread::sleep_for(200ms);
  // Exits within 10 s or is killed (-1).
  EXPECT_EQ(server.process.terminate(10s), 0) << server.process.log();
  EXPECT_TRUE(half_body.closed_within(1s));
  EXPECT_TRUE(half_headers.closed_within(1s));
}

}  // namespace
}  // namespace signalbox::testing
