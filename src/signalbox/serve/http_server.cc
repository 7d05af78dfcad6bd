#include "signalbox/serve/http_server.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "signalbox/common/logging.h"
#include "signalbox/serve/asio.h"
#include "signalbox/serve/http_api.h"

namespace signalbox {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

// Bytes asked for by one read of a connection waiting for its next request.
constexpr std::size_t kReadChunk = 16 * 1024;
// After an error answer that closes the connection, the client's unread bytes are drained this
// long so that closing does not reset the connection before the client read the answer.
constexpr std::chrono::seconds kLingerTime(2);
constexpr std::chrono::milliseconds kDrainPoll(20);

// The address text of an endpoint, host:port with IPv6 hosts in brackets.
std::string endpoint_text(const tcp::endpoint& endpoint) {
  asio::ip::address address = endpoint.address();
  if (address.is_v6()) return fmt::format("[{}]:{}", address.to_string(), endpoint.port());
  return fmt::format("{}:{}", address.to_string(), endpoint.port());
}

awaitable<HttpResponse> handle_in_pool(HttpApi& api, HttpRequest request,
                                       std::chrono::steady_clock::time_point received) {
  co_return api.handle(request, received);
}

awaitable<void> expire_in_pool(Engine& engine) {
  auto start = std::chrono::steady_clock::now();
  StoreStats before = engine.store_stats();
  engine.expire(false);
  StoreStats after = engine.store_stats();
  // Expired data goes in background compactions, so the counts may drop in later runs. An
  // empty store has nothing to expire: that run is logged only for debugging.
  log_event(engine.stream_time() == kBeginningOfTime ? spdlog::level::debug : spdlog::level::info,
            "expiry run",
            {{"stream_time_ms", engine.stream_time()},
             {"store_events_before", before.events},
             {"store_events_after", after.events},
             {"disk_bytes_before", before.bytes_on_disk},
             {"disk_bytes_after", after.bytes_on_disk},
             {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                             .count()}});
  co_return;
}

awaitable<void> reload_sources_in_pool(Engine& engine) {
  spdlog::info("signalbox serve: SIGHUP received, reloading sources");
  try {
    auto start = std::chrono::steady_clock::now();
    std::vector<std::string> failures = engine.materializer().reload_sources();
    for (const std::string& failure : failures)
      spdlog::error("reloading source {} (the old data stays in service)", failure);
    log_event(spdlog::level::info, "sources reloaded",
              {{"sources", engine.config().sources.size()},
               {"failed", failures.size()},
               {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                               .count()}});
  } catch (const std::exception& e) {
    spdlog::error("reloading sources failed: {}", e.what());
  }
  co_return;
}

bool is_closed_by_peer(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::operation_aborted || ec == beast::error::timeout;
}

// One client connection; its socket and `idle` belong to the connection's strand.
struct Session {
  explicit Session(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  bool idle = false;  // waiting for the first byte of the next request
};

}  // namespace

struct HttpServer::Impl {
  Impl(Engine& engine, HttpServerOptions opts)
      : engine(engine),
        options(std::move(opts)),
        api(engine, HttpApiOptions{options.max_batch_users}),
        io(static_cast<int>(options.io_threads)),
        ingest_pool(options.ingest_threads),
        query_pool(options.query_threads),
        control(asio::make_strand(io)),
        acceptor(control),
        signals(control),
        expire_timer(control),
        accept_backoff(control),
        drain_timer(control) {}

  awaitable<void> accept_loop();
  awaitable<void> serve_connection(std::shared_ptr<Session> session);
  awaitable<void> answer_and_close(Session& session, beast::flat_buffer& buffer,
                                   HttpResponse response);
  awaitable<void> expire_loop();
  awaitable<void> drain();
  void wait_for_signal();
  void begin_stop();  // on `control`

  Engine& engine;
  HttpServerOptions options;
  HttpApi api;
  asio::io_context io;
  asio::thread_pool ingest_pool;
  asio::thread_pool query_pool;
  asio::strand<asio::io_context::executor_type> control;  // acceptor, signals, timers
  tcp::acceptor acceptor;
  asio::signal_set signals;
  asio::steady_timer expire_timer;
  asio::steady_timer accept_backoff;
  asio::steady_timer drain_timer;
  std::atomic<bool> stopping{false};
  bool close_now = false;  // on `control`: a second signal asked not to wait any longer

  std::mutex sessions_mutex;
  std::unordered_set<std::shared_ptr<Session>> sessions;
};

awaitable<void> HttpServer::Impl::accept_loop() {
  for (;;) {
    tcp::socket socket(asio::make_strand(io));
    error_code ec;
    co_await acceptor.async_accept(socket, asio::redirect_error(use_awaitable, ec));
    if (stopping) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      // Out of descriptors or memory: wait a little instead of spinning.
      spdlog::warn("accept failed: {}", ec.message());
      accept_backoff.expires_after(std::chrono::milliseconds(100));
      co_await accept_backoff.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto session = std::make_shared<Session>(std::move(socket));
    asio::co_spawn(session->stream.get_executor(), serve_connection(session), asio::detached);
  }
}

awaitable<void> HttpServer::Impl::serve_connection(std::shared_ptr<Session> session) {
  {
    std::lock_guard lock(sessions_mutex);
    sessions.insert(session);
  }
  api.metrics().connection_opened();
  struct Unregister {
    Impl* impl;
    std::shared_ptr<Session> session;
    ~Unregister() {
      impl->api.metrics().connection_closed();
      std::lock_guard lock(impl->sessions_mutex);
      impl->sessions.erase(session);
    }
  } unregister{this, session};

  beast::tcp_stream& stream = session->stream;
  beast::flat_buffer buffer;
  error_code ec;
  for (;;) {
    if (stopping) break;
    if (buffer.size() == 0) {
      // Waiting here is what a stop interrupts: no request has begun on this connection.
      session->idle = true;
      stream.expires_after(options.idle_timeout);
      std::size_t n = co_await stream.async_read_some(buffer.prepare(kReadChunk),
                                                      asio::redirect_error(use_awaitable, ec));
      session->idle = false;
      if (ec) break;
      buffer.commit(n);
    }

    http::request_parser<http::string_body> parser;
    parser.header_limit(
        static_cast<std::uint32_t>(std::min<std::size_t>(options.max_header_bytes, UINT32_MAX)));
    parser.body_limit(options.max_body_bytes);
    stream.expires_after(options.request_timeout);
    co_await http::async_read_header(stream, buffer, parser,
                                     asio::redirect_error(use_awaitable, ec));
    if (!ec && !parser.is_done()) {
      // curl and others wait up to a second for this before sending a large body.
      auto expect = parser.get()[http::field::expect];
      if (parser.get().version() >= 11 && beast::iequals(expect, "100-continue")) {
        http::response<http::empty_body> go_on(http::status::continue_, 11);
        co_await http::async_write(stream, go_on, asio::redirect_error(use_awaitable, ec));
      }
      if (!ec)
        co_await http::async_read(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
    }
    if (ec) {
      if (is_closed_by_peer(ec)) break;
      Route route =
          parser.is_header_done() || ec == http::error::body_limit
              ? HttpApi::route_of({parser.get().target().data(), parser.get().target().size()})
              : Route::kUnmatched;
      HttpResponse response;
      if (ec == http::error::body_limit) {
        response = api.error_response(
            http::status::payload_too_large, 11, route,
            fmt::format("body: larger than the limit of {} bytes (server.max_body_bytes)",
                        options.max_body_bytes));
      } else if (ec == http::error::header_limit) {
        response = api.error_response(
            http::status::request_header_fields_too_large, 11, route,
            fmt::format("headers: request line and headers larger than the limit of {} bytes",
                        options.max_header_bytes));
      } else {
        response = api.error_response(http::status::bad_request, 11, route,
                                      fmt::format("request: malformed HTTP ({})", ec.message()));
      }
      co_await answer_and_close(*session, buffer, std::move(response));
      co_return;
    }

    HttpRequest request = parser.release();
    auto received = std::chrono::steady_clock::now();
    bool keep_alive = request.keep_alive();
    HttpResponse response;
    try {
      Route route = HttpApi::route_of({request.target().data(), request.target().size()});
      asio::thread_pool& pool = route == Route::kEvents ? ingest_pool : query_pool;
      response =
          co_await asio::co_spawn(pool, handle_in_pool(api, std::move(request), received), use_awaitable);
    } catch (const std::exception& e) {
      spdlog::error("request failed: {}", e.what());
      response = api.error_response(http::status::internal_server_error, 11, Route::kUnmatched,
                                    fmt::format("internal error: {}", e.what()));
    }
    response.keep_alive(keep_alive && !stopping);
    stream.expires_after(options.request_timeout);
    co_await http::async_write(stream, response, asio::redirect_error(use_awaitable, ec));
    if (ec || !response.keep_alive()) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream.socket().close(ec);
}

awaitable<void> HttpServer::Impl::answer_and_close(Session& session, beast::flat_buffer& buffer,
                                                   HttpResponse response) {
  error_code ec;
  response.keep_alive(false);
  session.stream.expires_after(options.request_timeout);
  co_await http::async_write(session.stream, response, asio::redirect_error(use_awaitable, ec));
  if (!ec) {
    session.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    session.stream.expires_after(kLingerTime);
    while (!ec) {
      buffer.clear();
      co_await session.stream.async_read_some(buffer.prepare(kReadChunk),
                                              asio::redirect_error(use_awaitable, ec));
    }
  }
  session.stream.socket().close(ec);
}

awaitable<void> HttpServer::Impl::expire_loop() {
  // Checking `stopping` before each wait, on the strand begin_stop() runs on, means a stop
  // either finds the wait to cancel or is seen here.
  while (!stopping) {
    error_code ec;
    expire_timer.expires_after(options.expire_interval);
    co_await expire_timer.async_wait(asio::redirect_error(use_awaitable, ec));
    if (ec || stopping) co_return;
    try {
      co_await asio::co_spawn(ingest_pool, expire_in_pool(engine), use_awaitable);
    } catch (const std::exception& e) {
      spdlog::error("expiring old events failed: {}", e.what());
    }
  }
}

void HttpServer::Impl::wait_for_signal() {
  signals.async_wait([this](const error_code& ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      asio::co_spawn(query_pool, reload_sources_in_pool(engine), asio::detached);
    } else if (stopping) {
      spdlog::warn("signalbox serve: {} received again, closing busy connections now",
                   signal == SIGTERM ? "SIGTERM" : "SIGINT");
      close_now = true;
    } else {
      spdlog::info("signalbox serve: {} received, finishing in-flight requests",
                   signal == SIGTERM ? "SIGTERM" : "SIGINT");
      begin_stop();
    }
    wait_for_signal();
  });
}

void HttpServer::Impl::begin_stop() {
  if (stopping.exchange(true)) return;
  if (options.on_stop) options.on_stop();
  error_code ec;
  acceptor.close(ec);
  expire_timer.cancel();
  accept_backoff.cancel();
  std::lock_guard lock(sessions_mutex);
  for (const std::shared_ptr<Session>& session : sessions) {
    asio::post(session->stream.get_executor(), [session] {
      error_code ignored;
      // Bytes already received are a request that has begun: let it be answered.
      if (session->idle && session->stream.socket().available(ignored) == 0)
        session->stream.cancel();
    });
  }
  asio::co_spawn(control, drain(), asio::detached);
}

awaitable<void> HttpServer::Impl::drain() {
  auto deadline = std::chrono::steady_clock::now() + options.drain_timeout;
  for (;;) {
    {
      std::lock_guard lock(sessions_mutex);
      if (sessions.empty()) break;
      if (close_now || std::chrono::steady_clock::now() >= deadline) {
        spdlog::warn("signalbox serve: closing {} connections that are still busy",
                     sessions.size());
        for (const std::shared_ptr<Session>& session : sessions)
          asio::post(session->stream.get_executor(), [session] { session->stream.close(); });
        break;
      }
    }
    error_code ec;
    drain_timer.expires_after(kDrainPoll);
    co_await drain_timer.async_wait(asio::redirect_error(use_awaitable, ec));
  }
  // The last pending wait: once it is gone, run() returns when the connections are closed.
  error_code ec;
  signals.cancel(ec);
}

namespace {

HttpServerOptions with_defaults(HttpServerOptions options) {
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (options.io_threads == 0) options.io_threads = 1;
  if (options.ingest_threads == 0) options.ingest_threads = 2;
  if (options.query_threads == 0) options.query_threads = std::max(4u, 2 * cores);
  return options;
}

}  // namespace

HttpServer::HttpServer(Engine& engine, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(engine, with_defaults(std::move(options)))) {}

HttpServer::~HttpServer() {
  impl_->ingest_pool.join();
  impl_->query_pool.join();
}

void HttpServer::listen() {
  const std::string& address = impl_->options.address;
  std::size_t colon = address.rfind(':');
  if (colon == std::string::npos)
    throw std::runtime_error(fmt::format("bad address \"{}\"", address));
  std::string host = address.substr(0, colon);
  std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);

  error_code ec;
  tcp::resolver resolver(impl_->io);
  auto endpoints = resolver.resolve(host, port, tcp::resolver::passive, ec);
  if (ec || endpoints.empty()) {
    throw std::runtime_error(fmt::format("server.http: cannot resolve \"{}\": {}", address,
                                         ec ? ec.message() : "no address"));
  }
  tcp::endpoint endpoint = endpoints.begin()->endpoint();
  tcp::acceptor& acceptor = impl_->acceptor;
  auto fail = [&](std::string_view what) {
    throw std::runtime_error(
        fmt::format("server.http: cannot listen on {} ({}): {}", address, what, ec.message()));
  };
  if (acceptor.open(endpoint.protocol(), ec)) fail("open");
  if (acceptor.set_option(asio::socket_base::reuse_address(true), ec)) fail("reuse_address");
  if (acceptor.bind(endpoint, ec)) fail("bind");
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec)) fail("listen");

  if (impl_->options.handle_signals) {
    impl_->signals.add(SIGTERM);
    impl_->signals.add(SIGINT);
    impl_->signals.add(SIGHUP);
    impl_->wait_for_signal();
  }
}

std::string HttpServer::local_address() const {
  return endpoint_text(impl_->acceptor.local_endpoint());
}

void HttpServer::run() {
  Impl& impl = *impl_;
  if (!impl.acceptor.is_open()) throw std::logic_error("HttpServer::run() before listen()");
  asio::co_spawn(impl.control, impl.accept_loop(), asio::detached);
  if (impl.options.expire_interval.count() > 0)
    asio::co_spawn(impl.control, impl.expire_loop(), asio::detached);
  // A stop() before run() was posted already and takes effect here.
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < impl.options.io_threads; ++i)
    threads.emplace_back([&impl] { impl.io.run(); });
  impl.io.run();
  for (std::thread& t : threads) t.join();
  impl.ingest_pool.join();
  impl.query_pool.join();
}

HttpApi& HttpServer::api() { return impl_->api; }

void HttpServer::stop() {
  asio::post(impl_->control, [impl = impl_.get()] { impl->begin_stop(); });
}

}  // namespace signalbox
