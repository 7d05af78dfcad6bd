#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
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

  friend bool operator==(const FieldRequest&, const FieldRequest&) = default;
};

// A place content features come from (a table file, a model, a remote store). A Source
// answers batched lookups with a plain blocking call; it knows nothing of events, batching,
// caching, timeouts or threads, which the Materializer does. Implementations must be safe
// for concurrent lookup() calls.
class Source {
 public:
  virtual ~Source() = default;

  // Checks at start-up that this source can serve `request` (the field exists, the type
  // fits). Throws ConfigError at `where` otherwise.
  virtual void check_field(const FieldRequest& request, const ConfigLocation& where) const = 0;

  // For each key, the values of each requested field: result[k][f] answers keys[k] and
  // fields[f]. An unknown key gives empty (monostate) values. Throws on a source failure
  // (the Materializer then stores the features empty and counts the failure). May block;
  // a call that outlives its timeout is abandoned by the Materializer, not interrupted, and
  // its answer is then dropped.
  virtual std::vector<std::vector<FeatureValue>> lookup(std::span<const std::string> keys,
                                                        std::span<const FieldRequest> fields) = 0;

  // True when a lookup leaves the process (a network store) or is otherwise slow. The
  // Materializer then puts a feature cache in front of the source and a timeout on each
  // call unless the config says otherwise (`cache_bytes`, `timeout`).
  virtual bool remote() const { return false; }

  // Re-reads the data behind the source if it changed since it was read (always when
  // `force`). Returns true when new data was taken. Throws, keeping the old data in service,
  // when the new data does not load. Called from a background thread (every
  // `reload_interval`) and from Materializer::reload_sources() (SIGHUP), possibly while
  // lookups run. The default does nothing.
  virtual bool reload(bool force) { return false; }
};

// Builds a source from its config entry. Throws ConfigError naming the entry (and key) for
// a bad parameter or data that does not load.
using SourceFactory = std::function<std::unique_ptr<Source>(const SourceConfig& config)>;

// Registers `factory` for sources of kind `kind` (a name of [a-z0-9_]+; throws
// std::invalid_argument otherwise) with the parameters it reads (`{}` for none). A source of
// the kind may write those, the common ones (common_source_params()) and kind, path, key and
// model; anything else is refused before the factory runs (a declared parameter named like
// one of those throws std::invalid_argument). Registering a kind twice replaces
// the first, so a program may also replace a built-in kind. Safe to call from any thread,
// also during static initialisation (a plugin's constructor).
void register_source_kind(const std::string& kind, SourceFactory factory, ParamSpecs params);

// The registered kinds, sorted; the built-ins (fasttext, redis, table) among them.
std::vector<std::string> source_kinds();

// Builds the source a config entry describes with the factory of its kind. Throws
// ConfigError naming the entry when the kind is unknown (listing the known ones), a
// parameter that neither the kind nor the Materializer takes (with the closest known key),
// or what the factory throws.
std::unique_ptr<Source> make_source(const SourceConfig& config);

// The parameters kind `kind` declares (without the common ones); nullopt for an unknown kind.
std::optional<ParamSpecs> source_kind_params(const std::string& kind);

// Parameters every source may take, read by the Materializer (docs/sources.md): cache_bytes,
// cache_ttl, timeout, backoff, reload_interval.
const ParamSpecs& common_source_params();

// The text of parameter `key`, or `fallback` when absent.
std::string source_param(const SourceConfig& config, std::string_view key,
                         std::string_view fallback = "");

// Parameter `key` as a duration in milliseconds ("50ms", "10m"); `none` reads as 0 (no
// limit), absence as `fallback`. Throws ConfigError naming the parameter otherwise.
TimeMs source_duration(const SourceConfig& config, std::string_view key, TimeMs fallback);

}  // namespace signalbox
