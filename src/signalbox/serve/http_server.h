#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "signalbox/engine/engine.h"
#include "signalbox/process/service.h"
#include "signalbox/serve/access_control.h"
#include "signalbox/serve/admission.h"
#include "signalbox/serve/http_api.h"

namespace boost::asio::ssl {
class context;
}

namespace signalbox {

struct HttpServerOptions {
  // host:port to listen on (server.http); port 0 picks a free one, see local_address().
  std::string address = "127.0.0.1:8080";
  // A request body over this is answered 413 and the connection closed (server.max_body_bytes).
  std::size_t max_body_bytes = 16 * 1024 * 1024;
  // Request line plus headers over this are answered 431 and the connection closed.
  std::size_t max_header_bytes = 16 * 1024;
  // Most user ids one batchGet may ask for.
  std::size_t max_batch_users = 1000;
  // Whether POST /v1/events takes events (HttpApiOptions::ingest).
  bool ingest = true;
  // The registry GET /metrics exposes, shared with the other front ends (HttpApiOptions::
  // metrics); must outlive the server. Null: the server keeps its own.
  MetricsRegistry* metrics = nullptr;
  // Threads running sockets and HTTP framing; threads running POST /v1/events; threads
  // running every other request. 0 picks the defaults explained at HttpServer.
  unsigned io_threads = 0;
  unsigned ingest_threads = 0;
  unsigned query_threads = 0;
  // A GET /v1/users/{id}/signals whose path was last answered in at most this long is
  // answered on the I/O thread instead of in the query pool, while the pool is idle and the
  // I/O threads have time to spare (InlineQueries). Zero: every request but ingest goes to
  // the query pool.
  std::chrono::microseconds inline_query_budget = std::chrono::milliseconds(1);
  // Whether an inline answer may spend its time blocked rather than running: on a store read
  // over the network (Redis). Its blocked time (wall time less the thread's CPU time, two
  // system calls) then counts in the I/O thread's load, which its CPU clock alone would not
  // show. A local store's answers run on the CPU: the clock reads are left out.
  bool inline_answers_block = false;
  // A keep-alive connection idle this long is closed.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
  // Longest time to receive one request once its first byte arrived, and to send one answer.
  std::chrono::milliseconds request_timeout = std::chrono::seconds(30);
  // On stop: longest wait for in-flight requests before their connections are closed.
  std::chrono::milliseconds drain_timeout = std::chrono::seconds(30);
  // On stop: how long a request still being received may take to arrive in full; then its
  // connection is closed (a half-sent request must not hold the stop for drain_timeout).
  std::chrono::milliseconds stop_grace = std::chrono::seconds(1);
  // Deadline of every request but ingest, from when it was received (server.query_timeout);
  // the header X-Request-Timeout-Ms may shorten it. A request still queued then, or a batchGet
  // still running, is answered 503.
  std::chrono::milliseconds query_timeout = std::chrono::seconds(10);
  // Open connections (more are answered 503 and closed), request bytes held at once across
  // connections (a request that would pass it is answered 503 before its body is read), and
  // requests received but not yet answered (more are answered 503). Each 503 has
  // Retry-After: 1. See Admission; gRPC shares these budgets through admission().
  std::size_t max_connections = 1024;
  std::size_t max_inflight_bytes = 256 * 1024 * 1024;
  std::size_t max_queued_requests = 1024;
  // Bearer tokens by kind of request (server.auth); null or empty: none needed, and then POSTs
  // from another web origin are refused and ingest needs a JSON content type (write_guard.h).
  std::shared_ptr<const AccessControl> access;
  // HTTPS instead of HTTP when set (server.tls, see make_tls_context()).
  std::shared_ptr<boost::asio::ssl::context> tls;
};

// The HTTP/1.1 server of `signalbox serve`: HttpApi behind Boost.Beast on Boost.Asio C++20
// coroutines, with keep-alive and pipelining, body and header limits, timeouts, bounds on what
// it holds at once (Admission), bearer tokens, optional TLS, and a graceful stop. A Service
// (process/service.h): listen(), start() and wait() are called from one thread; stop() and
// stop_now() are thread-safe and may be called at any time, also before start(). Signals and
// the periodic expiry belong to the process (ProcessRunner), not to the server.
//
// Threads: sockets, HTTP parsing and writing run on an io_context (`io_threads`, default 2).
// Engine calls block (RocksDB reads and writes; ingest is serialised behind one lock), so they
// run on two thread pools and their answers are written back on the I/O thread: running them
// on the I/O threads would stall accepting and every other connection whenever all I/O threads
// wait on the engine. Ingest bodies go to `ingest_threads` (default 2: one decodes and
// materialises the next body while the other holds the write lock; more would only queue on
// that lock), everything else to `query_threads` (default one per core, at least 2: queries
// are CPU work on cached blocks, and a thread more than the cores only adds wake-ups and
// context switches, docs/performance.md; http_server_options() asks for more on the Redis
// store, whose queries wait on the network), so that a backlog of POSTs waiting for the lock
// never holds up a GET. Two I/O threads rather than one, even on 2 cores: framing costs
// microseconds beside a query, but a lone I/O thread that loses its core for a moment (to the
// pool, to other processes) holds up every connection, and its inline answers (below) add to
// that; with two, the other goes on (docs/performance.md, "Two I/O threads").
//
// `GET /healthz` runs on the I/O thread, ahead of the queue's bound (`max_queued_requests`),
// and is answered on a connection over `max_connections` (HTTP or HTTPS) where other requests
// are refused: it touches no store, and a liveness probe refused under load would have the
// process restarted while it does its work.
//
// One more exception: a GET of one user's signals known to be cheap runs on the I/O thread
// that read it, without the two hops, the pool's queue and the wake-ups, which cost as much
// as a light user's query (~80 µs). Known to be cheap means its path was answered before in
// at most `inline_query_budget`; a path never answered, or slower than that, goes to the pool,
// so a slow query never stalls the other connections (at most one that turned slow since its
// last answer does, once). Inline answers also wait while the query pool is busy and while
// the I/O thread ran most of its last few milliseconds, so that under load the pool's cores
// are used and the I/O thread keeps room for bursts (InlineQueries). Admission, access
// checks, deadlines, metrics and stopping are the same either way: an inline request is
// received, counted and answered as a pooled one is.
//
// Stopping: stop accepting, close idle keep-alive connections, give requests still being
// received `stop_grace` to arrive (then close their connections), let every request received
// finish and be answered (with Connection: close), then end once the last connection closed
// or `drain_timeout` passed (at once after stop_now()); wait() returns then. The engine is not
// flushed here; the caller owns it.
class HttpServer : public Service {
 public:
  // `engine` must outlive the server.
  HttpServer(Engine& engine, HttpServerOptions options);
  ~HttpServer() override;
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens. Throws std::runtime_error naming the address when it cannot.
  void listen();
  // The address listened on, as host:port with the real port; valid after listen().
  std::string local_address() const;
  // Listens when listen() was not called yet, then serves on threads of its own. Throws as
  // listen() does.
  void start() override;
  // Starts the stop described above. Thread-safe; not async-signal-safe.
  void stop() override;
  // As stop(), and closes the connections still busy at once instead of waiting for them.
  void stop_now() override;
  // Blocks until the stop has finished and every thread of the server is done.
  void wait() override;

  // The HTTP API the server answers with, e.g. to add metrics of other front ends before
  // listen(). Lives as long as the server.
  HttpApi& api();
  // The budgets of max_connections, max_inflight_bytes and max_queued_requests, for another
  // front end (gRPC) to share. Lives as long as the server.
  Admission& admission();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace signalbox
