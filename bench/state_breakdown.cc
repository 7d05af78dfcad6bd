// Where a user's stored state is: for each signal's state and tile kind (base, day, hour), how
// many tile parts the user has and how many bytes they hold, as the aggregators encoded them
// (before RocksDB's block compression; tile keys and part headers not counted). It reads the
// store named by the config as it is (open it after `signalbox expire --compact` or a replay
// for the state a query sees), read-only, so it may run beside a server.
// Usage: state_breakdown --config demo.yaml (--users ID,ID,... | --events events.ndjson)
// With --events, the users are the 3 most active of that file (as the other bench programs
// pick heavy users); the table is their average.

#include <algorithm>
#include <limits>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "signalbox/aggregate/signal.h"
#include "signalbox/config/config.h"
#include "signalbox/materialize/materializer.h"
#include "signalbox/store/open_store.h"

#include "user_tiers.h"

using namespace signalbox;

namespace {

// Reading needs no merging: only compacted values are read, and a pending operand is shown as
// the last one written (the bytes of a delta rather than of the merged tile).
class LastOperand final : public TileMerger {
 public:
  std::string merge(std::uint64_t, std::span<const std::string_view> operands) const override {
    return operands.empty() ? std::string() : std::string(operands.back());
  }
};

std::vector<std::uint64_t> parse_users(const std::string& list) {
  std::vector<std::uint64_t> users;
  std::stringstream in(list);
  for (std::string id; std::getline(in, id, ',');) users.push_back(std::stoull(id));
  return users;
}

struct Usage {
  std::size_t parts = 0;
  std::size_t bytes = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i + 1 < argc; i += 2) args[argv[i]] = argv[i + 1];
  if (!args.count("--config") || (!args.count("--users") && !args.count("--events"))) {
    fmt::print(stderr,
               "usage: state_breakdown --config demo.yaml (--users ID,ID,... | --events "
               "events.ndjson)\n");
    return 2;
  }
  const Config config = load_config(args["--config"]);
  const std::vector<std::uint64_t> users =
      args.count("--users")
          ? parse_users(args["--users"])
          : bench::user_tiers(bench::count_events_per_user(args["--events"])).heavy;

  // Signals sharing a state (same aggregator, value and actions) are one row.
  const Materializer materializer(config);
  std::map<std::uint64_t, std::string> state_names;
  for (const SignalConfig& signal_config : config.signals) {
    const Signal signal(signal_config, materializer.feature_names());
    std::string& name = state_names[signal.state_id()];
    name += (name.empty() ? "" : ", ") + signal_config.name;
  }
  std::vector<std::uint64_t> state_ids;
  for (const auto& [id, name] : state_names) state_ids.push_back(id);

  const LastOperand merger;
  std::unique_ptr<Store> store = open_store(config, merger, {.read_only = true});
  std::unique_ptr<StoreSnapshot> snapshot = store->snapshot();
  std::map<std::pair<std::string, TileKind>, Usage> usage;
  std::size_t total = 0;
  for (std::uint64_t user : users) {
    for (const StoredTile& tile :
         snapshot->tiles(user, state_ids, kBeginningOfTime, std::numeric_limits<TimeMs>::max())) {
      Usage& u = usage[{state_names[tile.state_id], tile.kind}];
      ++u.parts;
      u.bytes += tile.state.size();
      total += tile.state.size();
    }
  }
  const double n = static_cast<double>(std::max<std::size_t>(1, users.size()));
  fmt::print("State of {} user(s), per user: {:.0f} bytes\n\n", users.size(),
             static_cast<double>(total) / n);
  fmt::print("| signal(s) | tile kind | parts | bytes | bytes per part | share |\n");
  fmt::print("|---|---|---|---|---|---|\n");
  for (const auto& [key, u] : usage)
    fmt::print(
        "| {} | {} | {:.0f} | {:.0f} | {:.0f} | {:.1f} % |\n", key.first,
        tile_kind_name(key.second), static_cast<double>(u.parts) / n,
        static_cast<double>(u.bytes) / n,
        static_cast<double>(u.bytes) / static_cast<double>(std::max<std::size_t>(1, u.parts)),
        100.0 * static_cast<double>(u.bytes) /
            static_cast<double>(std::max<std::size_t>(1, total)));
  return 0;
}
