// Signalbox engine benchmarks, each against a baseline measured in the same run:
//   ingest   the full pipeline (decode, materialize, dedup, events + tiles) vs decoding and
//            storing the raw events only (what a store-everything design pays at ingest);
//   query    a user's every signal from tiles vs naive recompute: the same answers folded
//            from all of the user's raw events at query time (90 days kept raw for it);
//   memory   bytes of state per user and signal, raw bytes per event, store size on disk.
// Usage: engine_bench --data DIR --config demo.yaml --out results.md
// DIR holds pins.tsv and events.ndjson from signalbox-demo-data.

#include <algorithm>
#include <cmath>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>

#include <fmt/format.h>
#include <rocksdb/db.h>

#include "signalbox/common/error.h"
#include "signalbox/config/config.h"
#include "signalbox/engine/engine.h"
#include "signalbox/event/decode.h"
#include "signalbox/ingest/replay.h"
#include "signalbox/store/rocksdb/rocksdb_store.h"

namespace fs = std::filesystem;
using namespace signalbox;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Latency {
  std::vector<double> micros;
  double percentile(double p) {
    std::sort(micros.begin(), micros.end());
    return micros[std::min(micros.size() - 1, static_cast<std::size_t>(p * micros.size()))];
  }
  double mean() const { return std::accumulate(micros.begin(), micros.end(), 0.0) / micros.size(); }
};

class KeepNewest final : public TileMerger {
 public:
  std::string merge(std::uint64_t, std::span<const std::string_view> operands) const override {
    return operands.empty() ? std::string() : std::string(operands.back());
  }
};

// The naive design: answers folded from every raw event of the user at query time, with the
// engine's own aggregators and the same window rule.
class NaiveRecompute {
 public:
  // `config` gives the signals and the window rule; the raw events come from `store_path`.
  NaiveRecompute(const Config& config, const fs::path& store_path)
      : config_(config), materializer_(config), store_(open_rocksdb_store({store_path, true, false}, merger_)) {
    for (const auto& s : config.signals) signals_.push_back(std::make_unique<Signal>(s, materializer_.feature_names()));
  }

  Value query(std::uint64_t user, TimeMs as_of) {
    auto snapshot = store_->snapshot();
    std::vector<MaterializedEvent> events;
    snapshot->scan_events(user, 0, as_of, [&](std::string_view bytes) {
      events.push_back(decode_event(bytes, materializer_.feature_names()));
    });
    Value::Object out;
    for (const auto& signal : signals_) {
      const Aggregator& a = signal->aggregator();
      auto fold = [&](TimeMs from) {
        auto state = a.make_state();
        for (const auto& e : events)
          if (e.event.ts >= from)
            if (auto w = signal->weight(e)) a.fold(*state, e, *w);
        return a.result(*state, as_of);
      };
      if (!signal->windowed()) {
        out.emplace_back(signal->name(), fold(std::numeric_limits<TimeMs>::min()));
        continue;
      }
      Value::Object windows;
      for (const auto& w : signal->windows()) {
        TimeMs from = w.length <= config_.event_store.retention ? as_of - w.length + 1 : floor_day(as_of - w.length);
        windows.emplace_back(w.text, fold(from));
      }
      out.emplace_back(signal->name(), Value(std::move(windows)));
    }
    return Value(std::move(out));
  }

 private:
  Config config_;
  Materializer materializer_;
  KeepNewest merger_;
  std::unique_ptr<Store> store_;
  std::vector<std::unique_ptr<Signal>> signals_;
};

// Decodes the file and stores each event's JSON under (user, ts, event_id): the ingest cost of
// keeping raw events only.
double raw_store_ingest(const fs::path& events, const fs::path& path, std::size_t* count) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(options, path.string(), &raw).ok()) throw std::runtime_error("cannot open raw store");
  std::unique_ptr<rocksdb::DB> db(raw);
  std::ifstream in(events);
  std::string line, body;
  EventDecoder decoder;
  auto start = Clock::now();
  std::size_t n = 0, lines = 0;
  auto flush = [&] {
    rocksdb::WriteBatch batch;
    decoder.decode_batch(body, [&](std::size_t, Event&& e) {
      std::string key = fmt::format("{:016x}{:016x}{}", e.user_id, e.ts, e.event_id);
      batch.Put(key, e.event_id);
      ++n;
    }, [](std::size_t, std::string&&) {});
    db->Write(rocksdb::WriteOptions(), &batch);
    body.clear();
    lines = 0;
  };
  while (std::getline(in, line)) {
    body += line;
    body += '\n';
    if (++lines == 8192) flush();
  }
  flush();
  *count = n;
  return seconds_since(start);
}

// Equal up to the 1e-9 relative difference that folding in another order may make.
bool same(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number())
    return std::abs(a.number() - b.number()) <= 1e-9 * std::max({1.0, std::abs(a.number()), std::abs(b.number())});
  if (a.is_object() && b.is_object()) {
    if (a.object().size() != b.object().size()) return false;
    for (std::size_t i = 0; i < a.object().size(); ++i)
      if (a.object()[i].first != b.object()[i].first || !same(a.object()[i].second, b.object()[i].second)) return false;
    return true;
  }
  if (a.is_array() && b.is_array()) {
    if (a.array().size() != b.array().size()) return false;
    for (std::size_t i = 0; i < a.array().size(); ++i)
      if (!same(a.array()[i], b.array()[i])) return false;
    return true;
  }
  return a == b;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i + 1 < argc; i += 2) args[argv[i]] = argv[i + 1];
  if (!args.count("--data") || !args.count("--config")) {
    fmt::print(stderr, "usage: engine_bench --data DIR --config demo.yaml [--out results.md] [--work DIR]\n");
    return 2;
  }
  fs::path data = args["--data"];
  fs::path work = args.count("--work") ? fs::path(args["--work"]) : data / "bench-work";
  // --reuse keeps the stores of an earlier run and measures queries only.
  const bool reuse = args.count("--reuse") && fs::exists(work / "tiled");
  if (!reuse) {
    fs::remove_all(work);
    fs::create_directories(work);
  }
  std::string report;
  auto row = [&](const std::string& line) {
    fmt::print("{}\n", line);
    report += line + "\n";
  };

  Config tiled = load_config(args["--config"]);
  tiled.storage.path = work / "tiled";
  Config naive = tiled;
  naive.storage.path = work / "naive";
  naive.event_store.retention = 91 * kDayMs;  // keeps 90 days raw for recompute

  // --- ingest ---
  fs::path events = data / "events.ndjson";
  std::size_t raw_count = 0;
  TimeMs end = 0;
  if (reuse) {
    Engine::Options ro;
    ro.read_only = true;
    end = Engine(tiled, ro).stream_time();
  } else {
  double raw_seconds = raw_store_ingest(events, work / "raw", &raw_count);
  ReplayOptions quiet;
  quiet.progress = false;
  ReplayStats stats;
  double tiled_seconds;
  {
    Engine engine(tiled);
    auto start = Clock::now();
    stats = replay_files(engine, {events.string()}, quiet);
    engine.expire(Engine::ExpireOptions{.compact_tiles = true});
    engine.flush();
    tiled_seconds = seconds_since(start);
    end = engine.stream_time();
  }
  {
    Engine engine(naive);
    replay_files(engine, {events.string()}, quiet);
    engine.flush();
  }
  double events_total = static_cast<double>(stats.accepted + stats.rejected);
  row("## Ingest (one process, replay of events.ndjson)\n");
  row("| pipeline | events | seconds | events/s | ratio |");
  row("|---|---|---|---|---|");
  row(fmt::format("| raw store only (baseline: decode + put) | {} | {:.2f} | {:.0f} | 1.00 |", raw_count, raw_seconds,
                  raw_count / raw_seconds));
  row(fmt::format("| Signalbox (decode, materialize, dedup, events + tiles) | {:.0f} | {:.2f} | {:.0f} | {:.2f} |",
                  events_total, tiled_seconds, events_total / tiled_seconds,
                  (events_total / tiled_seconds) / (raw_count / raw_seconds)));
  }

  // --- query ---
  std::map<std::uint64_t, std::size_t> per_user;
  {
    std::ifstream in(events);
    std::string line;
    EventDecoder decoder;
    Event e;
    std::string error;
    while (std::getline(in, line))
      if (decoder.decode(line, &e, &error)) ++per_user[e.user_id];
  }
  std::vector<std::pair<std::size_t, std::uint64_t>> by_count;
  for (auto [user, n] : per_user) by_count.emplace_back(n, user);
  std::sort(by_count.rbegin(), by_count.rend());
  std::vector<std::uint64_t> heavy, light;
  for (std::size_t i = 0; i < std::min<std::size_t>(3, by_count.size()); ++i) heavy.push_back(by_count[i].second);
  for (std::size_t i = by_count.size() / 2; i < by_count.size() && light.size() < 50; ++i) light.push_back(by_count[i].second);

  Engine::Options read_only;
  read_only.read_only = true;
  read_only.auto_expire = false;
  Engine engine(tiled, read_only);
  NaiveRecompute recompute(tiled, naive.storage.path);
  row("\n## Query: every signal and view of one user, as of the end of the stream\n");
  row("| users | events/user | tiled p50 µs | tiled p99 µs | naive p50 µs | naive p99 µs | speed-up (p50) |");
  row("|---|---|---|---|---|---|---|");
  for (auto& [label, users] : {std::pair{std::string("heavy"), heavy}, std::pair{std::string("light"), light}}) {
    Latency fast, slow;
    std::size_t mismatches = 0;
    int reps = label == "heavy" ? 200 : 20;
    for (int r = 0; r < reps; ++r) {
      for (std::uint64_t user : users) {
        auto t0 = Clock::now();
        Value a = engine.query(user, engine.names(), end);
        fast.micros.push_back(seconds_since(t0) * 1e6);
        if (r < 2) {
          auto t1 = Clock::now();
          Value b = recompute.query(user, end);
          slow.micros.push_back(seconds_since(t1) * 1e6);
          for (const auto& [name, v] : b.object())
            if (!same(*a.find("signals")->find(name), v)) ++mismatches;
        }
      }
    }
    std::size_t events_per_user = 0;
    for (auto u : users) events_per_user += per_user[u];
    events_per_user /= users.size();
    row(fmt::format("| {} ({}) | {} | {:.0f} | {:.0f} | {:.0f} | {:.0f} | {:.1f}x{} |", label, users.size(), events_per_user,
                    fast.percentile(0.5), fast.percentile(0.99), slow.percentile(0.5), slow.percentile(0.99),
                    slow.percentile(0.5) / fast.percentile(0.5),
                    mismatches ? fmt::format(" ({} answers differ!)", mismatches) : ""));
  }

  // --- memory ---
  StoreStats tiled_stats = engine.store_stats();
  std::uintmax_t tiled_disk = 0, naive_disk = 0;
  for (auto& f : fs::recursive_directory_iterator(tiled.storage.path)) if (f.is_regular_file()) tiled_disk += f.file_size();
  for (auto& f : fs::recursive_directory_iterator(naive.storage.path)) if (f.is_regular_file()) naive_disk += f.file_size();
  row("\n## Memory and disk\n");
  row("| store | raw events kept | tiles | disk bytes | bytes/user |");
  row("|---|---|---|---|---|");
  row(fmt::format("| naive (90 days raw) | ~{} | 0 | {} | {:.0f} |", raw_count, naive_disk, double(naive_disk) / per_user.size()));
  row(fmt::format("| Signalbox (7 days raw + tiles) | ~{} | ~{} | {} | {:.0f} |", tiled_stats.events, tiled_stats.tiles,
                  tiled_disk, double(tiled_disk) / per_user.size()));
  if (args.count("--out")) std::ofstream(args["--out"]) << report;
  return 0;
}
