#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "signalbox/common/time.h"
#include "signalbox/event/decode.h"

namespace signalbox {

// A user picked for checking, with the span of its valid events in the log.
struct SampledUser {
  std::uint64_t user_id = 0;
  TimeMs first_ts = 0;
  TimeMs last_ts = 0;
};

// What one pass over the event logs found.
struct LogSample {
  // At most the sample size asked for, by user id ascending.
  std::vector<SampledUser> users;
  std::uint64_t lines = 0;           // lines read, blank ones included
  std::uint64_t valid_events = 0;    // lines that decode as an event
  std::uint64_t invalid_events = 0;  // non-blank lines that do not
  std::optional<TimeMs> log_end;     // the newest ts of a valid event; none without one
};

// Reads the NDJSON event logs `files` (plain or gzip) once and picks up to `sample_size` of
// the users with a valid event: those whose hash under `seed` is smallest (a bottom-k sample),
// so the pick is uniform over the users, the same for the same logs and seed whatever the
// order of their lines, and needs memory for `sample_size` users only. Events are decoded
// and validated as ingest does with `decode`; invalid lines are counted and skipped. Throws
// std::runtime_error naming the file when one cannot be read. Shares nothing between calls:
// safe from any thread.
LogSample sample_log_users(const std::vector<std::string>& files, std::size_t sample_size,
                           std::uint64_t seed, const DecodeOptions& decode);

}  // namespace signalbox
