#include "signalbox/serve/http_server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "signalbox/common/logging.h"
#include "signalbox/serve/api_refusals.h"
#include "signalbox/serve/asio_ssl.h"
#include "signalbox/serve/http_api.h"
#include "signalbox/serve/inline_queries.h"
#include "signalbox/serve/response_head.h"
#include "signalbox/serve/thread_load.h"
#include "signalbox/serve/write_guard.h"

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
// How long a connection over server.max_connections has for its TLS handshake and request head:
// a liveness probe among them is answered (refuse_connection).
constexpr std::chrono::seconds kRefusalReadTime(1);
// How often a paused accept loop looks whether connections closed.
constexpr std::chrono::milliseconds kAcceptPause(10);

// The address text of an endpoint, host:port with IPv6 hosts in brackets.
std::string endpoint_text(const tcp::endpoint& endpoint) {
  asio::ip::address address = endpoint.address();
  if (address.is_v6()) return fmt::format("[{}]:{}", address.to_string(), endpoint.port());
  return fmt::format("{}:{}", address.to_string(), endpoint.port());
}

bool is_closed_by_peer(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::operation_aborted || ec == beast::error::timeout ||
         ec == asio::ssl::error::stream_truncated;
}

// Where a connection is: waiting for the first byte of a request, receiving one, or having it
// answered. Written on the connection's strand, read by the stop on the control strand.
enum class Phase { kIdle, kReading, kBusy };

// One client connection; its stream belongs to the connection's strand.
struct Session {
  Session(tcp::socket socket, asio::ssl::context* tls) {
    if (tls)
      tls_stream.emplace(std::move(socket), *tls);
    else
      plain.emplace(std::move(socket));
    // Only write_response() writes to a plain socket without asio's reactor, and it wants
    // the socket not to block; every other operation on it is asynchronous.
    if (plain) {
      error_code ignored;
      plain->socket().non_blocking(true, ignored);
    }
  }
  beast::tcp_stream& lowest() { return plain ? *plain : beast::get_lowest_layer(*tls_stream); }

  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_stream;
  std::atomic<Phase> phase{Phase::kIdle};
};

// What a request needs a token for.
Access access_of(Route route) {
  switch (route) {
    case Route::kEvents:
      return Access::kIngest;
    case Route::kUserSignals:
    case Route::kBatchGet:
    case Route::kSignals:
    case Route::kUsers:
    case Route::kExplain:
    case Route::kUserReach:
      return Access::kQuery;
    case Route::kMetrics:
      return Access::kMetrics;
    case Route::kHealthz:
    case Route::kReadyz:
    case Route::kWebPage:
    case Route::kUnmatched:
      break;
  }
  return Access::kOpen;
}

std::string_view header_text(const HttpRequest& request, http::field field) {
  auto value = request[field];
  return {value.data(), value.size()};
}

// The calling I/O thread's load, for InlineQueries: each I/O thread measures its own.
ThreadLoad& io_thread_load() {
  thread_local ThreadLoad load(InlineQueries::kLoadWindow);
  return load;
}

// The path of a GET of one user's signals (its user, before any query), or "" for any other
// request: what InlineQueries knows costs by.
std::string_view inline_candidate(const HttpRequest& request, Route route) {
  if (route != Route::kUserSignals || request.method() != http::verb::get) return {};
  std::string_view target(request.target().data(), request.target().size());
  return target.substr(0, target.find('?'));
}

// Writes `response` whole, its head and its body in one gather write (response_head.h).
template <typename Stream>
awaitable<void> write_response(Stream& stream, const HttpResponse& response, error_code& ec) {
  if (response.chunked()) {  // no route answers chunked; Beast would frame the chunks
    co_await http::async_write(stream, response, asio::redirect_error(use_awaitable, ec));
    co_return;
  }
  const std::string head = response_head(response);
  std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(response.body())};
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    // A plain connection's socket is non-blocking (Session): an answer that fits its send
    // buffer, nearly every one, is written here at once, where the asynchronous write would
    // post its completion through the scheduler first. The rest, if any, is written as usual.
    std::size_t written = stream.socket().write_some(buffers, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      ec = {};
      written = 0;
    }
    if (ec || written == buffers[0].size() + buffers[1].size()) co_return;
    if (written >= buffers[0].size()) {
      buffers[1] += written - buffers[0].size();
      buffers[0] = asio::const_buffer();
    } else {
      buffers[0] += written;
    }
  }
  co_await asio::async_write(stream, buffers, asio::redirect_error(use_awaitable, ec));
}

}  // namespace

struct HttpServer::Impl {
  Impl(Engine& engine, HttpServerOptions opts)
      : engine(engine),
        options(std::move(opts)),
        api(engine, HttpApiOptions{options.max_batch_users, options.ingest, options.metrics}),
        admission(options.max_connections, options.max_inflight_bytes, options.max_queued_requests),
        inline_queries(options.inline_query_budget),
        io(static_cast<int>(options.io_threads)),
        ingest_pool(options.ingest_threads),
        query_pool(options.query_threads),
        control(asio::make_strand(io)),
        acceptor(control),
        accept_backoff(control),
        drain_timer(control) {}

  awaitable<void> accept_loop();
  awaitable<void> serve_connection(std::shared_ptr<Session> session);
  template <typename Stream>
  awaitable<void> serve_requests(Session& session, Stream& stream, beast::flat_buffer& buffer);
  template <typename Stream>
  awaitable<void> answer_and_close(Session& session, Stream& stream, beast::flat_buffer& buffer,
                                   HttpResponse response);
  // Over TLS, `stream` is past its handshake.
  template <typename Stream>
  awaitable<void> refuse_connection(Session& session, Stream& stream);
  // Answers a request received in full, unless its deadline passed while it waited; a GET of
  // signals tells inline_queries what it cost.
  HttpResponse answer(const HttpRequest& request, Route route,
                      std::chrono::steady_clock::time_point received,
                      std::chrono::steady_clock::time_point deadline);
  // answer() on the I/O thread, whose load then counts the time the answer spent blocked (on
  // the network of a Redis store, on the disk): its CPU clock alone would not show it, and
  // every other connection of the thread waited meanwhile.
  HttpResponse answer_inline(const HttpRequest& request, Route route,
                             std::chrono::steady_clock::time_point received,
                             std::chrono::steady_clock::time_point deadline);
  awaitable<HttpResponse> answer_in_pool(HttpRequest request, Route route,
                                         std::chrono::steady_clock::time_point received,
                                         std::chrono::steady_clock::time_point deadline);
  HttpResponse read_error_response(const error_code& ec, const HttpRequest& partial,
                                   bool header_done);
  HttpResponse busy_response(Route route, std::string_view message);
  std::optional<HttpResponse> gate(const HttpRequest& header, Route route);
  // server.max_header_bytes as Beast's parser takes it.
  std::uint32_t header_limit() const {
    return static_cast<std::uint32_t>(std::min<std::size_t>(options.max_header_bytes, UINT32_MAX));
  }
  std::optional<HttpResponse> deadline_of(const HttpRequest& request, Route route,
                                          std::chrono::steady_clock::time_point received,
                                          std::chrono::steady_clock::time_point* deadline);
  awaitable<void> drain();
  void begin_stop();  // on `control`
  // Wakes the drain when it has something to do: the last connection closed or stop_now().
  void wake_drain() {
    asio::post(control, [this] { drain_timer.cancel(); });
  }
  void spawn(asio::any_io_executor executor, awaitable<void> work, const char* what);
  std::size_t open_sessions() {
    std::lock_guard lock(sessions_mutex);
    return sessions.size();
  }

  Engine& engine;
  HttpServerOptions options;
  HttpApi api;
  Admission admission;
  InlineQueries inline_queries;
  // Requests posted to query_pool and not yet answered there, queued or running.
  std::atomic<std::size_t> queries_in_pool{0};
  asio::io_context io;
  asio::thread_pool ingest_pool;
  asio::thread_pool query_pool;
  asio::strand<asio::io_context::executor_type> control;  // acceptor, timers
  tcp::acceptor acceptor;
  asio::steady_timer accept_backoff;
  asio::steady_timer drain_timer;
  std::atomic<bool> stopping{false};
  bool close_now = false;  // on `control`: stop_now() asked not to wait any longer
  std::vector<std::thread> io_threads;

  std::mutex sessions_mutex;
  std::unordered_set<std::shared_ptr<Session>> sessions;
};

void HttpServer::Impl::spawn(asio::any_io_executor executor, awaitable<void> work,
                             const char* what) {
  // A last resort: every connection contains its own failures, and nothing thrown in one
  // coroutine may end the process (io.run() would rethrow it).
  asio::co_spawn(executor, std::move(work), [what](std::exception_ptr failure) {
    if (!failure) return;
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      spdlog::error("{} failed: {}", what, e.what());
    } catch (...) {
      spdlog::error("{} failed", what);
    }
  });
}

awaitable<void> HttpServer::Impl::accept_loop() {
  for (;;) {
    error_code ec;
    // Connections past max_connections are answered 503 while they are few; past twice that,
    // new ones wait in the kernel's backlog instead (closing them would reset them).
    while (!stopping && open_sessions() >= 2 * admission.connections.limit()) {
      accept_backoff.expires_after(kAcceptPause);
      co_await accept_backoff.async_wait(asio::redirect_error(use_awaitable, ec));
    }
    if (stopping) co_return;
    tcp::socket socket(asio::make_strand(io));
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
    auto session = std::make_shared<Session>(std::move(socket), options.tls.get());
    asio::any_io_executor executor = session->lowest().get_executor();
    spawn(executor, serve_connection(session), "connection");
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
      bool last = false;
      {
        std::lock_guard lock(impl->sessions_mutex);
        impl->sessions.erase(session);
        last = impl->sessions.empty();
      }
      if (last && impl->stopping) impl->wake_drain();
    }
  } unregister{this, session};

  Reservation connection(admission.connections);
  error_code ec;
  if (!connection.resize(1)) {
    // Over TLS the handshake comes first, within the same second as the request head: a
    // handshake costs what it costs any connection under the bound, and the accept loop
    // pauses past twice the bound, so refusals are bounded too.
    session->lowest().expires_after(kRefusalReadTime);
    try {
      if (session->tls_stream) {
        co_await session->tls_stream->async_handshake(asio::ssl::stream_base::server,
                                                      asio::redirect_error(use_awaitable, ec));
        if (!ec) co_await refuse_connection(*session, *session->tls_stream);
      } else {
        co_await refuse_connection(*session, *session->plain);
      }
    } catch (const std::exception& e) {
      spdlog::warn("closing a connection over server.max_connections after an error: {}", e.what());
    }
    session->lowest().socket().close(ec);
    co_return;
  }

  // Bounded: trailers and chunk headers are parsed whole from this buffer, so it limits them
  // (to the header limit plus one read); an unbounded one let a large trailer take any amount
  // of memory, and one over 64 KiB made Beast throw.
  beast::flat_buffer buffer(options.max_header_bytes + kReadChunk);
  std::optional<std::string> failure;
  try {
    if (session->tls_stream) {
      session->lowest().expires_after(options.request_timeout);
      co_await session->tls_stream->async_handshake(asio::ssl::stream_base::server,
                                                    asio::redirect_error(use_awaitable, ec));
      if (!ec) co_await serve_requests(*session, *session->tls_stream, buffer);
    } else {
      co_await serve_requests(*session, *session->plain, buffer);
    }
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (failure) {
    // One connection's failure ends that connection, never the server.
    spdlog::warn("closing a connection after an error: {}", *failure);
    if (session->phase == Phase::kReading) {
      HttpResponse response =
          api.error_response(http::status::bad_request, 11, Route::kUnmatched,
                             fmt::format("request: cannot be read ({})", *failure));
      try {
        if (session->tls_stream)
          co_await answer_and_close(*session, *session->tls_stream, buffer, std::move(response));
        else
          co_await answer_and_close(*session, *session->plain, buffer, std::move(response));
      } catch (const std::exception&) {
        // The connection is closed below either way.
      }
    }
  }
  session->lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
  session->lowest().socket().close(ec);
}

template <typename Stream>
awaitable<void> HttpServer::Impl::refuse_connection(Session& session, Stream& stream) {
  // A liveness probe opens a connection of its own each time (Kubernetes' httpGet): its
  // request head is read, within the deadline the caller set (kRefusalReadTime), and GET
  // /healthz answered; any other request is refused, as is one that does not come in time or
  // does not parse.
  beast::flat_buffer buffer(options.max_header_bytes + kReadChunk);
  http::request_parser<http::string_body> parser;
  parser.header_limit(header_limit());
  parser.body_limit(0);
  error_code ec;
  co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
  const HttpRequest& request = parser.get();
  const bool probe =
      !ec && parser.is_done() && request.method() == http::verb::get &&
      HttpApi::route_of({request.target().data(), request.target().size()}) == Route::kHealthz;
  HttpResponse response;
  if (probe) {
    const auto now = std::chrono::steady_clock::now();
    response = answer(request, Route::kHealthz, now, now + options.query_timeout);
  } else {
    response = busy_response(
        Route::kUnmatched,
        fmt::format("server busy: {} connections are open (server.max_connections); retry later",
                    admission.connections.limit()));
  }
  co_await answer_and_close(session, stream, buffer, std::move(response));
}

HttpResponse HttpServer::Impl::answer(const HttpRequest& request, Route route,
                                      std::chrono::steady_clock::time_point received,
                                      std::chrono::steady_clock::time_point deadline) {
  auto start = std::chrono::steady_clock::now();
  if (start >= deadline) {
    HttpResponse response = api.error_response(
        http::status::service_unavailable, request.version(), route,
        "deadline: the request waited in the queue until its deadline passed (server busy; "
        "server.query_timeout or X-Request-Timeout-Ms)");
    response.set(http::field::retry_after, "1");
    return response;
  }
  HttpResponse response = api.handle(request, received, deadline);
  std::string_view path = inline_candidate(request, route);
  if (!path.empty()) inline_queries.record(path, std::chrono::steady_clock::now() - start);
  return response;
}

HttpResponse HttpServer::Impl::answer_inline(const HttpRequest& request, Route route,
                                             std::chrono::steady_clock::time_point received,
                                             std::chrono::steady_clock::time_point deadline) {
  if (!options.inline_answers_block) return answer(request, route, received, deadline);
  const auto wall_start = std::chrono::steady_clock::now();
  const std::chrono::nanoseconds cpu_start = ThreadLoad::cpu_time();
  HttpResponse response = answer(request, route, received, deadline);
  const std::chrono::nanoseconds waited =
      (std::chrono::steady_clock::now() - wall_start) - (ThreadLoad::cpu_time() - cpu_start);
  if (waited.count() > 0) io_thread_load().add_waited(waited);
  return response;
}

awaitable<HttpResponse> HttpServer::Impl::answer_in_pool(
    HttpRequest request, Route route, std::chrono::steady_clock::time_point received,
    std::chrono::steady_clock::time_point deadline) {
  // Counted out however the answer ends: a count left behind would keep inlining off.
  struct Leave {
    std::atomic<std::size_t>* count;
    ~Leave() {
      if (count) count->fetch_sub(1, std::memory_order_relaxed);
    }
  } leave{route != Route::kEvents ? &queries_in_pool : nullptr};
  co_return answer(request, route, received, deadline);
}

HttpResponse HttpServer::Impl::busy_response(Route route, std::string_view message) {
  HttpResponse response = api.error_response(http::status::service_unavailable, 11, route, message);
  response.set(http::field::retry_after, "1");
  return response;
}

HttpResponse HttpServer::Impl::read_error_response(const error_code& ec, const HttpRequest& partial,
                                                   bool header_done) {
  Route route = header_done || ec == http::error::body_limit
                    ? HttpApi::route_of({partial.target().data(), partial.target().size()})
                    : Route::kUnmatched;
  if (ec == http::error::body_limit) {
    return api.error_response(
        http::status::payload_too_large, 11, route,
        fmt::format("body: larger than the limit of {} bytes (server.max_body_bytes)",
                    options.max_body_bytes));
  }
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    return api.error_response(
        http::status::request_header_fields_too_large, 11, route,
        fmt::format("headers: request line, headers, trailers or a chunk header larger than the "
                    "limit of {} bytes",
                    options.max_header_bytes));
  }
  return api.error_response(http::status::bad_request, 11, route,
                            fmt::format("request: malformed HTTP ({})", ec.message()));
}

std::optional<HttpResponse> HttpServer::Impl::gate(const HttpRequest& header, Route route) {
  Access needed = access_of(route);
  if (options.access) {
    if (std::optional<AccessDenied> denied =
            options.access->check(needed, header_text(header, http::field::authorization))) {
      bool forbidden = denied->refusal == Refusal::kWrongKind;
      HttpResponse response =
          api.error_response(forbidden ? http::status::forbidden : http::status::unauthorized,
                             header.version(), route, denied->message);
      if (!forbidden) {
        response.set(http::field::www_authenticate,
                     denied->refusal == Refusal::kMissing
                         ? R"(Bearer realm="signalbox")"
                         : R"(Bearer realm="signalbox", error="invalid_token")");
      }
      return response;
    }
  }
  // Refused before its body is read, which would be thrown away.
  if (route == Route::kEvents && header.method() == http::verb::post && !options.ingest)
    return api.error_response(http::status::not_found, header.version(), route,
                              ingest_off_message());
  bool guarded = options.access && options.access->guards(needed);
  if (header.method() == http::verb::post && !guarded) {
    if (auto problem = cross_origin_problem(header_text(header, http::field::origin),
                                            header_text(header, http::field::host)))
      return api.error_response(http::status::forbidden, header.version(), route, *problem);
    if (route == Route::kEvents) {
      if (auto problem =
              ingest_content_type_problem(header_text(header, http::field::content_type))) {
        return api.error_response(http::status::unsupported_media_type, header.version(), route,
                                  *problem);
      }
    }
  }
  return std::nullopt;
}

std::optional<HttpResponse> HttpServer::Impl::deadline_of(
    const HttpRequest& request, Route route, std::chrono::steady_clock::time_point received,
    std::chrono::steady_clock::time_point* deadline) {
  *deadline = route == Route::kEvents ? std::chrono::steady_clock::time_point::max()
                                      : received + options.query_timeout;
  auto given = request.find("X-Request-Timeout-Ms");
  if (given == request.end() || route == Route::kEvents) return std::nullopt;
  std::string_view text(given->value().data(), given->value().size());
  std::uint64_t ms = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (error != std::errc() || end != text.data() + text.size() || ms == 0) {
    return api.error_response(
        http::status::bad_request, request.version(), route,
        fmt::format("x-request-timeout-ms: \"{}\" is not a positive number of milliseconds",
                    text.substr(0, 50)));
  }
  auto shorter = received + std::chrono::milliseconds(
                                std::min<std::uint64_t>(ms, options.query_timeout.count()));
  *deadline = std::min(*deadline, shorter);
  return std::nullopt;
}

template <typename Stream>
awaitable<void> HttpServer::Impl::serve_requests(Session& session, Stream& stream,
                                                 beast::flat_buffer& buffer) {
  beast::tcp_stream& lowest = session.lowest();
  error_code ec;
  for (;;) {
    if (stopping) co_return;
    if (buffer.size() == 0) {
      // Waiting here is what a stop interrupts: no request has begun on this connection.
      session.phase = Phase::kIdle;
      lowest.expires_after(options.idle_timeout);
      std::size_t n = co_await stream.async_read_some(buffer.prepare(kReadChunk),
                                                      asio::redirect_error(use_awaitable, ec));
      if (ec) co_return;
      buffer.commit(n);
    }
    session.phase = Phase::kReading;

    http::request_parser<http::string_body> parser;
    parser.header_limit(header_limit());
    parser.body_limit(options.max_body_bytes);
    // One deadline for the whole request, however slowly its bytes come.
    lowest.expires_after(options.request_timeout);
    // A header already received whole (nearly every one: a client sends it in one write) is
    // parsed in place; the composed read would first post its completion through the
    // scheduler. A header still arriving is read on, from where this left it.
    buffer.consume(parser.put(buffer.data(), ec));
    if (ec == http::error::need_more) {
      ec = {};
      co_await http::async_read_header(stream, buffer, parser,
                                       asio::redirect_error(use_awaitable, ec));
    }
    if (ec) {
      if (is_closed_by_peer(ec)) co_return;
      co_await answer_and_close(session, stream, buffer,
                                read_error_response(ec, parser.get(), parser.is_header_done()));
      co_return;
    }
    Route route = HttpApi::route_of({parser.get().target().data(), parser.get().target().size()});
    if (std::optional<HttpResponse> refused = gate(parser.get(), route)) {
      // The body is not read: closing is the only way to skip it.
      co_await answer_and_close(session, stream, buffer, std::move(*refused));
      co_return;
    }
    auto inflight_busy = [&] {
      return busy_response(
          route, fmt::format("server busy: requests in flight hold {} of {} bytes "
                             "(server.max_inflight_bytes); retry later",
                             admission.inflight_bytes.used(), admission.inflight_bytes.limit()));
    };
    // The header's share is its limit; a body of known length is allocated whole at once.
    Reservation held(admission.inflight_bytes);
    auto length = parser.content_length();  // a boost::optional
    if (!held.resize(options.max_header_bytes + (length ? *length : 0))) {
      co_await answer_and_close(session, stream, buffer, inflight_busy());
      co_return;
    }
    if (!parser.is_done()) {
      // curl and others wait up to a second for this before sending a large body.
      auto expect = parser.get()[http::field::expect];
      if (parser.get().version() >= 11 && beast::iequals(expect, "100-continue")) {
        http::response<http::empty_body> go_on(http::status::continue_, 11);
        co_await http::async_write(stream, go_on, asio::redirect_error(use_awaitable, ec));
      }
    }
    bool over_budget = false;
    while (!ec && !parser.is_done()) {
      co_await http::async_read_some(stream, buffer, parser,
                                     asio::redirect_error(use_awaitable, ec));
      // A chunked body is charged as it grows.
      if (!ec && !length && !held.resize(options.max_header_bytes + parser.get().body().size())) {
        over_budget = true;
        break;
      }
    }
    if (over_budget) {
      co_await answer_and_close(session, stream, buffer, inflight_busy());
      co_return;
    }
    if (ec) {
      if (is_closed_by_peer(ec)) co_return;
      co_await answer_and_close(session, stream, buffer,
                                read_error_response(ec, parser.get(), true));
      co_return;
    }

    session.phase = Phase::kBusy;
    HttpRequest request = parser.release();
    auto received = std::chrono::steady_clock::now();
    bool keep_alive = request.keep_alive();
    HttpResponse response;
    std::chrono::steady_clock::time_point deadline;
    Reservation queued(admission.queued_requests);
    if (std::optional<HttpResponse> bad = deadline_of(request, route, received, &deadline)) {
      response = std::move(*bad);
    } else if (route == Route::kHealthz) {
      // Liveness is answered here, ahead of the queue's bound and of the pool: it touches no
      // store, and a probe refused or held up under load would have an orchestrator restart a
      // process that is doing its work.
      response = answer(request, route, received, deadline);
    } else if (!queued.resize(1)) {
      response =
          busy_response(route, fmt::format("server busy: {} requests are waiting to be answered "
                                           "(server.max_queued_requests); retry later",
                                           admission.queued_requests.limit()));
    } else if (inline_queries.runs_inline(inline_candidate(request, route),
                                          queries_in_pool.load(std::memory_order_relaxed),
                                          io_thread_load().share())) {
      api.metrics().count_inline_query();
      response = answer_inline(request, route, received, deadline);
    } else {
      bool query = route != Route::kEvents;
      if (query) queries_in_pool.fetch_add(1, std::memory_order_relaxed);
      response = co_await asio::co_spawn(
          query ? query_pool : ingest_pool,
          answer_in_pool(std::move(request), route, received, deadline), use_awaitable);
    }
    queued.release();
    held.release();
    response.keep_alive(keep_alive && !stopping);
    lowest.expires_after(options.request_timeout);
    co_await write_response(stream, response, ec);
    if (ec || !response.keep_alive()) co_return;
  }
}

template <typename Stream>
awaitable<void> HttpServer::Impl::answer_and_close(Session& session, Stream& stream,
                                                   beast::flat_buffer& buffer,
                                                   HttpResponse response) {
  error_code ec;
  session.phase = Phase::kBusy;
  response.keep_alive(false);
  beast::tcp_stream& lowest = session.lowest();
  lowest.expires_after(options.request_timeout);
  co_await write_response(stream, response, ec);
  if (!ec) {
    lowest.socket().shutdown(tcp::socket::shutdown_send, ec);
    lowest.expires_after(kLingerTime);
    while (!ec) {
      buffer.clear();
      co_await lowest.async_read_some(buffer.prepare(std::min(kReadChunk, buffer.max_size())),
                                      asio::redirect_error(use_awaitable, ec));
    }
  }
  lowest.socket().close(ec);
}

void HttpServer::Impl::begin_stop() {
  if (stopping.exchange(true)) return;
  error_code ec;
  acceptor.close(ec);
  accept_backoff.cancel();
  std::lock_guard lock(sessions_mutex);
  for (const std::shared_ptr<Session>& session : sessions) {
    asio::post(session->lowest().get_executor(), [session] {
      error_code ignored;
      // Bytes already received are a request that has begun: it gets stop_grace to arrive.
      if (session->phase == Phase::kIdle && session->lowest().socket().available(ignored) == 0)
        session->lowest().cancel();
    });
  }
  spawn(control, drain(), "stop");
}

awaitable<void> HttpServer::Impl::drain() {
  auto now = std::chrono::steady_clock::now();
  auto deadline = now + options.drain_timeout;
  auto grace_end = now + options.stop_grace;
  bool grace_over = false;
  for (;;) {
    {
      std::lock_guard lock(sessions_mutex);
      if (sessions.empty()) break;
      now = std::chrono::steady_clock::now();
      if (close_now || now >= deadline) {
        spdlog::warn("signalbox serve: closing {} connections that are still busy",
                     sessions.size());
        for (const std::shared_ptr<Session>& session : sessions)
          asio::post(session->lowest().get_executor(), [session] { session->lowest().close(); });
        break;
      }
      if (!grace_over && now >= grace_end) {
        // Requests not received in full by now are not answered: only those being answered
        // are waited for.
        grace_over = true;
        for (const std::shared_ptr<Session>& session : sessions) {
          asio::post(session->lowest().get_executor(), [session] {
            if (session->phase != Phase::kBusy) session->lowest().close();
          });
        }
      }
    }
    // Sleeps until the next of the grace's end and the deadline, or until wake_drain(): the
    // last connection closing cancels the wait, as does stop_now(). Checking the sessions
    // and starting the wait happen in one turn of `control`, where wake_drain() runs, so a
    // wake-up is never lost.
    error_code ec;
    drain_timer.expires_at(grace_over ? deadline : std::min(grace_end, deadline));
    co_await drain_timer.async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

namespace {

HttpServerOptions with_defaults(HttpServerOptions options) {
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (options.io_threads == 0) options.io_threads = 2;
  if (options.ingest_threads == 0) options.ingest_threads = 2;
  if (options.query_threads == 0) options.query_threads = std::max(2u, cores);
  return options;
}

}  // namespace

HttpServer::HttpServer(Engine& engine, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(engine, with_defaults(std::move(options)))) {}

HttpServer::~HttpServer() {
  stop();
  wait();
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
}

std::string HttpServer::local_address() const {
  return endpoint_text(impl_->acceptor.local_endpoint());
}

void HttpServer::start() {
  Impl& impl = *impl_;
  if (!impl.acceptor.is_open()) listen();
  impl.spawn(impl.control, impl.accept_loop(), "accepting connections");
  // A stop() before start() was posted already and takes effect here.
  for (unsigned i = 0; i < impl.options.io_threads; ++i)
    impl.io_threads.emplace_back([&impl] { impl.io.run(); });
}

void HttpServer::wait() {
  Impl& impl = *impl_;
  // The io_context runs out of work once the drain ended and every connection closed.
  for (std::thread& t : impl.io_threads) t.join();
  impl.io_threads.clear();
  impl.ingest_pool.join();
  impl.query_pool.join();
}

HttpApi& HttpServer::api() { return impl_->api; }

Admission& HttpServer::admission() { return impl_->admission; }

void HttpServer::stop() {
  asio::post(impl_->control, [impl = impl_.get()] { impl->begin_stop(); });
}

void HttpServer::stop_now() {
  asio::post(impl_->control, [impl = impl_.get()] {
    impl->close_now = true;
    impl->begin_stop();
    impl->drain_timer.cancel();
  });
}

}  // namespace signalbox
