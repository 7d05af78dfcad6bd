#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace signalbox {

// The browser-forgery rules for POSTs a bearer token does not guard (server.auth unset): a web
// page elsewhere can make a visitor's browser POST to a server on localhost or the intranet,
// with an Origin header naming that page and a form content type, without asking first. Plain
// functions of their arguments: safe from any thread.

// The problem with a POST carrying `origin` (the Origin header, empty when absent) to a server
// addressed as `host` (the Host header): nullopt when there is no Origin (not a browser) or it
// names the same host and port; else a message naming both.
std::optional<std::string> cross_origin_problem(std::string_view origin, std::string_view host);

// The problem with an ingest body of `content_type` (the Content-Type header): nullopt for
// application/json, application/x-ndjson or another JSON type (…/…+json), parameters such as
// charset allowed; else a message naming the type given and the ones taken.
std::optional<std::string> ingest_content_type_problem(std::string_view content_type);

}  // namespace signalbox
