#pragma once

#include "signalbox/config/config.h"
#include "signalbox/engine/engine.h"
#include "signalbox/verify/served_values.h"

namespace signalbox {

// The values the store of a config answers, read through an engine that opens it read-only
// and never expires anything, exactly as `signalbox get` reads them; a RocksDB store can be
// read so beside a running `serve`, seeing what had been written when it opened. Not
// thread-safe.
class StoreValues : public ServedValues {
 public:
  // Throws ConfigError for a config the engine refuses and StorageError when the store does
  // not open.
  explicit StoreValues(const Config& config);

  std::optional<TimeMs> stream_time() override;
  std::optional<TimeMs> earliest_answerable(std::uint64_t user_id,
                                            const std::vector<std::string>& names, TimeMs from,
                                            TimeMs to) override;
  Value signals(std::uint64_t user_id, const std::vector<std::string>& names,
                TimeMs as_of) override;
  std::string description() const override;

 private:
  static Engine::Options read_only();
  Engine engine_;
};

}  // namespace signalbox
