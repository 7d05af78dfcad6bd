#pragma once

#include <string_view>

#include "signalbox/common/beast.h"
#include "signalbox/engine/engine.h"
#include "signalbox/serve/api_request.h"
#include "signalbox/web/web_assets.h"

namespace signalbox {

// The routes behind the web page (docs/web.md): GET /v1/users, GET /v1/users/{user_id}/reach
// and the page's own files. Plain
// functions over their arguments, safe from any thread; HttpApi routes to them and counts them.

// GET /v1/users?limit=N (a sample: Engine::sample_users) or ?recent=N (the N users this
// process ingested most recently, newest first: Engine::recent_users): {"users": ["<id>", ...]},
// ids as decimal strings (JavaScript numbers cannot hold every 64-bit id). `query` is the raw query
// string. Throws QueryError, whose message starts with the parameter at fault, for a bad or unknown
// parameter.
boost::beast::http::response<boost::beast::http::string_body> users_response(Engine& engine,
                                                                             std::string_view query,
                                                                             unsigned version);

// GET /v1/users/{user_id}/reach: {"user_id": "<id>", "from": T, "to": T, "earliest": T or null},
// the earliest as_of in [from, to] at which the names asked for (all when none) can be
// answered, to within a minute or (to - from) / 200, whichever is longer
// (Engine::earliest_answerable). Throws QueryError for an unknown name.
boost::beast::http::response<boost::beast::http::string_body> reach_response(
    Engine& engine, const ReachRequest& request, unsigned version);

// A file of the web page, with its content type and headers that keep browsers from caching
// a page older than the binary or running anything not served by it.
boost::beast::http::response<boost::beast::http::string_body> web_asset_response(
    const WebAsset& asset, unsigned version);

}  // namespace signalbox
