#include "signalbox/verify/http_getter.h"

#include <fmt/format.h>

#include <stdexcept>
#include <thread>

// Asio and Beast only through the project's one include of them (it fixes an include order).
#include "signalbox/common/beast.h"

namespace signalbox {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

struct HttpGetter::Connection {
  asio::io_context io;
  beast::tcp_stream stream{io};
};

HttpGetter::HttpGetter(ServerUrl url, std::chrono::milliseconds timeout)
    : url_(std::move(url)), timeout_(timeout) {}

HttpGetter::~HttpGetter() = default;

std::string HttpGetter::address() const {
  const bool ipv6 = url_.host.find(':') != std::string::npos;
  return fmt::format("http://{}{}{}:{}{}", ipv6 ? "[" : "", url_.host, ipv6 ? "]" : "", url_.port,
                     url_.prefix);
}

HttpReply HttpGetter::get(std::string_view target, const std::string& token) {
  constexpr int kAttempts = 4;
  for (int attempt = 1;; ++attempt) {
    HttpReply reply;
    try {
      reply = get_once(target, token);
    } catch (const boost::system::system_error& e) {
      connection_.reset();
      throw std::runtime_error(
          fmt::format("{}: GET {}: {}", address(), target, e.code().message()));
    }
    if (reply.status != 503 || attempt == kAttempts) return reply;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

HttpReply HttpGetter::get_once(std::string_view target, const std::string& token) {
  const bool fresh = !connection_;
  if (fresh) {
    connection_ = std::make_unique<Connection>();
    asio::ip::tcp::resolver resolver(connection_->io);
    connection_->stream.expires_after(timeout_);
    connection_->stream.connect(resolver.resolve(url_.host, url_.port));
  }
  http::request<http::empty_body> request(http::verb::get, url_.prefix + std::string(target), 11);
  request.set(http::field::host, url_.host);
  request.set(http::field::user_agent, "signalbox-verify");
  if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  try {
    connection_->stream.expires_after(timeout_);
    http::write(connection_->stream, request);
    http::read(connection_->stream, buffer, response);
  } catch (const boost::system::system_error&) {
    // A kept-alive connection the server closed meanwhile: once more on a new one.
    connection_.reset();
    if (fresh) throw;
    return get_once(target, token);
  }
  if (!response.keep_alive()) connection_.reset();
  return HttpReply{response.result_int(), std::move(response.body())};
}

}  // namespace signalbox
