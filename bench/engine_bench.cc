// Signalbox engine benchmarks, each against a baseline measured in the same run:
//   ingest   the full pipeline (decode, materialize, dedup, events + tiles) vs decoding and
//            storing the raw events only (what a store-everything design pays at ingest);
//   query    a user's every signal from tiles vs naive recompute: the same answers folded
//            from all of the user's raw events at query time (90 days kept raw for it);
//   memory   bytes of state per user and signal, raw bytes per event, store size on disk.
// Usage: engine_bench --data DIR --config demo.yaml [--out results.md] [--work DIR]
//                     [--tiled STORE] [--metrics FILE] [--heavy-reps N]
// DIR holds pins.tsv and events.ndjson from signalbox-demo-data. With --tiled, the Signalbox
// store is one already loaded (bench/run.sh loads it with `signalbox replay`, which it times
// itself) and only the baseline's ingest is measured here. --metrics appends "key value"
// lines for bench/run.sh.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include "signalbox/common/error.h"
#include "signalbox/config/config.h"
#include "signalbox/engine/engine.h"
#include "signalbox/event/decode.h"
#include "signalbox/ingest/replay.h"

#include "family_sizes.h"
#include "latency.h"
#include "naive_recompute.h"
#include "user_tiers.h"

namespace fs = std::filesystem;
using namespace signalbox;
using namespace signalbox::bench;

namespace {

// Decodes the file and stores each event's JSON under (user, ts, event_id): the ingest cost of
// keeping raw events only.
double raw_store_ingest(const fs::path& events, const fs::path& path, std::size_t* count) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(options, path.string(), &raw).ok())
    throw std::runtime_error("cannot open raw store");
  std::unique_ptr<rocksdb::DB> db(raw);
  std::ifstream in(events);
  std::string line, body;
  EventDecoder decoder;
  auto start = Clock::now();
  std::size_t n = 0, lines = 0;
  auto flush = [&] {
    rocksdb::WriteBatch batch;
    decoder.decode_batch(
        body,
        [&](std::size_t, Event&& e) {
          std::string key = fmt::format("{:016x}{:016x}{}", e.user_id, e.ts, e.event_id);
          batch.Put(key, e.event_id);
          ++n;
        },
        [](std::size_t, Rejection&&) {});
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

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i + 1 < argc; i += 2) args[argv[i]] = argv[i + 1];
  if (!args.count("--data") || !args.count("--config")) {
    fmt::print(
        stderr,
        "usage: engine_bench --data DIR --config demo.yaml [--out results.md] [--work DIR]\n");
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
  std::string metrics;
  auto metric = [&](const std::string& key, double value) {
    metrics += fmt::format("{} {:.10g}\n", key, value);
  };
  const bool given_store = args.count("--tiled") > 0;

  Config tiled = load_config(args["--config"]);
  tiled.storage.path = given_store ? fs::path(args["--tiled"]) : work / "tiled";
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
    metric("raw_ingest.events", static_cast<double>(raw_count));
    metric("raw_ingest.seconds", raw_seconds);
    metric("raw_ingest.events_per_s", raw_count / raw_seconds);
    ReplayOptions quiet;
    quiet.progress = false;
    ReplayStats stats;
    double tiled_seconds;
    {
      Engine engine(tiled);
      auto start = Clock::now();
      if (!given_store) stats = replay_files(engine, {events.string()}, quiet);
      engine.expire(Engine::ExpireOptions{.compact_tiles = true});
      engine.flush();
      tiled_seconds = seconds_since(start);
      end = engine.stream_time();
      // A full compaction (not timed), so that the sizes below are those of settled state.
      engine.expire(Engine::ExpireOptions{.compact_tiles = true, .compact = true});
      engine.flush();
    }
    {
      Engine engine(naive);
      replay_files(engine, {events.string()}, quiet);
      engine.expire(Engine::ExpireOptions{.compact = true});
      engine.flush();
    }
    if (!given_store) {
      double events_total = static_cast<double>(stats.accepted + stats.rejected);
      row("## Ingest (one process, replay of events.ndjson)\n");
      row("| pipeline | events | seconds | events/s | ratio |");
      row("|---|---|---|---|---|");
      row(fmt::format("| raw store only (baseline: decode + put) | {} | {:.2f} | {:.0f} | 1.00 |",
                      raw_count, raw_seconds, raw_count / raw_seconds));
      row(
          fmt::format("| Signalbox (decode, materialize, dedup, events + tiles) | {:.0f} | {:.2f} "
                      "| {:.0f} | {:.2f} |",
                      events_total, tiled_seconds, events_total / tiled_seconds,
                      (events_total / tiled_seconds) / (raw_count / raw_seconds)));
      metric("engine_ingest.events_per_s", events_total / tiled_seconds);
    }
  }

  // --- query ---
  bench::UserTiers tiers = bench::user_tiers(bench::count_events_per_user(events));
  const std::vector<std::uint64_t>& heavy = tiers.heavy;
  const std::vector<std::uint64_t>& light = tiers.light;
  std::map<std::uint64_t, std::size_t>& per_user = tiers.events_per_user;

  Engine::Options read_only;
  read_only.read_only = true;
  read_only.auto_expire = false;
  Engine engine(tiled, read_only);
  NaiveRecompute recompute(tiled, naive.storage.path);
  row("\n## Query: every signal and view of one user, as of the end of the stream\n");
  row("| users | events/user | tiled p50 µs | tiled p99 µs | naive p50 µs | naive p99 µs | "
      "speed-up (p50) |");
  row("|---|---|---|---|---|---|---|");
  for (auto& [label, users] :
       {std::pair{std::string("heavy"), heavy}, std::pair{std::string("light"), light}}) {
    Latency fast, slow;
    std::size_t mismatches = 0;
    int reps =
        label == "heavy"
            ? static_cast<int>(args.count("--heavy-reps") ? std::stoi(args["--heavy-reps"]) : 200)
            : 20;
    for (int r = 0; r < reps; ++r) {
      for (std::uint64_t user : users) {
        auto t0 = Clock::now();
        Value a = engine.query(user, engine.names(), end);
        fast.micros.push_back(seconds_since(t0) * 1e6);
        if (r < 2) {
          auto t1 = Clock::now();
          Value b = recompute.query(user, end);
          slow.micros.push_back(seconds_since(t1) * 1e6);
          mismatches += differing_signals(a, b);
        }
      }
    }
    std::size_t events_per_user = 0;
    for (auto u : users) events_per_user += per_user[u];
    events_per_user /= users.size();
    metric(fmt::format("inproc_{}.events_per_user", label), static_cast<double>(events_per_user));
    metric(fmt::format("inproc_{}.tiled_p50_us", label), fast.percentile(0.5));
    metric(fmt::format("inproc_{}.tiled_p99_us", label), fast.percentile(0.99));
    metric(fmt::format("inproc_{}.naive_p50_us", label), slow.percentile(0.5));
    metric(fmt::format("inproc_{}.naive_p99_us", label), slow.percentile(0.99));
    metric(fmt::format("inproc_{}.speedup_p50", label),
           slow.percentile(0.5) / fast.percentile(0.5));
    metric(fmt::format("inproc_{}.mismatches", label), static_cast<double>(mismatches));
    row(fmt::format("| {} ({}) | {} | {:.0f} | {:.0f} | {:.0f} | {:.0f} | {:.1f}x{} |", label,
                    users.size(), events_per_user, fast.percentile(0.5), fast.percentile(0.99),
                    slow.percentile(0.5), slow.percentile(0.99),
                    slow.percentile(0.5) / fast.percentile(0.5),
                    mismatches ? fmt::format(" ({} answers differ!)", mismatches) : ""));
  }

  // --- memory ---
  StoreStats tiled_stats = engine.store_stats();
  std::uintmax_t tiled_disk = folder_bytes(tiled.storage.path),
                 naive_disk = folder_bytes(naive.storage.path);
  row("\n## Memory and disk\n");
  row("| store | raw events kept | tiles | disk bytes | bytes/user |");
  row("|---|---|---|---|---|");
  row(fmt::format("| naive (90 days raw) | ~{} | 0 | {} | {:.0f} |", raw_count, naive_disk,
                  double(naive_disk) / per_user.size()));
  row(fmt::format("| Signalbox (7 days raw + tiles) | ~{} | ~{} | {} | {:.0f} |",
                  tiled_stats.events, tiled_stats.tiles, tiled_disk,
                  double(tiled_disk) / per_user.size()));

  // State and raw bytes per user, from column family sizes after compaction.
  FamilySizes tiled_sizes = family_sizes(tiled.storage.path, heavy);
  FamilySizes naive_sizes = family_sizes(naive.storage.path, {});
  std::size_t windowed = 0;
  for (const auto& s : tiled.signals) windowed += !s.windows.empty();
  const double users = static_cast<double>(per_user.size());
  const double state = static_cast<double>(tiled_sizes.family_bytes["tiles"]);
  const double raw7 = static_cast<double>(tiled_sizes.family_bytes["events"] +
                                          tiled_sizes.family_bytes["event_ids"]);
  const double raw90 = static_cast<double>(naive_sizes.family_bytes["events"] +
                                           naive_sizes.family_bytes["event_ids"]);
  double heavy_state = 0;
  for (auto [user, bytes] : tiled_sizes.user_tile_bytes) heavy_state += static_cast<double>(bytes);
  heavy_state /= std::max<std::size_t>(1, tiled_sizes.user_tile_bytes.size());
  row("\n## State per user (column families after compaction, compressed)\n");
  row("| what | bytes | per user | per user per windowed signal |");
  row("|---|---|---|---|");
  row(fmt::format(
      "| state (tiles), all {:.0f} users, {} windowed signals | {:.0f} | {:.0f} | {:.0f} |", users,
      windowed, state, state / users, state / users / std::max<std::size_t>(1, windowed)));
  row(fmt::format("| state (tiles), heavy users (approximate) | - | {:.0f} | {:.0f} |", heavy_state,
                  heavy_state / std::max<std::size_t>(1, windowed)));
  row(fmt::format("| raw events kept by Signalbox (7 days + ids) | {:.0f} | {:.0f} | - |", raw7,
                  raw7 / users));
  row(fmt::format("| raw events, 90 days (naive baseline) | {:.0f} | {:.0f} | - |", raw90,
                  raw90 / users));
  // The id record outlives the raw events (it is kept for the late horizon, the longest
  // window): its size per user is what accepting late events costs.
  const double ids = static_cast<double>(tiled_sizes.family_bytes["event_ids"]);
  const double raw_only = static_cast<double>(tiled_sizes.family_bytes["events"]);
  row(fmt::format("| Signalbox: raw events alone (7 days) | {:.0f} | {:.0f} | - |", raw_only,
                  raw_only / users));
  row(
      fmt::format("| Signalbox: event-id record alone (64-bit hash + ts per event, kept for the "
                  "late horizon: 90 days here) | {:.0f} | {:.0f} | - |",
                  ids, ids / users));
  metric("memory.users", users);
  metric("memory.windowed_signals", static_cast<double>(windowed));
  metric("memory.state_bytes", state);
  metric("memory.state_per_user", state / users);
  metric("memory.state_per_user_signal", state / users / std::max<std::size_t>(1, windowed));
  metric("memory.heavy_state_per_user", heavy_state);
  metric("memory.heavy_state_per_user_signal", heavy_state / std::max<std::size_t>(1, windowed));
  metric("memory.raw7_per_user", raw7 / users);
  metric("memory.raw90_per_user", raw90 / users);
  metric("memory.event_ids_per_user", ids / users);
  metric("memory.tiled_disk_bytes", static_cast<double>(tiled_disk));
  metric("memory.naive_disk_bytes", static_cast<double>(naive_disk));
  if (args.count("--out")) std::ofstream(args["--out"]) << report;
  if (args.count("--metrics")) std::ofstream(args["--metrics"], std::ios::app) << metrics;
  return 0;
}
