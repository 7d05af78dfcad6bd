#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "signalbox/config/config.h"
#include "signalbox/event/event.h"
#include "signalbox/event/value_ref.h"
#include "signalbox/materialize/feature_cache.h"
#include "signalbox/materialize/source.h"

namespace signalbox {

class LookupRunner;

// What one source did since start, for /metrics. Each field names the metric it should be
// published as (label source="<name>"; docs/sources.md lists them all).
struct SourceStats {
  std::string source;                 // the source's name in the config
  std::uint64_t lookups = 0;          // signalbox_source_lookups_total: lookup() calls made
  std::uint64_t keys = 0;             // signalbox_source_keys_total: keys sent to lookup()
  std::uint64_t failures = 0;         // signalbox_source_failures_total: calls that threw or
                                      //   answered the wrong shape
  std::uint64_t timeouts = 0;         // signalbox_source_timeouts_total: calls abandoned at
                                      //   their timeout
  std::uint64_t skipped = 0;          // signalbox_source_skipped_total: calls not made while
                                      //   the source was backing off
  std::uint64_t degraded_events = 0;  // signalbox_source_degraded_events_total: events stored
                                      //   with this source's features empty for those reasons
  std::uint64_t lookup_micros = 0;    // signalbox_source_lookup_seconds_total (÷ 1e6): time
                                      //   spent in calls that returned
  std::uint64_t reloads = 0;          // signalbox_source_reloads_total: new data taken
  std::uint64_t reload_failures = 0;  // signalbox_source_reload_failures_total: reloads that
                                      //   failed and kept the old data
  bool backing_off = false;           // signalbox_source_backing_off (0/1 gauge)
  bool cached = false;                // whether the source has a cache; `cache` is all zero if not
  // signalbox_feature_cache_{hits,misses,evictions,expirations}_total and the gauges
  // signalbox_feature_cache_{entries,bytes,capacity_bytes}.
  FeatureCacheStats cache;
};

// How a Materializer runs, beyond what the config says.
struct MaterializerOptions {
  // Threads that make lookup() calls off the caller's thread. 0: two per source, at least 4.
  std::size_t lookup_threads = 0;
  // The clock for cache TTLs, backoff and reload checks; SteadyClock::now when empty.
  ClockFn clock;
};

// Turns events into materialized events: runs every configured feature (a query spec:
// source, key, field) over a batch. For each source it collects the keys the batch needs,
// deduplicates them, serves what it can from the source's cache, and makes one lookup()
// call for the rest; events whose key is absent or unknown get the feature empty.
//
// A feature's key may name an earlier feature (a pin's board, then the board's topic), so
// features run in stages: stage 0 keys on event fields only, stage n+1 on features of
// stage n or below; each source gets at most one lookup() per stage that uses it. The calls
// of one stage run at the same time, on a pool of threads, so a stage takes as long as its
// slowest source. A call past its source's `timeout` is abandoned: its features are left
// empty and counted, and the batch goes on. A source that fails or times out three times in
// a row, or has two abandoned calls still running, is skipped for its `backoff`.
//
// Sources whose data can change (a table file) are checked every `reload_interval` in the
// background, and all at once by reload_sources().
//
// materialize(), reload_sources() and the counters are safe to call from several threads
// at once (the sources must allow concurrent lookup(), as Source requires).
class Materializer {
 public:
  // Builds sources and features from `config`. Throws ConfigError (file:line: key: problem)
  // for an unknown source, a bad key reference, a field the source cannot serve, or a bad
  // source parameter.
  explicit Materializer(const Config& config);
  // The same, but a source whose name is in `prebuilt` is taken from there instead of being
  // built from its config entry (it need not have one; when it has, the entry's common
  // parameters such as `timeout` apply). For tests and embedders that bring their own Source.
  Materializer(const Config& config, std::map<std::string, std::unique_ptr<Source>> prebuilt,
               MaterializerOptions options = {});
  // Waits for lookups and reloads still running, abandoned ones included.
  ~Materializer();
  Materializer(const Materializer&) = delete;
  Materializer& operator=(const Materializer&) = delete;

  const FeatureNames& feature_names() const { return names_; }

  // The events with their features, in input order. Never throws for a source failure.
  std::vector<MaterializedEvent> materialize(std::vector<Event>&& events);

  // Makes every source read its data again now (for SIGHUP). Blocks until done. Returns one
  // message per source whose reload failed ("<source>: <why>"); such a source keeps serving
  // the data it had. Successful reloads also empty that source's cache.
  std::vector<std::string> reload_sources();

  // Per source, in config order.
  std::vector<SourceStats> stats() const;
  // Lookups that failed (threw or answered the wrong shape), per source name, since start.
  std::map<std::string, std::uint64_t> failures() const;
  // lookup() calls made, per source name, since start.
  std::map<std::string, std::uint64_t> lookups() const;

 private:
  struct SourceState;
  struct Feature;
  struct Step;
  struct StepWork;

  SteadyClock::time_point now() const;
  void run_stage(std::vector<MaterializedEvent>& out, std::size_t begin, std::size_t end);
  void collect_keys(const std::vector<MaterializedEvent>& out, StepWork& work) const;
  void schedule_reloads(SteadyClock::time_point now);
  std::string reload_one(SourceState& state, bool force);

  MaterializerOptions options_;
  FeatureNames names_;
  std::vector<std::unique_ptr<SourceState>> sources_;
  std::vector<Feature> features_;
  std::vector<Step> steps_;               // one per (stage, source), in stage order
  std::unique_ptr<LookupRunner> runner_;  // last: stopped before the sources go
};

}  // namespace signalbox
