// A fixed number of in-process queries, as `GET /v1/users/{id}/signals` runs them (every
// signal and view, "seen" reported, the answer rendered as JSON), for instruction counts
// under valgrind: the queries run inside run_queries(), so that
//   valgrind --tool=callgrind --toggle-collect='*run_queries*' query_profile ...
// counts them alone (store opening and a warm-up pass are left out) and the total divided
// by the queries printed is the cost of one query.
// Usage: query_profile --config demo.yaml --events events.ndjson --users light|heavy|FILE
//                      [--queries N] [--show N] [--open read-only|writable]
//                      [--span-cache BYTES] [--as-of TIME]
// The store named by the config is loaded from the events by a replay when it does not exist
// yet. Light users are a fixed sample of those at or below the median activity, heavy ones
// the 3 most active (as engine_bench picks them); a FILE names the users, one id a line (the
// benchmark's light.txt, say: many more users than the light tier's 50, whose entries no
// longer all fit in the caches, for valgrind's --cache-sim=yes). --show prints the answers of the
// first N users (to compare builds). The store is opened read-only by default, as `signalbox
// get` opens it; `--open writable` opens it as `serve` does (no expiry runs either way), which
// matters for what a snapshot costs: a writable store knows its own latest writes. Queries
// are as of the end of the stream, or --as-of (ms since the epoch or an ISO-8601 time, as
// `signalbox get --as-of`), which the windows of the config must be able to answer from the
// online state: for the demo config, at most a few minutes before the end. Data generated to
// end at noon (`--end-ms`) gives partial days of half a day of hours instead.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "signalbox/common/error.h"
#include "signalbox/common/time.h"
#include "signalbox/config/config.h"
#include "signalbox/engine/engine.h"
#include "signalbox/ingest/replay.h"

#include "user_tiers.h"

namespace fs = std::filesystem;
using namespace signalbox;

namespace {

// The answer to every signal and view of `user` as the HTTP API writes it.
std::string answer_of(Engine& engine, std::uint64_t user, TimeMs as_of) {
  std::string answer;
  engine.query_json(user, {}, as_of, Engine::Seen::kReport, answer);
  return answer;
}

// Kept out of line: callgrind's --toggle-collect names it.
[[gnu::noinline]] std::size_t run_queries(Engine& engine, const std::vector<std::uint64_t>& users,
                                          std::size_t queries, TimeMs as_of) {
  std::size_t bytes = 0;
  for (std::size_t q = 0; q < queries; ++q)
    bytes += answer_of(engine, users[q % users.size()], as_of).size();
  return bytes;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i + 1 < argc; i += 2) args[argv[i]] = argv[i + 1];
  if (!args.count("--config") || !args.count("--events") || !args.count("--users")) {
    fmt::print(stderr,
               "usage: query_profile --config demo.yaml --events events.ndjson "
               "--users light|heavy|FILE [--queries N] [--show N] [--open read-only|writable] "
               "[--span-cache BYTES] [--as-of TIME]\n");
    return 2;
  }
  Config config = load_config(args["--config"]);
  if (!fs::exists(config.storage.path)) {
    Engine engine(config);
    ReplayOptions quiet;
    quiet.progress = false;
    replay_files(engine, {args["--events"]}, quiet);
    engine.expire(Engine::ExpireOptions{.compact_tiles = true, .compact = true});
    engine.flush();
  }
  const std::string& asked = args["--users"];
  std::vector<std::uint64_t> users;
  if (asked == "heavy" || asked == "light") {
    bench::UserTiers tiers = bench::user_tiers(bench::count_events_per_user(args["--events"]));
    users = asked == "heavy" ? tiers.heavy : tiers.light;
  } else {
    std::ifstream listed(asked);
    if (!listed) {
      fmt::print(stderr, "--users: {} is neither light, heavy nor a readable file\n", asked);
      return 2;
    }
    for (std::uint64_t user; listed >> user;) users.push_back(user);
    if (!listed.eof() || users.empty()) {
      fmt::print(stderr, "--users: {} does not hold user ids, one a line\n", asked);
      return 2;
    }
  }
  const std::size_t queries = args.count("--queries") ? std::stoul(args["--queries"]) : 200;
  const std::string open = args.count("--open") ? args["--open"] : "read-only";
  if (open != "read-only" && open != "writable") {
    fmt::print(stderr, "--open is read-only or writable, not {}\n", open);
    return 2;
  }
  Engine::Options options;
  options.read_only = open == "read-only";
  options.auto_expire = false;
  // --span-cache 0: every query merges its day tiles one by one (what a query whose runs are
  // not cached costs); by default the warm-up below fills the cache.
  if (args.count("--span-cache")) options.span_cache_bytes = std::stoul(args["--span-cache"]);
  Engine engine(config, options);
  TimeMs end = engine.stream_time();
  if (args.count("--as-of")) {
    std::string problem;
    const std::optional<TimeMs> as_of = parse_time(args["--as-of"], &problem);
    if (!as_of) {
      fmt::print(stderr, "--as-of: \"{}\" {}\n", args["--as-of"], problem);
      return 2;
    }
    end = *as_of;
  }
  // A warm-up outside run_queries(): block cache, first allocations; and a time the online
  // state cannot answer is refused here.
  try {
    for (std::uint64_t user : users) answer_of(engine, user, end);
  } catch (const QueryError& e) {
    fmt::print(stderr, "query_profile: {}\n", e.what());
    return 2;
  }
  const std::size_t show = args.count("--show") ? std::stoul(args["--show"]) : 0;
  for (std::size_t i = 0; i < std::min(show, users.size()); ++i)
    fmt::print("{}\n", answer_of(engine, users[i], end));
  std::size_t bytes = run_queries(engine, users, queries, end);
  fmt::print("{} queries of {} {} users, {} bytes of JSON\n", queries, users.size(),
             args["--users"], bytes);
  return 0;
}
