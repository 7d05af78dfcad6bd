#include "https_client.h"

#include "beast_request.h"
#include "signalbox/serve/asio_ssl.h"

namespace signalbox::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

HttpAnswer https_request(std::uint16_t port, const std::string& ca_file, Method method,
                         std::string_view target, std::string body, const Headers& headers) {
  namespace ssl = asio::ssl;
  asio::io_context io;
  ssl::context context(ssl::context::tls_client);
  context.load_verify_file(ca_file);
  context.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(io, context);
  stream.set_verify_callback(ssl::host_name_verification("127.0.0.1"));
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
  beast::get_lowest_layer(stream).connect(
      asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), port));
  stream.handshake(ssl::stream_base::client);
  if (method != Method::kPost && method != Method::kGet)
    throw std::invalid_argument("https_request: only GET and POST");
  auto request = make_request(method, target, std::move(body), headers);
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  HttpAnswer answer;
  answer.status = response.result_int();
  answer.body = response.body();
  answer.content_type = std::string(response[http::field::content_type]);
  return answer;
}

}  // namespace signalbox::testing
