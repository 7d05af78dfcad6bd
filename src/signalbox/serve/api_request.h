#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "signalbox/common/time.h"

namespace signalbox {

// The parameters of the HTTP API's two query routes, read from the client's text apart from any
// engine or socket (so that they can be tested and fuzzed alone). Plain functions of their
// arguments: safe from any thread.

// A request the API refuses with 400. The message starts with the parameter at fault and quotes
// at most the first 200 bytes of the client's text, however much was sent.
class BadRequest : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The latest as_of a query may ask for: the last millisecond of the year 9999. Later times are
// no real instant, and the engine's window arithmetic must never get near 2^63.
constexpr TimeMs kMaxAsOf = 253402300799999;

// Throws BadRequest ("as_of: ... is out of range ...") unless 0 <= as_of <= kMaxAsOf.
void check_as_of(TimeMs as_of);

// GET /v1/users/{user_id}/signals?names=a,b&as_of=T, T as parse_time() reads it (ISO 8601 or
// epoch milliseconds; a value that looks like seconds or microseconds is refused).
struct SignalsRequest {
  std::uint64_t user_id = 0;
  std::vector<std::string> names;  // in the order given, without empty names and repeats
  std::optional<TimeMs> as_of;
};

// `user_text` is the decoded {user_id} segment, `query` the raw query string. Throws BadRequest.
SignalsRequest parse_signals_request(std::string_view user_text, std::string_view query);

// GET /v1/users/{user_id}/explain?signal=S&window=W&as_of=T&max_events=N (docs/explain.md):
// `signal` names a signal or a view and is required; the others are optional.
struct ExplainRequest {
  std::uint64_t user_id = 0;
  std::string name;
  std::optional<std::string> window;
  std::optional<TimeMs> as_of;
  std::size_t max_events = 100;
};

// The most raw events one window of an explain answer may list (`max_events`).
constexpr std::size_t kMaxExplainEvents = 1000;

// Like parse_signals_request(). Throws BadRequest.
ExplainRequest parse_explain_request(std::string_view user_text, std::string_view query);
// GET /v1/users/{user_id}/reach?names=a,b&from=T&to=T: how far back in [from, to] the
// signals can be answered. `from` and `to` are required, read as as_of is.
struct ReachRequest {
  std::uint64_t user_id = 0;
  std::vector<std::string> names;  // in the order given, without empty names and repeats
  TimeMs from = 0;
  TimeMs to = 0;
};

// `user_text` is the decoded {user_id} segment, `query` the raw query string. Throws BadRequest.
ReachRequest parse_reach_request(std::string_view user_text, std::string_view query);

// The JSON body of POST /v1/signals:batchGet: {"user_ids": [...], "names": [...], "as_of": T},
// T a number of milliseconds or a string, both as parse_time() reads them.
struct BatchRequest {
  std::vector<std::uint64_t> user_ids;
  std::vector<std::string> names;  // in the order given, without repeats
  std::optional<TimeMs> as_of;
};

// Throws BadRequest for a body that is not such an object, or that asks for more than
// `max_users` users.
BatchRequest parse_batch_request(std::string_view body, std::size_t max_users);

}  // namespace signalbox
