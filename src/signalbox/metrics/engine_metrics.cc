#include "signalbox/metrics/engine_metrics.h"

#include <string>

#include "signalbox/engine/engine.h"
#include "signalbox/metrics/scrape_family.h"

namespace signalbox {

namespace {

using prometheus::MetricType;

// The per-source metrics of docs/sources.md, one sample per source (label source="name").
void collect_source_metrics(const std::vector<SourceStats>& sources,
                            std::vector<prometheus::MetricFamily>& out) {
  auto family = [&](std::string name, MetricType type, std::string help, bool cache_only,
                    auto value) {
    ScrapeFamily f(std::move(name), std::move(help), type);
    for (const SourceStats& s : sources) {
      if (cache_only && !s.cached) continue;
      f.add(static_cast<double>(value(s)), {{"source", s.source}});
    }
    if (!f.empty()) out.push_back(f.take());
  };
  using S = const SourceStats&;
  family("signalbox_source_lookups_total", MetricType::Counter, "Source lookup() calls made.",
         false, [](S s) { return s.lookups; });
  family("signalbox_source_keys_total", MetricType::Counter,
         "Keys sent to source lookup() calls, after deduplication and the cache.", false,
         [](S s) { return s.keys; });
  family("signalbox_source_failures_total", MetricType::Counter,
         "Source lookup() calls that threw or answered the wrong shape.", false,
         [](S s) { return s.failures; });
  family("signalbox_source_timeouts_total", MetricType::Counter,
         "Source lookup() calls abandoned at their timeout.", false,
         [](S s) { return s.timeouts; });
  family("signalbox_source_skipped_total", MetricType::Counter,
         "Source lookup() calls not made while the source was backing off.", false,
         [](S s) { return s.skipped; });
  family("signalbox_source_degraded_events_total", MetricType::Counter,
         "Events stored with a source's features empty because it failed, timed out or was "
         "backing off.",
         false, [](S s) { return s.degraded_events; });
  family("signalbox_source_lookup_seconds_total", MetricType::Counter,
         "Time spent in source lookup() calls that returned.", false,
         [](S s) { return static_cast<double>(s.lookup_micros) / 1e6; });
  family("signalbox_source_reloads_total", MetricType::Counter,
         "Source reloads that took new data.", false, [](S s) { return s.reloads; });
  family("signalbox_source_reload_failures_total", MetricType::Counter,
         "Source reloads that failed and kept the old data.", false,
         [](S s) { return s.reload_failures; });
  family("signalbox_source_backing_off", MetricType::Gauge,
         "1 while the source is skipped after failures, else 0.", false,
         [](S s) { return s.backing_off ? 1 : 0; });
  family("signalbox_feature_cache_hits_total", MetricType::Counter,
         "Keys answered from the feature cache.", true, [](S s) { return s.cache.hits; });
  family("signalbox_feature_cache_misses_total", MetricType::Counter,
         "Keys not in the feature cache, or expired.", true, [](S s) { return s.cache.misses; });
  family("signalbox_feature_cache_evictions_total", MetricType::Counter,
         "Feature cache entries dropped to stay within cache_bytes.", true,
         [](S s) { return s.cache.evictions; });
  family("signalbox_feature_cache_expirations_total", MetricType::Counter,
         "Feature cache entries dropped after cache_ttl.", true,
         [](S s) { return s.cache.expirations; });
  family("signalbox_feature_cache_entries", MetricType::Gauge, "Feature cache entries held.", true,
         [](S s) { return s.cache.entries; });
  family("signalbox_feature_cache_bytes", MetricType::Gauge, "Bytes charged to the feature cache.",
         true, [](S s) { return s.cache.bytes; });
  family("signalbox_feature_cache_capacity_bytes", MetricType::Gauge,
         "The feature cache's cache_bytes.", true, [](S s) { return s.cache.capacity_bytes; });
}

}  // namespace

std::vector<prometheus::MetricFamily> EngineMetrics::Collect() const {
  const EngineCounters& c = engine_.counters();
  StoreStats store = engine_.store_stats();
  TimeMs stream_time = engine_.stream_time();
  std::vector<prometheus::MetricFamily> out;
  auto one = [&](std::string name, MetricType type, std::string help, double value) {
    out.push_back(ScrapeFamily(std::move(name), std::move(help), type).add(value).take());
  };
  auto count = [](const auto& counter) { return static_cast<double>(counter.load()); };
  one("signalbox_events_accepted_total", MetricType::Counter,
      "Events accepted since start, duplicates included.", count(c.events_accepted));
  out.push_back(ScrapeFamily("signalbox_events_rejected_total",
                             "Events rejected since start: invalid (a field breaks a rule) or "
                             "late (more than the late horizon behind stream time).",
                             MetricType::Counter)
                    .add(count(c.events_rejected_invalid), {{"reason", "invalid"}})
                    .add(count(c.events_rejected_late), {{"reason", "late"}})
                    .take());
  one("signalbox_events_duplicate_total", MetricType::Counter,
      "Accepted events that were already stored, so changed nothing.", count(c.events_duplicate));
  one("signalbox_queries_total", MetricType::Counter,
      "User queries run since start (a batchGet runs one per user id).", count(c.queries));
  one("signalbox_query_tiles_read_total", MetricType::Counter,
      "Stored tile parts (one state's part of one tile) queries read; runs of past days found "
      "in the span cache before the read leave theirs unread.",
      count(c.query_tiles_read));
  // The store reports an empty stream as a time far before the epoch.
  one("signalbox_stream_time_seconds", MetricType::Gauge,
      "Stream time: the highest event ts ingested, in seconds since the Unix epoch (0 before "
      "the first event).",
      stream_time < 0 ? 0.0 : static_cast<double>(stream_time) / 1000.0);
  if (const SpanCache* cache = engine_.span_cache()) {
    one("signalbox_query_span_cache_hits_total", MetricType::Counter,
        "Runs of tiles (a window's base and whole days) a query found merged in the span cache.",
        static_cast<double>(cache->hits()));
    one("signalbox_query_span_cache_version_hits_total", MetricType::Counter,
        "Of the hits, runs of tiles of past days found by the user's tile version (embedded "
        "store) rather than by a hash of their bytes.",
        static_cast<double>(cache->version_hits()));
    one("signalbox_query_span_cache_misses_total", MetricType::Counter,
        "Runs of tiles a query had to merge tile by tile (then cached).",
        static_cast<double>(cache->misses()));
  }
  one("signalbox_bootstrap_events_folded_total", MetricType::Counter,
      "Stored raw events folded into new or changed signals' state since start.",
      count(c.bootstrap_events_folded));
  one("signalbox_bootstrap_states_pending", MetricType::Gauge,
      "States of new or changed signals still being built from the stored raw events.",
      count(c.bootstrap_states_pending));
  ScrapeFamily complete("signalbox_signal_complete_since_seconds",
                        "From when each signal's state holds every event, in seconds since the "
                        "Unix epoch (0: all of history); windows that start earlier are answered "
                        "as incomplete.",
                        MetricType::Gauge);
  for (const SignalConfig& s : engine_.config().signals)
    complete.add(static_cast<double>(engine_.complete_since(s.name)) / 1000.0,
                 {{"signal", s.name}});
  out.push_back(complete.take());
  one("signalbox_store_events", MetricType::Gauge, "Raw events in the event store (an estimate).",
      static_cast<double>(store.events));
  // RocksDB's key estimate for the tile column family. Not a count: every merge operand not
  // yet compacted counts once (over), and each deletion from folds and expiry is subtracted
  // twice (under). An exact count needs a scan of every tile, too slow for a scrape.
  one("signalbox_store_tiles", MetricType::Gauge,
      "State tiles in the state store: RocksDB's estimate, which counts uncompacted tile "
      "updates and undercounts after deletions; a trend, not a count.",
      static_cast<double>(store.tiles));
  one("signalbox_store_disk_bytes", MetricType::Gauge, "Bytes of the store's table files on disk.",
      static_cast<double>(store.bytes_on_disk));
  one("signalbox_store_unflushed_tile_bytes", MetricType::Gauge,
      "Bytes of tile updates committed (in the tile journal) but not yet merged into the stored "
      "tiles; a crash leaves these to merge at the next open.",
      static_cast<double>(store.unflushed_tile_bytes));
  collect_source_metrics(engine_.materializer().stats(), out);
  return out;
}

}  // namespace signalbox
