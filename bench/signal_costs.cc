// What the list and sketch aggregators cost per user against a plain `count` signal over the
// same events, measured in the same run: stored state bytes per user (all users, and the
// heavy ones) and the in-process query time of the signal alone (light and heavy users).
//   count          the baseline: one number per tile
//   sequence_k100, sequence_k1000   the k newest events with ts, action, item_id and the
//                  pin's categories
//   quantile       a KLL sketch of a per-event number
//   top_frequent   a Misra-Gries summary of item_id (k 10, capacity 100)
// Each signal has the windows 1d, 7d and 90d and a store of its own, loaded from the same
// events. The demo log carries a number (the price) on purchases only, so every event gets an
// attribute `dwell` here, a number derived from its event id, for the quantile to fold; every
// signal sees the same events.
// Usage: signal_costs --data DIR --config demo.yaml --work DIR [--out FILE] [--metrics FILE]
//                     [--reps N]
// DIR holds pins.tsv and events.ndjson from signalbox-demo-data; the config gives the sources,
// features and retention. --metrics appends "key value" lines for bench/run.sh; --out writes
// the table.

#include <filesystem>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "signalbox/common/error.h"
#include "signalbox/common/hash.h"
#include "signalbox/config/config.h"
#include "signalbox/engine/engine.h"
#include "signalbox/event/decode.h"

#include "family_sizes.h"
#include "latency.h"
#include "user_tiers.h"

namespace fs = std::filesystem;
using namespace signalbox;
using namespace signalbox::bench;

namespace {

ConfigParam single(std::string text) { return ConfigParam{std::move(text), {}, true, false, {}}; }

ConfigParam list(std::vector<std::string> items) {
  return ConfigParam{
      fmt::format("[{}]", fmt::join(items, ", ")), {}, false, true, std::move(items)};
}

// The signals measured, the baseline first.
std::vector<SignalConfig> measured_signals() {
  auto signal = [](std::string name, std::string aggregator, std::string value,
                   ConfigParams params) {
    SignalConfig s;
    s.name = std::move(name);
    s.aggregator = std::move(aggregator);
    s.value = std::move(value);
    s.params = std::move(params);
    for (const char* w : {"1d", "7d", "90d"}) s.windows.push_back({w, *parse_duration(w)});
    return s;
  };
  const ConfigParam fields = list({"ts", "action", "item_id", "pin.categories"});
  return {
      signal("count", "count", "", {}),
      signal("sequence_k100", "sequence", "", {{"k", single("100")}, {"fields", fields}}),
      signal("sequence_k1000", "sequence", "", {{"k", single("1000")}, {"fields", fields}}),
      signal("quantile", "quantile", "attrs.dwell", {{"quantiles", list({"0.5", "0.9", "0.99"})}}),
      signal("top_frequent", "top_frequent", "item_id", {{"k", single("10")}})};
}

// The events of the log, each with a `dwell` attribute (0 to 60 000, from its event id).
std::vector<Event> read_events(const fs::path& file) {
  std::vector<Event> events;
  std::ifstream in(file);
  EventDecoder decoder;
  std::string line;
  Rejection error;
  Event e;
  while (std::getline(in, line)) {
    if (!decoder.decode(line, &e, &error)) continue;
    e.attrs.emplace_back("dwell", static_cast<double>(hash64(e.event_id) % 60001));
    events.push_back(e);
  }
  return events;
}

// Heavy users: the 3 with the most events; light: up to 50 from the median down.
struct Users {
  std::size_t total = 0;
  std::vector<std::uint64_t> heavy, light;
};

Users pick_users(const std::vector<Event>& events) {
  std::map<std::uint64_t, std::size_t> per_user;
  for (const Event& e : events) ++per_user[e.user_id];
  bench::UserTiers tiers = bench::user_tiers(std::move(per_user));
  Users users;
  users.total = tiers.events_per_user.size();
  users.heavy = std::move(tiers.heavy);
  users.light = std::move(tiers.light);
  return users;
}

struct Cost {
  double state_per_user = 0;        // tiles, compressed, all users
  double heavy_state_per_user = 0;  // tiles of the heavy users (approximate)
  double light_p50_us = 0, heavy_p50_us = 0, heavy_p99_us = 0;
};

// Loads `events` into a fresh store holding only `signal`, settles it, and measures it.
Cost measure(const Config& base, const SignalConfig& signal, const std::vector<Event>& events,
             const Users& users, const fs::path& store, int reps) {
  Config config = base;
  config.signals = {signal};
  config.views.clear();
  config.storage.path = store;
  fs::remove_all(store);
  TimeMs end = 0;
  {
    Engine engine(config);
    for (std::size_t i = 0; i < events.size(); i += 10000)
      engine.ingest(std::vector<Event>(events.begin() + i,
                                       events.begin() + std::min(events.size(), i + 10000)));
    // Settled state, as engine_bench measures it: one value per tile, compacted.
    engine.expire(Engine::ExpireOptions{.compact_tiles = true, .compact = true});
    engine.flush();
    end = engine.stream_time();
  }
  Cost cost;
  FamilySizes sizes = family_sizes(store, users.heavy);
  cost.state_per_user =
      static_cast<double>(sizes.family_bytes["tiles"]) / static_cast<double>(users.total);
  for (auto [user, bytes] : sizes.user_tile_bytes)
    cost.heavy_state_per_user += static_cast<double>(bytes);
  cost.heavy_state_per_user /= static_cast<double>(std::max<std::size_t>(1, users.heavy.size()));

  Engine::Options read_only;
  read_only.read_only = true;
  read_only.auto_expire = false;
  Engine engine(config, read_only);
  const std::vector<std::string> names = {signal.name};
  auto time_queries = [&](const std::vector<std::uint64_t>& who, int rounds) {
    Latency latency;
    for (int r = 0; r < rounds; ++r)
      for (std::uint64_t user : who) {
        auto t0 = Clock::now();
        Value answer = engine.query(user, names, end);
        latency.micros.push_back(seconds_since(t0) * 1e6);
      }
    return latency;
  };
  time_queries(users.light, 1);  // warm the block cache
  Latency light = time_queries(users.light, std::max(1, reps / 10));
  Latency heavy = time_queries(users.heavy, reps);
  cost.light_p50_us = light.percentile(0.5);
  cost.heavy_p50_us = heavy.percentile(0.5);
  cost.heavy_p99_us = heavy.percentile(0.99);
  return cost;
}

std::string times(double a, double b) { return b > 0 ? fmt::format("{:.1f}x", a / b) : "-"; }

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i + 1 < argc; i += 2) args[argv[i]] = argv[i + 1];
  if (!args.count("--data") || !args.count("--config") || !args.count("--work")) {
    fmt::print(stderr,
               "usage: signal_costs --data DIR --config demo.yaml --work DIR [--out FILE] "
               "[--metrics FILE] [--reps N]\n");
    return 2;
  }
  try {
    const fs::path data = args["--data"], work = args["--work"];
    const int reps = args.count("--reps") ? std::stoi(args["--reps"]) : 50;
    fs::create_directories(work);
    const Config base = load_config(args["--config"]);
    const std::vector<Event> events = read_events(data / "events.ndjson");
    const Users users = pick_users(events);

    std::string report, metrics;
    auto row = [&](const std::string& line) {
      fmt::print("{}\n", line);
      report += line + "\n";
    };
    row("| signal (windows 1d, 7d, 90d) | state bytes/user | vs count | heavy users: state "
        "bytes/user | vs count | "
        "query p50 µs, light | vs count | query p50 µs, heavy | vs count | query p99 µs, heavy |");
    row("|---|---|---|---|---|---|---|---|---|---|");
    Cost baseline;
    for (const SignalConfig& signal : measured_signals()) {
      Cost c = measure(base, signal, events, users, work / signal.name, reps);
      if (signal.name == "count") baseline = c;
      row(fmt::format("| {} | {:.0f} | {} | {:.0f} | {} | {:.1f} | {} | {:.1f} | {} | {:.1f} |",
                      signal.name, c.state_per_user,
                      times(c.state_per_user, baseline.state_per_user), c.heavy_state_per_user,
                      times(c.heavy_state_per_user, baseline.heavy_state_per_user), c.light_p50_us,
                      times(c.light_p50_us, baseline.light_p50_us), c.heavy_p50_us,
                      times(c.heavy_p50_us, baseline.heavy_p50_us), c.heavy_p99_us));
      const std::string key = "signal_costs." + signal.name;
      metrics += fmt::format("{}.state_per_user {:.10g}\n", key, c.state_per_user);
      metrics += fmt::format("{}.heavy_state_per_user {:.10g}\n", key, c.heavy_state_per_user);
      metrics += fmt::format("{}.light_p50_us {:.10g}\n", key, c.light_p50_us);
      metrics += fmt::format("{}.heavy_p50_us {:.10g}\n", key, c.heavy_p50_us);
      metrics += fmt::format("{}.heavy_p99_us {:.10g}\n", key, c.heavy_p99_us);
      fs::remove_all(work / signal.name);
    }
    metrics +=
        fmt::format("signal_costs.users {}\nsignal_costs.events {}\n", users.total, events.size());
    if (args.count("--out")) std::ofstream(args["--out"]) << report;
    if (args.count("--metrics")) std::ofstream(args["--metrics"], std::ios::app) << metrics;
  } catch (const std::exception& e) {
    fmt::print(stderr, "signal_costs: {}\n", e.what());
    return 1;
  }
  return 0;
}
