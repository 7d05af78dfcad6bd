#pragma once

#include <string>

#include "signalbox/serve/http_api.h"

namespace signalbox {

// The bytes before a response's body: the status line, every header field in order and the
// blank line, exactly as Boost.Beast's serializer writes them for a response whose body is
// not chunked. The server writes them and the body in one gather write: Beast's serializer
// walks nested buffer views that cost ~13 k instructions a response, 6 % of a light user's
// whole request (docs/performance.md, "The HTTP path around a query").
//
// Pure; thread-safe.
std::string response_head(const HttpResponse& response);

}  // namespace signalbox
