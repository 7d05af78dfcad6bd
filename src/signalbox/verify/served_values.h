#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "signalbox/common/time.h"
#include "signalbox/common/value.h"

namespace signalbox {

// Where `verify` reads the values online serving answers: the store itself, through a
// read-only engine (StoreValues), or a running `signalbox serve` over HTTP (ServerValues).
// Not thread-safe: one caller at a time.
class ServedValues {
 public:
  virtual ~ServedValues() = default;

  // Stream time of what serves: the newest ts it has ingested; nullopt when it holds nothing.
  virtual std::optional<TimeMs> stream_time() = 0;
  // The earliest as_of in [from, to] at which the signals and views `names` (all when empty)
  // of the user can be answered (possibly up to a minute later than the exact earliest, never
  // earlier); nullopt when not even `to` can.
  virtual std::optional<TimeMs> earliest_answerable(std::uint64_t user_id,
                                                    const std::vector<std::string>& names,
                                                    TimeMs from, TimeMs to) = 0;
  // The signals and views `names` (all when empty) of the user as of `as_of`: the "signals"
  // object of the answer ({name: result}), as a client would read it from JSON. Throws QueryError
  // when the answer is refused for this user and time (see signals.md), std::runtime_error when the
  // values cannot be read at all.
  virtual Value signals(std::uint64_t user_id, const std::vector<std::string>& names,
                        TimeMs as_of) = 0;
  // What serves, for the report: "the store at PATH", "the server at URL".
  virtual std::string description() const = 0;
};

}  // namespace signalbox
