#pragma once

// A small blocking HTTP/1.1 client over Beast for the end-to-end tests: one keep-alive
// connection, reopened when the server closed it. Not thread-safe: one client per thread.

#include <poll.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "json.h"
#include "signalbox/serve/asio.h"

namespace signalbox::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

struct HttpAnswer {
  unsigned status = 0;
  std::string body;
  std::string content_type;
  std::string allow;
  std::string www_authenticate;
  std::string retry_after;
  std::optional<std::size_t> content_length;
  bool keep_alive = false;

  Value json() const { return parse_json(body); }
  // The "error" message of a JSON error answer, or "" when there is none.
  std::string error() const {
    try {
      Value v = json();
      const Value* e = v.find("error");
      return e && e->is_string() ? e->string() : "";
    } catch (const std::exception&) {
      return "";
    }
  }
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port) : port_(port) {}

  HttpAnswer get(std::string_view target) { return send(http::verb::get, target, ""); }
  HttpAnswer post(std::string_view target, std::string body) {
    return send(http::verb::post, target, std::move(body));
  }

  HttpAnswer send(http::verb verb, std::string_view target, std::string body,
                  const Headers& headers = {}) {
    http::request<http::string_body> request(verb, std::string(target), 11);
    request.set(http::field::host, "127.0.0.1");
    if (verb == http::verb::post) request.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : headers) request.set(name, value);
    request.body() = std::move(body);
    request.prepare_payload();
    connect();
    http::write(*stream_, request);
    return read(verb == http::verb::head);
  }

  // Writes `bytes` as they are and reads one answer.
  HttpAnswer send_raw(std::string_view bytes) {
    connect();
    asio::write(stream_->socket(), asio::buffer(bytes.data(), bytes.size()));
    return read(false);
  }

  // Writes `bytes` as they are, without reading.
  void write_raw(std::string_view bytes) {
    connect();
    asio::write(stream_->socket(), asio::buffer(bytes.data(), bytes.size()));
  }

  // Reads one answer (after write_raw).
  HttpAnswer read(bool head_request) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 32);
    parser.skip(head_request);
    http::read(*stream_, buffer_, parser);
    const auto& response = parser.get();
    HttpAnswer answer;
    answer.status = response.result_int();
    answer.body = response.body();
    answer.content_type = std::string(response[http::field::content_type]);
    answer.allow = std::string(response[http::field::allow]);
    answer.www_authenticate = std::string(response[http::field::www_authenticate]);
    answer.retry_after = std::string(response[http::field::retry_after]);
    if (response.has_content_length())
      answer.content_length = std::stoull(std::string(response[http::field::content_length]));
    answer.keep_alive = response.keep_alive();
    if (!answer.keep_alive) close();
    return answer;
  }

  // True when the server closed the connection within `timeout`: a read sees the end of the
  // stream (or a reset).
  bool closed_by_server(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    connect();
    pollfd fd{stream_->socket().native_handle(), POLLIN, 0};
    bool readable = ::poll(&fd, 1, static_cast<int>(timeout.count())) == 1;
    beast::error_code ec;
    if (readable) {
      char byte;
      stream_->socket().read_some(asio::buffer(&byte, 1), ec);
    }
    close();
    return readable && (ec == asio::error::eof || ec == asio::error::connection_reset);
  }

  void close() {
    if (stream_) {
      beast::error_code ec;
      stream_->socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      stream_.reset();
    }
    buffer_.clear();
  }

 private:
  void connect() {
    if (stream_) return;
    stream_.emplace(io_);
    stream_->connect(asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), port_));
    stream_->socket().set_option(asio::ip::tcp::no_delay(true));
  }

  std::uint16_t port_;
  asio::io_context io_;
  std::optional<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
};

}  // namespace signalbox::testing
