#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace signalbox {

// Whole-request refusals that the HTTP API and the gRPC service both make, worded here once so
// that a client reads the same message over either transport. Plain functions: thread-safe.

// A batch query for more users than the server answers at once: HTTP 400, gRPC
// INVALID_ARGUMENT. "user_ids: at most 1000 user ids per request, got 1001".
std::string too_many_users_message(std::size_t limit, std::size_t asked);

// An ingest request while event ingest over HTTP and gRPC is off, because the config's
// `ingest` list names other inputs but not {kind: http} (ingests_over_http()): HTTP 404,
// gRPC UNIMPLEMENTED.
std::string_view ingest_off_message();

}  // namespace signalbox
