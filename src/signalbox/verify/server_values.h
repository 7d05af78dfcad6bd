#pragma once

#include <string>

#include "signalbox/config/config.h"
#include "signalbox/verify/http_getter.h"
#include "signalbox/verify/served_values.h"

namespace signalbox {

// The values a running `signalbox serve` answers over HTTP: stream time from GET /metrics
// (signalbox_stream_time_seconds), the answerable edge from GET /v1/users/{id}/reach, the
// values from GET /v1/users/{id}/signals?as_of=T. When `config` has server.auth, each request
// carries the token of its kind (query, metrics), read as the server reads it. Not
// thread-safe.
class ServerValues : public ServedValues {
 public:
  // Throws ConfigError when a token of server.auth cannot be read.
  ServerValues(const ServerUrl& url, const Config& config);

  std::optional<TimeMs> stream_time() override;
  std::optional<TimeMs> earliest_answerable(std::uint64_t user_id,
                                            const std::vector<std::string>& names, TimeMs from,
                                            TimeMs to) override;
  Value signals(std::uint64_t user_id, const std::vector<std::string>& names,
                TimeMs as_of) override;
  std::string description() const override;

 private:
  // One GET /v1/users/{id}/reach over [from, to]: its "earliest".
  std::optional<TimeMs> reach(std::uint64_t user_id, const std::string& names, TimeMs from,
                              TimeMs to);
  // The JSON of a 200 answer to GET `target`. Throws QueryError with the server's message
  // for a 400, std::runtime_error naming the server and the status for anything else.
  Value get_json(const std::string& target, const std::string& token);

  HttpGetter http_;
  std::string query_token_;
  std::string metrics_token_;
};

}  // namespace signalbox
