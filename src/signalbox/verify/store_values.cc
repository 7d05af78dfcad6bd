#include "signalbox/verify/store_values.h"

#include <fmt/format.h>

#include "signalbox/backfill/json_value.h"
#include "signalbox/store/tiles.h"

namespace signalbox {

namespace {

// Searching the answerable edge to the minute costs a few dozen plans per user; finer would
// change nothing a sample of times could tell.
constexpr TimeMs kEdgePrecision = kMinuteMs;

}  // namespace

Engine::Options StoreValues::read_only() {
  Engine::Options options;
  options.read_only = true;
  options.auto_expire = false;
  return options;
}

StoreValues::StoreValues(const Config& config) : engine_(config, read_only()) {}

std::optional<TimeMs> StoreValues::stream_time() {
  const TimeMs t = engine_.stream_time();
  if (t == kBeginningOfTime) return std::nullopt;
  return t;
}

std::optional<TimeMs> StoreValues::earliest_answerable(std::uint64_t user_id,
                                                       const std::vector<std::string>& names,
                                                       TimeMs from, TimeMs to) {
  return engine_.earliest_answerable(user_id, names, from, to, kEdgePrecision);
}

Value StoreValues::signals(std::uint64_t user_id, const std::vector<std::string>& names,
                           TimeMs as_of) {
  // Through JSON, so that the values compared are those a client reads, as the server's are.
  Value answer = parse_json_value(engine_.query(user_id, names, as_of).to_json());
  const Value* signals = answer.find("signals");
  return signals ? *signals : Value(Value::Object{});
}

std::string StoreValues::description() const {
  const Config& config = engine_.config();
  if (config.storage.kind == "rocksdb")
    return fmt::format("the store at {}", config.storage.path.string());
  return fmt::format("the {} store", config.storage.kind);
}

}  // namespace signalbox
