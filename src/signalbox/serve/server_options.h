#pragma once

#include "signalbox/config/config.h"
#include "signalbox/serve/http_server.h"

namespace signalbox {

// The HttpServerOptions `config` asks for: whether POST /v1/events takes events (`ingest`,
// ingests_over_http()), and from the `server` section address, limits, timeouts,
// the bearer tokens of server.auth (read here, from the environment or files) and the TLS
// context of server.tls. Throws ConfigError when a token cannot be read, std::runtime_error
// when the certificate or key cannot be loaded.
HttpServerOptions http_server_options(const Config& config);

}  // namespace signalbox
