#include "http_client.h"

#include "beast_request.h"

#include <poll.h>

#include "signalbox/common/beast.h"

namespace signalbox::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

http::verb beast_verb(Method method) {
  switch (method) {
    case Method::kGet:
      return http::verb::get;
    case Method::kHead:
      return http::verb::head;
    case Method::kPost:
      return http::verb::post;
    case Method::kPut:
      return http::verb::put;
    case Method::kDelete:
      return http::verb::delete_;
  }
  return http::verb::unknown;
}

http::request<http::string_body> make_request(Method method, std::string_view target,
                                              std::string body, const Headers& headers) {
  http::verb verb = beast_verb(method);
  http::request<http::string_body> request(verb, std::string(target), 11);
  request.set(http::field::host, "127.0.0.1");
  if (verb == http::verb::post) request.set(http::field::content_type, "application/json");
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = std::move(body);
  request.prepare_payload();
  return request;
}

struct HttpClient::Connection {
  asio::io_context io;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
};

HttpClient::HttpClient(std::uint16_t port)
    : port_(port), connection_(std::make_unique<Connection>()) {}
HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

HttpClient::Connection& HttpClient::connected() {
  Connection& c = *connection_;
  if (!c.stream) {
    c.stream.emplace(c.io);
    c.stream->connect(asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), port_));
    c.stream->socket().set_option(asio::ip::tcp::no_delay(true));
  }
  return c;
}

HttpAnswer HttpClient::send(Method method, std::string_view target, std::string body,
                            const Headers& headers) {
  http::write(*connected().stream, make_request(method, target, std::move(body), headers));
  return read(method == Method::kHead);
}

HttpAnswer HttpClient::send_raw(std::string_view bytes) {
  write_raw(bytes);
  return read(false);
}

void HttpClient::write_raw(std::string_view bytes) {
  asio::write(connected().stream->socket(), asio::buffer(bytes.data(), bytes.size()));
}

HttpAnswer HttpClient::read(bool head_request) {
  Connection& c = connected();
  http::response_parser<http::string_body> parser;
  parser.body_limit(1ull << 32);
  parser.skip(head_request);
  http::read(*c.stream, c.buffer, parser);
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

bool HttpClient::closed_by_server(std::chrono::milliseconds timeout) {
  Connection& c = connected();
  pollfd fd{c.stream->socket().native_handle(), POLLIN, 0};
  bool readable = ::poll(&fd, 1, static_cast<int>(timeout.count())) == 1;
  beast::error_code ec;
  if (readable) {
    char byte;
    c.stream->socket().read_some(asio::buffer(&byte, 1), ec);
  }
  close();
  return readable && (ec == asio::error::eof || ec == asio::error::connection_reset);
}

void HttpClient::close() {
  Connection& c = *connection_;
  if (c.stream) {
    beast::error_code ec;
    c.stream->socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    c.stream.reset();
  }
  c.buffer.clear();
}

}  // namespace signalbox::testing
