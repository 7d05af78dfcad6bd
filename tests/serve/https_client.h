#pragma once

// One HTTPS request that verifies the server's certificate against a given CA file and the
// host 127.0.0.1, for the TLS end-to-end tests (https_client.cc, over Beast and OpenSSL).

#include <cstdint>
#include <string>
#include <string_view>

#include "http_client.h"

namespace signalbox::testing {

HttpAnswer https_request(std::uint16_t port, const std::string& ca_file, Method method,
                         std::string_view target, std::string body = "",
                         const Headers& headers = {});

}  // namespace signalbox::testing
