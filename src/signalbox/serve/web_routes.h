#pragma once

#include <string_view>

#include "signalbox/engine/engine.h"
#include "signalbox/serve/asio.h"
#include "signalbox/web/web_assets.h"

namespace signalbox {

// The routes behind the web page (docs/web.md): GET /v1/users and the page's own files. Plain
// functions over their arguments, safe from any thread; HttpApi routes to them and counts them.

// GET /v1/users?limit=N: {"users": ["<id>", ...]}, ids as decimal strings (JavaScript numbers
// cannot hold every 64-bit id). `query` is the raw query string. Throws QueryError, whose
// message starts with the parameter at fault, for a bad or unknown parameter.
boost::beast::http::response<boost::beast::http::string_body> users_response(
    Engine& engine, std::string_view query, unsigned version);

// A file of the web page, with its content type and headers that keep browsers from caching
// a page older than the binary or running anything not served by it.
boost::beast::http::response<boost::beast::http::string_body> web_asset_response(
    const WebAsset& asset, unsigned version);

}  // namespace signalbox
