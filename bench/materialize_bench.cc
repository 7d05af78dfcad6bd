// Materialization throughput per event with three sources: a table file and two synthetic
// remote sources that cost a fixed 200 µs per call plus 1 µs per key (a round trip and the
// server's work), at cache hit rates of 0 %, 90 % and 99 %, in batches of 32 events (an HTTP
// post) and 256 (a replay or Kafka poll).
//
// Each benchmark also measures, in the same run, two baselines over the same kind of events:
//   per_event  one lookup() per event and source, no batching, no cache (the naive client);
//   uncached   the Materializer with its caches turned off (batching and concurrency only);
// and reports its speed-up over each as `x_per_event` and `x_uncached`, with the keys it sent
// to the remote sources per event (`remote_keys_per_event`; 2 without a cache).
//
//   ninja -C build materialize_bench && build/bench/materialize_bench

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "signalbox/materialize/materializer.h"
#include "signalbox/materialize/source.h"

namespace signalbox {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kHotKeys = 2000;  // keys warmed into the caches before timing
constexpr int kTableRows = 10000;
constexpr auto kCallLatency = std::chrono::microseconds(200);
constexpr auto kKeyLatency = std::chrono::microseconds(1);

// A remote store stand-in: answers every key, after sleeping per call and per key.
class LatencySource : public Source {
 public:
  void check_field(const FieldRequest&, const ConfigLocation&) const override {}
  bool remote() const override { return true; }
  std::vector<std::vector<FeatureValue>> lookup(std::span<const std::string> keys,
                                                std::span<const FieldRequest> fields) override {
    std::this_thread::sleep_for(kCallLatency + kKeyLatency * static_cast<int>(keys.size()));
    std::vector<std::vector<FeatureValue>> out(keys.size());
    for (std::size_t k = 0; k < keys.size(); ++k) {
      out[k].assign(fields.size(), FeatureValue(static_cast<double>(keys[k].size())));
    }
    return out;
  }
};

std::filesystem::path table_file() {
  static const std::filesystem::path path = [] {
    auto p = std::filesystem::temp_directory_path() /
             ("signalbox_materialize_bench_" + std::to_string(::getpid()) + ".tsv");
    std::ofstream out(p);
    out << "item_id\tcategories\n";
    for (int i = 0; i < kTableRows; ++i) out << "hot" << i << "\tfood|travel\n";
    return p;
  }();
  return path;
}

FeatureConfig feature(const std::string& name, const std::string& source, const std::string& key,
                      const std::string& field, FeatureType type) {
  FeatureConfig f;
  f.name = name;
  f.source = source;
  f.key = key;
  f.field = field;
  f.type = type;
  return f;
}

SourceConfig remote_config(const std::string& name, bool cached) {
  SourceConfig c;
  c.name = name;
  c.kind = "synthetic";
  c.params["timeout"] = ConfigParam{"1s", {}};
  c.params["cache_bytes"] = ConfigParam{cached ? "256MiB" : "0", {}};
  return c;
}

Config bench_config(bool cached) {
  Config config;
  SourceConfig table;
  table.name = "pins";
  table.kind = "table";
  table.path = table_file();
  table.key = "item_id";
  config.sources.push_back(table);
  config.sources.push_back(remote_config("quality", cached));
  config.sources.push_back(remote_config("boards", cached));
  config.features.push_back(
      feature("pin.categories", "pins", "item_id", "categories", FeatureType::kStrings));
  config.features.push_back(
      feature("pin.quality", "quality", "item_id", "score", FeatureType::kNumber));
  config.features.push_back(
      feature("board.size", "boards", "attrs.board", "size", FeatureType::kNumber));
  return config;
}

std::unique_ptr<Materializer> make_materializer(bool cached) {
  std::map<std::string, std::unique_ptr<Source>> prebuilt;
  prebuilt["quality"] = std::make_unique<LatencySource>();
  prebuilt["boards"] = std::make_unique<LatencySource>();
  return std::make_unique<Materializer>(bench_config(cached), std::move(prebuilt));
}

// Events whose keys are hot (already cached) with probability `hit_rate`, otherwise never
// seen before.
class EventMaker {
 public:
  EventMaker(double hit_rate, int batch_size) : hit_rate_(hit_rate), batch_size_(batch_size) {}

  std::vector<Event> batch() {
    std::vector<Event> events;
    events.reserve(batch_size_);
    for (int i = 0; i < batch_size_; ++i) {
      Event e;
      e.user_id = rng_() % 100000;
      e.ts = 1'700'000'000'000 + static_cast<TimeMs>(i);
      e.action = "click";
      e.event_id = "e" + std::to_string(serial_);
      e.item_id = key("hot", "item");
      e.attrs.emplace_back("board", key("board", "newboard"));
      events.push_back(std::move(e));
      ++serial_;
    }
    return events;
  }

  // Every hot key once, to warm the caches.
  std::vector<std::vector<Event>> warm_up() const {
    std::vector<std::vector<Event>> batches;
    for (int i = 0; i < kHotKeys; i += 256) {
      std::vector<Event> events;
      for (int j = i; j < std::min(kHotKeys, i + 256); ++j) {
        Event e;
        e.user_id = 1;
        e.ts = 1'700'000'000'000;
        e.action = "click";
        e.event_id = "w" + std::to_string(j);
        e.item_id = "hot" + std::to_string(j);
        e.attrs.emplace_back("board", "board" + std::to_string(j));
        events.push_back(std::move(e));
      }
      batches.push_back(std::move(events));
    }
    return batches;
  }

 private:
  std::string key(const char* hot, const char* fresh) {
    if (std::uniform_real_distribution<double>(0, 1)(rng_) < hit_rate_) {
      return hot + std::to_string(rng_() % kHotKeys);
    }
    return fresh + std::to_string(fresh_++);
  }

  double hit_rate_;
  int batch_size_;
  std::mt19937_64 rng_{42};
  std::uint64_t serial_ = 0;
  std::uint64_t fresh_ = 0;
};

double ns_per_event(Clock::duration d, std::int64_t events) {
  return std::chrono::duration<double, std::nano>(d).count() / static_cast<double>(events);
}

// The naive client: for each event, one lookup() per source, one after the other.
double per_event_baseline(double hit_rate, int batch_size) {
  auto table = make_source(bench_config(false).sources[0]);
  LatencySource quality, boards;
  std::vector<FieldRequest> categories = {{"categories", FeatureType::kStrings}};
  std::vector<FieldRequest> number = {{"score", FeatureType::kNumber}};
  EventMaker maker(hit_rate, std::max(batch_size, 128));
  std::vector<Event> events = maker.batch();
  auto start = Clock::now();
  for (const Event& e : events) {
    std::string item[] = {*e.item_id};
    std::string board[] = {std::get<std::string>(e.attrs[0].second)};
    benchmark::DoNotOptimize(table->lookup(item, categories));
    benchmark::DoNotOptimize(quality.lookup(item, number));
    benchmark::DoNotOptimize(boards.lookup(board, number));
  }
  return ns_per_event(Clock::now() - start, static_cast<std::int64_t>(events.size()));
}

void run_batches(Materializer& m, EventMaker& maker, int batches) {
  for (int b = 0; b < batches; ++b) benchmark::DoNotOptimize(m.materialize(maker.batch()));
}

// The Materializer with batching and concurrency but no cache.
double uncached_baseline(double hit_rate, int batch_size) {
  auto m = make_materializer(false);
  EventMaker maker(hit_rate, batch_size);
  run_batches(*m, maker, 2);
  const int batches = 5120 / batch_size;
  auto start = Clock::now();
  run_batches(*m, maker, batches);
  return ns_per_event(Clock::now() - start, std::int64_t{batches} * batch_size);
}

// Keys sent to lookup() of the remote sources so far.
std::uint64_t remote_keys(const Materializer& m) {
  std::uint64_t keys = 0;
  for (const auto& s : m.stats()) {
    if (s.source != "pins") keys += s.keys;
  }
  return keys;
}

void BM_Materialize(benchmark::State& state) {
  const double hit_rate = static_cast<double>(state.range(0)) / 100.0;
  const int batch_size = static_cast<int>(state.range(1));
  const double per_event = per_event_baseline(hit_rate, batch_size);
  const double uncached = uncached_baseline(hit_rate, batch_size);

  auto m = make_materializer(true);
  EventMaker maker(hit_rate, batch_size);
  for (auto& batch : maker.warm_up()) m->materialize(std::move(batch));
  const std::uint64_t keys_before = remote_keys(*m);
  std::uint64_t hits_before = 0, misses_before = 0;
  for (const auto& s : m->stats()) {
    hits_before += s.cache.hits;
    misses_before += s.cache.misses;
  }

  Clock::duration timed{0};
  std::int64_t events = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<Event> batch = maker.batch();
    state.ResumeTiming();
    auto start = Clock::now();
    benchmark::DoNotOptimize(m->materialize(std::move(batch)));
    timed += Clock::now() - start;
    events += batch_size;
  }

  std::uint64_t hits = 0, misses = 0;
  for (const auto& s : m->stats()) {
    hits += s.cache.hits;
    misses += s.cache.misses;
  }
  const double ours = ns_per_event(timed, events);
  state.SetItemsProcessed(events);
  state.counters["ns_per_event"] = ours;
  state.counters["per_event_ns"] = per_event;
  state.counters["uncached_ns"] = uncached;
  state.counters["x_per_event"] = per_event / ours;
  state.counters["x_uncached"] = uncached / ours;
  state.counters["remote_keys_per_event"] =
      static_cast<double>(remote_keys(*m) - keys_before) / static_cast<double>(events);
  state.counters["hit_rate"] =
      static_cast<double>(hits - hits_before) /
      static_cast<double>(std::max<std::uint64_t>(1, hits + misses - hits_before - misses_before));
}

BENCHMARK(BM_Materialize)
    ->ArgNames({"hit_pct", "batch"})
    ->ArgsProduct({{0, 90, 99}, {32, 256}})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace signalbox

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::filesystem::remove(signalbox::table_file());
  return 0;
}
