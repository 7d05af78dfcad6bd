#include "signalbox/materialize/materializer.h"
#include "signalbox/materialize/field_text.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "signalbox/common/error.h"
#include "signalbox/materialize/lookup_runner.h"

namespace signalbox {

namespace {

// A source is skipped for its backoff after this many failed or timed-out calls in a row.
constexpr int kFailuresBeforeBackoff = 3;
// Calls abandoned at their timeout keep a pool thread until they return; past this many per
// source, the source is skipped, so a hung backend cannot take the whole pool.
constexpr int kMaxAbandoned = 2;

constexpr std::size_t kDefaultRemoteCacheBytes = 64 << 20;
constexpr TimeMs kDefaultRemoteTimeoutMs = 50;
constexpr TimeMs kDefaultCacheTtlMs = 10 * kMinuteMs;
constexpr TimeMs kDefaultBackoffMs = 1 * kSecondMs;
constexpr TimeMs kDefaultReloadIntervalMs = 10 * kSecondMs;

// Lets the per-batch key index be probed with a string_view, without a copy per event.
struct KeyHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// `cache_bytes`: a byte count, optionally in KiB, MiB or GiB; 0 turns the cache off.
std::size_t cache_bytes(const SourceConfig& config, std::size_t fallback) {
  auto it = config.params.find("cache_bytes");
  if (it == config.params.end()) return fallback;
  std::string_view text = it->second.text;
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  std::string_view unit(end, text.data() + text.size() - end);
  std::uint64_t scale = unit.empty()    ? 1
                        : unit == "KiB" ? 1ull << 10
                        : unit == "MiB" ? 1ull << 20
                        : unit == "GiB" ? 1ull << 30
                                        : 0;
  if (ec != std::errc() || end == text.data() || scale == 0 || n > (1ull << 50) / scale) {
    throw_config_error(it->second.where, fmt::format("sources.{}.cache_bytes", config.name),
                       fmt::format("bad size \"{}\" (use bytes, or KiB, MiB or GiB, e.g. 64MiB; "
                                   "0 for no cache)",
                                   text));
  }
  return static_cast<std::size_t>(n * scale);
}

}  // namespace

struct Materializer::SourceState {
  std::string name;
  std::unique_ptr<Source> source;
  SteadyClock::duration timeout{0};  // zero: none
  SteadyClock::duration backoff{0};  // zero: never skipped for failures
  SteadyClock::duration reload_interval{0};
  std::unique_ptr<FeatureCache> cache;  // null: no cache

  std::atomic<std::uint64_t> lookups{0};
  std::atomic<std::uint64_t> keys{0};
  std::atomic<std::uint64_t> failures{0};
  std::atomic<std::uint64_t> timeouts{0};
  std::atomic<std::uint64_t> skipped{0};
  std::atomic<std::uint64_t> degraded_events{0};
  std::atomic<std::uint64_t> lookup_micros{0};
  std::atomic<std::uint64_t> reloads{0};
  std::atomic<std::uint64_t> reload_failures{0};

  // Calls abandoned at their timeout that have not returned yet. Briefly -1 when a call
  // returns before its abandonment is counted.
  std::atomic<int> abandoned{0};
  std::atomic<SteadyClock::rep> next_reload_check{0};
  std::atomic<bool> reload_running{false};

  mutable std::mutex health_mutex;  // guards what follows
  int consecutive_failures = 0;
  SteadyClock::time_point skip_until{};
  bool backing_off = false;

  // Whether a call may be made now.
  bool admit(SteadyClock::time_point now) {
    if (abandoned.load(std::memory_order_relaxed) >= kMaxAbandoned) return false;
    std::lock_guard lock(health_mutex);
    return now >= skip_until;
  }

  void succeeded() {
    std::lock_guard lock(health_mutex);
    consecutive_failures = 0;
    if (backing_off) {
      backing_off = false;
      spdlog::info("source {}: answering again", name);
    }
  }

  void failed(SteadyClock::time_point now, std::string_view why) {
    std::lock_guard lock(health_mutex);
    if (++consecutive_failures < kFailuresBeforeBackoff || backoff.count() == 0) return;
    skip_until = now + backoff;
    if (!backing_off) {
      backing_off = true;
      spdlog::warn(
          "source {}: {} failed lookups in a row (last: {}); skipping it for {} ms at a "
          "time until it answers",
          name, consecutive_failures, why,
          std::chrono::duration_cast<std::chrono::milliseconds>(backoff).count());
    }
  }
};

struct Materializer::Feature {
  std::size_t source = 0;  // index into sources_
  ValueRef key;
  FieldRequest request;
  int stage = 0;
};

// The features of one source that can share a lookup: same stage, so none keys on another.
struct Materializer::Step {
  int stage = 0;
  std::size_t source = 0;
  std::vector<std::size_t> features;  // indexes into features_, in config order
  std::vector<FieldRequest> fields;   // fields[j] serves features[j]
  std::string cache_prefix;           // the same for steps of one source asking the same fields
};

// One step's share of one batch.
struct Materializer::StepWork {
  static constexpr std::uint32_t kNoKey = 0xffffffff;

  const Step* step = nullptr;
  std::vector<std::string> keys;               // deduplicated, in order of first appearance
  std::vector<std::uint32_t> slots;            // [j * events + e]: index into keys, or kNoKey
  std::vector<const FeatureCache::Row*> rows;  // per key; null: no answer
  std::vector<std::shared_ptr<const FeatureCache::Row>> held;  // keeps cached rows alive
  std::vector<std::uint32_t> sent;                             // call->keys[i] is keys[sent[i]]
  std::shared_ptr<LookupCall> call;                            // null: nothing to ask
};

Materializer::Materializer(const Config& config) : Materializer(config, {}) {}

Materializer::Materializer(const Config& config,
                           std::map<std::string, std::unique_ptr<Source>> prebuilt,
                           MaterializerOptions options)
    : options_(std::move(options)) {
  std::map<std::string, std::size_t, std::less<>> source_index;
  auto add_source = [&](const SourceConfig& sc, std::unique_ptr<Source> source) {
    auto state = std::make_unique<SourceState>();
    state->name = sc.name;
    state->source = std::move(source);
    const bool remote = state->source->remote();
    auto ms = [](TimeMs t) { return std::chrono::milliseconds(t); };
    state->timeout = ms(source_duration(sc, "timeout", remote ? kDefaultRemoteTimeoutMs : 0));
    state->backoff = ms(source_duration(sc, "backoff", kDefaultBackoffMs));
    state->reload_interval = ms(source_duration(sc, "reload_interval", kDefaultReloadIntervalMs));
    std::size_t bytes = cache_bytes(sc, remote ? kDefaultRemoteCacheBytes : 0);
    if (bytes > 0) {
      FeatureCache::Options cache;
      cache.capacity_bytes = bytes;
      TimeMs ttl = source_duration(sc, "cache_ttl", kDefaultCacheTtlMs);
      // `none`: entries live until evicted.
      cache.ttl = ttl > 0 ? SteadyClock::duration(ms(ttl)) : std::chrono::hours(24 * 365 * 100);
      cache.shards = bytes >= (16u << 20) ? 8 : 1;
      cache.clock = options_.clock;
      state->cache = std::make_unique<FeatureCache>(std::move(cache));
    }
    source_index[sc.name] = sources_.size();
    sources_.push_back(std::move(state));
  };
  // Every configured source is built, used or not, so a broken one fails at start-up.
  for (const SourceConfig& sc : config.sources) {
    auto it = prebuilt.find(sc.name);
    if (it != prebuilt.end()) {
      add_source(sc, std::move(it->second));
      prebuilt.erase(it);
    } else {
      add_source(sc, make_source(sc));
    }
  }
  for (auto& [name, source] : prebuilt) {
    SourceConfig bare;
    bare.name = name;
    add_source(bare, std::move(source));
  }

  std::vector<std::string> all_names;
  for (const FeatureConfig& fc : config.features) all_names.push_back(fc.name);
  names_ = FeatureNames(all_names);

  std::vector<std::string> earlier;
  features_.reserve(config.features.size());
  for (std::size_t i = 0; i < config.features.size(); ++i) {
    const FeatureConfig& fc = config.features[i];
    auto src = source_index.find(fc.source);
    if (src == source_index.end()) {
      throw_config_error(fc.where, fmt::format("features[{}].source", i),
                         fmt::format("unknown source \"{}\"", fc.source));
    }
    Feature feature;
    feature.source = src->second;

    // Only earlier features are visible, which rules out cycles and makes config order a
    // valid evaluation order.
    const std::string key_key = fmt::format("features[{}].key", i);
    std::optional<ValueRef> key = ValueRef::parse(fc.key, FeatureNames(earlier));
    if (!key) {
      auto later = std::find(all_names.begin() + i, all_names.end(), fc.key);
      if (later != all_names.end()) {
        throw_config_error(fc.where, key_key,
                           fmt::format("feature \"{}\" is not defined before this one; a key may "
                                       "only use earlier features",
                                       fc.key));
      }
      throw_config_error(fc.where, key_key,
                         fmt::format("\"{}\" is neither an event field (item_id, query, action, "
                                     "attrs.NAME) nor an earlier feature",
                                     fc.key));
    }
    if (key->kind() == ValueRef::Kind::kFeature) {
      std::optional<std::size_t> dep = names_.index(key->text());
      if (!dep || *dep >= i) throw_config_error(fc.where, key_key, "cannot resolve this feature");
      const Feature& dependency = features_[*dep];
      if (dependency.request.type != FeatureType::kStrings) {
        throw_config_error(fc.where, key_key,
                           fmt::format("feature \"{}\" is a {}; a key needs strings", fc.key,
                                       feature_type_name(dependency.request.type)));
      }
      feature.stage = dependency.stage + 1;
    }
    feature.key = std::move(*key);
    feature.request = FieldRequest{fc.field, fc.type, fc.top, fc.min_prob};
    sources_[feature.source]->source->check_field(feature.request, fc.where);
    features_.push_back(std::move(feature));
    earlier.push_back(fc.name);
  }

  int stages = 0;
  for (const Feature& f : features_) stages = std::max(stages, f.stage + 1);
  for (int stage = 0; stage < stages; ++stage) {
    std::size_t first_step = steps_.size();
    for (std::size_t i = 0; i < features_.size(); ++i) {
      const Feature& f = features_[i];
      if (f.stage != stage) continue;
      auto step = std::find_if(steps_.begin() + first_step, steps_.end(),
                               [&](const Step& s) { return s.source == f.source; });
      if (step == steps_.end()) {
        steps_.push_back(Step{stage, f.source, {}, {}, {}});
        step = steps_.end() - 1;
      }
      step->features.push_back(i);
      step->fields.push_back(f.request);
    }
  }
  // A cached row holds the answers to one step's fields, so the cache key says which fields;
  // steps asking the same fields of one source share entries.
  for (std::size_t i = 0; i < steps_.size(); ++i) {
    std::uint32_t tag = static_cast<std::uint32_t>(i);
    for (std::size_t j = 0; j < i; ++j) {
      if (steps_[j].source == steps_[i].source && steps_[j].fields == steps_[i].fields) {
        tag = static_cast<std::uint32_t>(j);
        break;
      }
    }
    steps_[i].cache_prefix.assign(reinterpret_cast<const char*>(&tag), sizeof tag);
  }

  std::size_t threads = options_.lookup_threads;
  if (threads == 0) threads = std::max<std::size_t>(4, 2 * sources_.size());
  runner_ = std::make_unique<LookupRunner>(threads);
  SteadyClock::rep first_check = now().time_since_epoch().count();
  for (auto& s : sources_) {
    s->next_reload_check.store(first_check + s->reload_interval.count());
  }
}

Materializer::~Materializer() {
  // Lookups and reloads still running use the sources: let them finish first.
  runner_.reset();
}

SteadyClock::time_point Materializer::now() const {
  return options_.clock ? options_.clock() : SteadyClock::now();
}

std::vector<MaterializedEvent> Materializer::materialize(std::vector<Event>&& events) {
  std::vector<MaterializedEvent> out;
  out.reserve(events.size());
  for (Event& e : events) {
    out.push_back(MaterializedEvent{std::move(e), std::vector<FeatureValue>(names_.size())});
  }
  events.clear();
  if (out.empty()) return out;
  schedule_reloads(now());

  std::size_t begin = 0;
  while (begin < steps_.size()) {
    std::size_t end = begin;
    while (end < steps_.size() && steps_[end].stage == steps_[begin].stage) ++end;
    run_stage(out, begin, end);
    begin = end;
  }
  return out;
}

void Materializer::collect_keys(const std::vector<MaterializedEvent>& out, StepWork& work) const {
  std::unordered_map<std::string, std::uint32_t, KeyHash, std::equal_to<>> key_index;
  const Step& step = *work.step;
  work.slots.assign(step.features.size() * out.size(), StepWork::kNoKey);
  for (std::size_t j = 0; j < step.features.size(); ++j) {
    const ValueRef& key = features_[step.features[j]].key;
    for (std::size_t e = 0; e < out.size(); ++e) {
      std::uint32_t* slot = &work.slots[j * out.size() + e];
      bool seen = false;
      key.for_each_string(out[e], [&](std::string_view value) {
        // A multi-valued key (a feature with several strings) is looked up by its first.
        if (seen) return;
        seen = true;
        auto it = key_index.find(value);
        if (it == key_index.end()) {
          auto next = static_cast<std::uint32_t>(work.keys.size());
          it = key_index.emplace(std::string(value), next).first;
          work.keys.emplace_back(value);
        }
        *slot = it->second;
      });
    }
  }
}

void Materializer::run_stage(std::vector<MaterializedEvent>& out, std::size_t begin,
                             std::size_t end) {
  std::vector<StepWork> works(end - begin);
  std::vector<std::shared_ptr<LookupCall>> calls;
  SteadyClock::time_point start = now();
  std::string probe;

  // Keys, cache hits, and one call per source for the rest.
  for (std::size_t i = 0; i < works.size(); ++i) {
    StepWork& work = works[i];
    work.step = &steps_[begin + i];
    collect_keys(out, work);
    if (work.keys.empty()) continue;
    SourceState& state = *sources_[work.step->source];
    work.rows.assign(work.keys.size(), nullptr);

    std::vector<std::string> to_send;
    if (state.cache) {
      for (std::size_t k = 0; k < work.keys.size(); ++k) {
        probe.assign(work.step->cache_prefix);
        probe.append(work.keys[k]);
        if (auto row = state.cache->get(probe)) {
          work.rows[k] = row.get();
          work.held.push_back(std::move(row));
        } else {
          work.sent.push_back(static_cast<std::uint32_t>(k));
          to_send.push_back(work.keys[k]);
        }
      }
    } else {
      work.sent.resize(work.keys.size());
      for (std::size_t k = 0; k < work.sent.size(); ++k) {
        work.sent[k] = static_cast<std::uint32_t>(k);
      }
      to_send = std::move(work.keys);
    }
    if (work.sent.empty()) continue;
    if (!state.admit(start)) {
      state.skipped.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    auto call = std::make_shared<LookupCall>();
    call->source = state.source.get();
    call->keys = std::move(to_send);
    call->fields = work.step->fields;
    call->timeout = state.timeout;
    call->on_late_return = [&state] { state.abandoned.fetch_sub(1, std::memory_order_relaxed); };
    state.lookups.fetch_add(1, std::memory_order_relaxed);
    state.keys.fetch_add(call->keys.size(), std::memory_order_relaxed);
    work.call = call;
    calls.push_back(std::move(call));
  }

  // One call without a deadline needs no other thread.
  if (calls.size() == 1 && calls[0]->timeout.count() == 0) {
    LookupRunner::run_here(*calls[0]);
  } else {
    runner_->run(calls);
  }

  for (StepWork& work : works) {
    if (!work.call) continue;
    LookupCall& call = *work.call;
    SourceState& state = *sources_[work.step->source];
    if (call.outcome == LookupCall::Outcome::kAnswered) {
      // A source answering the wrong shape is as broken as one that throws.
      bool ok = call.rows.size() == call.keys.size();
      for (std::size_t k = 0; ok && k < call.rows.size(); ++k) {
        ok = call.rows[k].size() == work.step->fields.size();
      }
      if (!ok) {
        call.outcome = LookupCall::Outcome::kFailed;
        call.error = "lookup answered the wrong shape";
      }
    }
    switch (call.outcome) {
      case LookupCall::Outcome::kAnswered:
        state.succeeded();
        state.lookup_micros.fetch_add(call.took.count(), std::memory_order_relaxed);
        for (std::size_t i = 0; i < call.rows.size(); ++i) {
          if (state.cache) {
            auto row = std::make_shared<const FeatureCache::Row>(std::move(call.rows[i]));
            probe.assign(work.step->cache_prefix);
            probe.append(call.keys[i]);
            state.cache->put(probe, row);
            work.rows[work.sent[i]] = row.get();
            work.held.push_back(std::move(row));
          } else {
            work.rows[work.sent[i]] = &call.rows[i];
          }
        }
        break;
      case LookupCall::Outcome::kFailed:
        // The event is still worth storing without these features: signals that do not use
        // them stay right, and dropping events would lose data the contract says we keep.
        state.lookup_micros.fetch_add(call.took.count(), std::memory_order_relaxed);
        state.failures.fetch_add(1, std::memory_order_relaxed);
        state.failed(now(), call.error);
        break;
      case LookupCall::Outcome::kTimedOut:
        state.timeouts.fetch_add(1, std::memory_order_relaxed);
        state.abandoned.fetch_add(1, std::memory_order_relaxed);
        state.failed(now(), "timed out");
        break;
      case LookupCall::Outcome::kPending:
        break;
    }
  }

  // Each event takes its rows; an event that needed a row it did not get is degraded.
  std::vector<bool> degraded;
  for (StepWork& work : works) {
    if (work.rows.empty()) continue;
    const Step& step = *work.step;
    degraded.assign(out.size(), false);
    for (std::size_t j = 0; j < step.features.size(); ++j) {
      std::size_t feature = step.features[j];
      for (std::size_t e = 0; e < out.size(); ++e) {
        std::uint32_t slot = work.slots[j * out.size() + e];
        if (slot == StepWork::kNoKey) continue;
        if (const FeatureCache::Row* row = work.rows[slot]) {
          out[e].features[feature] = (*row)[j];
        } else {
          degraded[e] = true;
        }
      }
    }
    auto n = static_cast<std::uint64_t>(std::count(degraded.begin(), degraded.end(), true));
    if (n > 0) sources_[step.source]->degraded_events.fetch_add(n, std::memory_order_relaxed);
  }
}

void Materializer::schedule_reloads(SteadyClock::time_point now) {
  const SteadyClock::rep t = now.time_since_epoch().count();
  for (auto& s : sources_) {
    if (s->reload_interval.count() == 0) continue;
    SteadyClock::rep due = s->next_reload_check.load(std::memory_order_relaxed);
    if (t < due) continue;
    if (!s->next_reload_check.compare_exchange_strong(due, t + s->reload_interval.count())) {
      continue;  // another batch took this check
    }
    if (s->reload_running.exchange(true)) continue;
    SourceState* state = s.get();
    runner_->post([this, state] {
      reload_one(*state, false);
      state->reload_running.store(false);
    });
  }
}

std::string Materializer::reload_one(SourceState& state, bool force) {
  try {
    if (state.source->reload(force)) {
      state.reloads.fetch_add(1, std::memory_order_relaxed);
      if (state.cache) state.cache->clear();
      spdlog::info("source {}: reloaded", state.name);
    }
    return "";
  } catch (const std::exception& e) {
    state.reload_failures.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("source {}: reload failed, still serving the data loaded before: {}", state.name,
                  e.what());
    return e.what();
  }
}

std::vector<std::string> Materializer::reload_sources() {
  std::vector<std::string> errors;
  for (auto& s : sources_) {
    std::string error = reload_one(*s, true);
    if (!error.empty()) errors.push_back(fmt::format("{}: {}", s->name, error));
  }
  return errors;
}

std::vector<SourceStats> Materializer::stats() const {
  std::vector<SourceStats> result;
  for (const auto& s : sources_) {
    SourceStats st;
    st.source = s->name;
    st.lookups = s->lookups.load(std::memory_order_relaxed);
    st.keys = s->keys.load(std::memory_order_relaxed);
    st.failures = s->failures.load(std::memory_order_relaxed);
    st.timeouts = s->timeouts.load(std::memory_order_relaxed);
    st.skipped = s->skipped.load(std::memory_order_relaxed);
    st.degraded_events = s->degraded_events.load(std::memory_order_relaxed);
    st.lookup_micros = s->lookup_micros.load(std::memory_order_relaxed);
    st.reloads = s->reloads.load(std::memory_order_relaxed);
    st.reload_failures = s->reload_failures.load(std::memory_order_relaxed);
    {
      std::lock_guard lock(s->health_mutex);
      st.backing_off = s->backing_off;
    }
    if (s->cache) {
      st.cached = true;
      st.cache = s->cache->stats();
    }
    result.push_back(std::move(st));
  }
  return result;
}

std::map<std::string, std::uint64_t> Materializer::failures() const {
  std::map<std::string, std::uint64_t> result;
  for (const auto& s : sources_) result[s->name] = s->failures.load(std::memory_order_relaxed);
  return result;
}

std::map<std::string, std::uint64_t> Materializer::lookups() const {
  std::map<std::string, std::uint64_t> result;
  for (const auto& s : sources_) result[s->name] = s->lookups.load(std::memory_order_relaxed);
  return result;
}

}  // namespace signalbox
