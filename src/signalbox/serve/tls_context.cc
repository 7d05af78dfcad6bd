#include "signalbox/serve/tls_context.h"

#include <stdexcept>

#include <fmt/format.h>

namespace signalbox {

std::shared_ptr<boost::asio::ssl::context> make_tls_context(const std::filesystem::path& cert,
                                                            const std::filesystem::path& key) {
  namespace ssl = boost::asio::ssl;
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use);
  boost::system::error_code ec;
  context->use_certificate_chain_file(cert.string(), ec);
  if (ec)
    throw std::runtime_error(
        fmt::format("server.tls.cert: cannot load {}: {}", cert.string(), ec.message()));
  context->use_private_key_file(key.string(), ssl::context::pem, ec);
  if (ec)
    throw std::runtime_error(
        fmt::format("server.tls.key: cannot load {}: {}", key.string(), ec.message()));
  if (SSL_CTX_check_private_key(context->native_handle()) != 1)
    throw std::runtime_error(fmt::format("server.tls.key: {} does not match the certificate {}",
                                         key.string(), cert.string()));
  return context;
}

}  // namespace signalbox
