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
//
// A feature's key may name an earlier feature (a pin's board, then the board's topic), so
// features run in stages: stage 0 keys on event fields only, stage n+1 on features of
// stage n or below; each source gets one lookup() per stage that uses it.
//
// Immutable after construction; materialize() and the counters are safe to call from
// several threads at once (the sources must allow concurrent lookup(), as Source requires).
class Materializer {
 public:
  // Builds sources and features from `config`. Throws ConfigError (file:line: key: problem)
  // for an unknown source, a bad key reference, or a field the source cannot serve.
  explicit Materializer(const Config& config);
  // The same, but a source whose name is in `prebuilt` is taken from there instead of being
  // built from its config entry (it need not have one). For tests and embedders that bring
  // their own Source.
  Materializer(const Config& config, std::map<std::string, std::unique_ptr<Source>> prebuilt);
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
  struct Step;
  FeatureNames names_;
  std::vector<std::unique_ptr<SourceState>> sources_;
  std::vector<Feature> features_;
  std::vector<Step> steps_;  // one per (stage, source), in stage order
};

}  // namespace signalbox
