#pragma once

#include <filesystem>
#include <memory>

#include "signalbox/serve/asio_ssl.h"

namespace signalbox {

// The server side of TLS for HTTPS (server.tls): the certificate chain and private key of two
// PEM files, TLS 1.2 and newer only. Throws std::runtime_error naming the file and OpenSSL's
// reason when either cannot be loaded or the key does not match the certificate. The context
// is immutable once made and may be shared by every connection (OpenSSL locks internally).
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const std::filesystem::path& cert,
                                                            const std::filesystem::path& key);

}  // namespace signalbox
