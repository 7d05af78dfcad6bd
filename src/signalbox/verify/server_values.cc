#include "signalbox/verify/server_values.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <stdexcept>

#include "signalbox/backfill/json_value.h"
#include "signalbox/common/error.h"
#include "signalbox/common/secret.h"

namespace signalbox {

namespace {

constexpr std::chrono::seconds kRequestTimeout{30};

std::string token(const std::string& reference, std::string_view key) {
  return reference.empty() ? std::string() : read_secret(reference, key);
}

// The value of the sample `name` (a metric without labels) in Prometheus text; nullopt when
// the text has no such line.
std::optional<double> metric_value(std::string_view text, std::string_view name) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (line.size() <= name.size() || line.substr(0, name.size()) != name ||
        line[name.size()] != ' ')
      continue;
    std::string number(line.substr(name.size() + 1));
    try {
      return std::stod(number);
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

// "&names=a,b" (each name percent-encoded) for a query string; "" for all names.
std::string names_parameter(const std::vector<std::string>& names) {
  if (names.empty()) return "";
  std::string out = "&names=";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    for (unsigned char c : names[i]) {
      if (std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == '~')
        out += static_cast<char>(c);
      else
        out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// A short piece of an answer's body for a message.
std::string excerpt(const std::string& body) {
  constexpr std::size_t kMax = 200;
  return body.size() <= kMax ? body : body.substr(0, kMax) + "...";
}

}  // namespace

ServerValues::ServerValues(const ServerUrl& url, const Config& config)
    : http_(url, kRequestTimeout),
      query_token_(token(config.server.auth.query, "server.auth.query")),
      metrics_token_(token(config.server.auth.metrics, "server.auth.metrics")) {}

std::string ServerValues::description() const {
  return fmt::format("the server at {}", http_.address());
}

Value ServerValues::get_json(const std::string& target, const std::string& token) {
  HttpReply reply = http_.get(target, token);
  if (reply.status == 400) {
    Value error;
    try {
      error = parse_json_value(reply.body);
    } catch (const std::exception&) {
    }
    const Value* message = error.find("error");
    throw QueryError(message && message->is_string() ? message->string() : excerpt(reply.body));
  }
  if (reply.status != 200)
    throw std::runtime_error(fmt::format("{}: GET {} answered {}: {}", http_.address(), target,
                                         reply.status, excerpt(reply.body)));
  try {
    return parse_json_value(reply.body);
  } catch (const std::exception& e) {
    throw std::runtime_error(
        fmt::format("{}: GET {}: the answer is not JSON: {}", http_.address(), target, e.what()));
  }
}

std::optional<TimeMs> ServerValues::stream_time() {
  constexpr std::string_view kMetric = "signalbox_stream_time_seconds";
  HttpReply reply = http_.get("/metrics", metrics_token_);
  if (reply.status != 200)
    throw std::runtime_error(fmt::format("{}: GET /metrics answered {}: {}", http_.address(),
                                         reply.status, excerpt(reply.body)));
  std::optional<double> seconds = metric_value(reply.body, kMetric);
  if (!seconds)
    throw std::runtime_error(fmt::format("{}: GET /metrics has no {}: is it a signalbox server?",
                                         http_.address(), kMetric));
  // The gauge is 0 before the first event.
  if (*seconds <= 0) return std::nullopt;
  return static_cast<TimeMs>(std::llround(*seconds * 1000.0));
}

std::optional<TimeMs> ServerValues::earliest_answerable(std::uint64_t user_id,
                                                        const std::vector<std::string>& names,
                                                        TimeMs from, TimeMs to) {
  const std::string names_param = names_parameter(names);
  // The route answers to within max(1 minute, span / 200) of the exact earliest: narrow the
  // span around each answer until that is a minute, as the store's own search does.
  std::optional<TimeMs> earliest = reach(user_id, names_param, from, to);
  while (earliest && *earliest > from) {
    const TimeMs precision = std::max<TimeMs>(kMinuteMs, (to - from) / 200);
    if (precision <= kMinuteMs) break;
    from = std::max(from, *earliest - precision);
    to = *earliest;
    earliest = reach(user_id, names_param, from, to);
  }
  return earliest;
}

std::optional<TimeMs> ServerValues::reach(std::uint64_t user_id, const std::string& names,
                                          TimeMs from, TimeMs to) {
  // ISO 8601 reads any time from 1970 on; a plain number only from 1973 (parse_time).
  Value answer = get_json(fmt::format("/v1/users/{}/reach?from={}&to={}{}", user_id,
                                      format_iso_time(from), format_iso_time(to), names),
                          query_token_);
  const Value* earliest = answer.find("earliest");
  if (!earliest || earliest->is_null()) return std::nullopt;
  if (!earliest->is_number())
    throw std::runtime_error(fmt::format("{}: GET /v1/users/{}/reach: \"earliest\" is not a number",
                                         http_.address(), user_id));
  return static_cast<TimeMs>(earliest->number());
}

Value ServerValues::signals(std::uint64_t user_id, const std::vector<std::string>& names,
                            TimeMs as_of) {
  Value answer = get_json(fmt::format("/v1/users/{}/signals?as_of={}{}", user_id,
                                      format_iso_time(as_of), names_parameter(names)),
                          query_token_);
  const Value* signals = answer.find("signals");
  if (!signals || !signals->is_object())
    throw std::runtime_error(
        fmt::format("{}: GET /v1/users/{}/signals: the answer has no \"signals\" object",
                    http_.address(), user_id));
  return *signals;
}

}  // namespace signalbox
