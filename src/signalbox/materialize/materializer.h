#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "signalbox/config/config.h"
#include "signalbox/event/event.h"
#include "signalbox/event/value_ref.h"
#include "signalbox/materialize/source.h"

namespace signalbox {

// Turns events into materialized events: runs every configured feature (a query spec:
// source, key, field) over a batch. For each source it collects the keys the batch needs,
// deduplicates them, and makes one lookup() call; events whose key is absent or unknown get
// the feature empty; a source that throws leaves its features empty and is counted.
// materialize() is safe to call from several threads at once.
class Materializer {
 public:
  // Builds sources and features from `config`. Throws ConfigError (file:line: key: problem)
  // for an unknown source, a bad key reference, or a field the source cannot serve.
  explicit Materializer(const Config& config);
  ~Materializer();
  Materializer(const Materializer&) = delete;
  Materializer& operator=(const Materializer&) = delete;

  const FeatureNames& feature_names() const { return names_; }

  std::vector<MaterializedEvent> materialize(std::vector<Event>&& events);

  // Lookups that failed (source threw), per source name, since start.
  std::map<std::string, std::uint64_t> failures() const;
  // lookup() calls made, per source name, since start.
  std::map<std::string, std::uint64_t> lookups() const;

 private:
  struct SourceState;
  struct Feature;
  FeatureNames names_;
  std::vector<std::unique_ptr<SourceState>> sources_;
  std::vector<Feature> features_;
};

}  // namespace signalbox
