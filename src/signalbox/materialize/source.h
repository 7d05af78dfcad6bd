#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "signalbox/config/config.h"
#include "signalbox/event/event.h"

namespace signalbox {

// What one feature asks of its source: which field, of which type, and for classifiers how
// many labels above which probability.
struct FieldRequest {
  std::string field;
  FeatureType type = FeatureType::kStrings;
  int top = 0;
  double min_prob = 0;
};

// A place content features come from (a table file, a model, a remote store). A Source
// answers batched lookups; it knows nothing of events, batching or caching, which the
// Materializer does. Implementations must be safe for concurrent lookup() calls.
class Source {
 public:
  virtual ~Source() = default;

  // Checks at start-up that this source can serve `request` (the field exists, the type
  // fits). Throws ConfigError at `where` otherwise.
  virtual void check_field(const FieldRequest& request, const ConfigLocation& where) const = 0;

  // For each key, the values of each requested field: result[k][f] answers keys[k] and
  // fields[f]. An unknown key gives empty (monostate) values. Throws on a source failure
  // (the Materializer then stores the features empty and counts the failure).
  virtual std::vector<std::vector<FeatureValue>> lookup(std::span<const std::string> keys,
                                                        std::span<const FieldRequest> fields) = 0;
};

// Builds the source a config entry describes. Throws ConfigError naming the entry when the
// kind is unknown or the file does not load.
std::unique_ptr<Source> make_source(const SourceConfig& config);

}  // namespace signalbox
