// The `signalbox` command line (SPEC §6). Exit status: 0 success, 2 usage or config error,
// 1 any other failure, each failure with one clear line on stderr.

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "signalbox/backfill/backfill.h"
#include "signalbox/common/error.h"
#include "signalbox/config/config.h"
#include "signalbox/engine/engine.h"
#include "signalbox/fixture/fixture.h"
#include "signalbox/ingest/replay.h"
#include "signalbox/serve/http_server.h"

namespace signalbox {
namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

std::vector<std::string> split_names(const std::string& csv) {
  std::vector<std::string> names;
  std::size_t start = 0;
  while (start <= csv.size()) {
    std::size_t comma = csv.find(',', start);
    if (comma == std::string::npos) comma = csv.size();
    if (comma > start) names.push_back(csv.substr(start, comma - start));
    start = comma + 1;
  }
  return names;
}

int run_check(const std::string& config_path) {
  Config config = load_config(config_path);
  Engine::Options options;
  options.open_store = false;
  Engine engine(config, options);
  fmt::print("{}: ok ({} signals, {} views, {} features, {} sources)\n", config_path,
             config.signals.size(), config.views.size(), config.features.size(),
             config.sources.size());
  return 0;
}

int run_replay(const std::string& config_path, const std::vector<std::string>& files,
               bool quiet, bool allow_rejects, std::size_t max_errors_shown) {
  Config config = load_config(config_path);
  Engine engine(config);
  ReplayOptions options;
  options.progress = !quiet;
  std::size_t shown = 0;
  std::string first_error;
  options.on_reject = [&](const std::string& message) {
    if (first_error.empty()) first_error = message;
    if (shown++ < max_errors_shown) fmt::print(stderr, "rejected: {}\n", message);
  };
  ReplayStats stats = replay_files(engine, files, options);
  engine.expire(Engine::ExpireOptions{.compact_tiles = true});
  engine.flush();
  if (shown > max_errors_shown)
    fmt::print(stderr, "rejected: ... and {} more\n", shown - max_errors_shown);
  fmt::print("replayed {} lines: {} events accepted ({} duplicates), {} rejected; stream time {}\n",
             stats.lines, stats.accepted, stats.duplicates, stats.rejected, engine.stream_time());
  if (stats.rejected > 0 && !allow_rejects) {
    fmt::print(stderr, "signalbox replay: {} of {} events rejected (first: {})\n", stats.rejected,
               stats.accepted + stats.rejected, first_error);
    return kExitFailure;
  }
  return 0;
}

int run_get(const std::string& config_path, const std::string& user, const std::string& names,
            const std::optional<std::int64_t>& as_of) {
  std::uint64_t user_id = 0;
  auto [end, ec] = std::from_chars(user.data(), user.data() + user.size(), user_id);
  if (ec != std::errc() || end != user.data() + user.size()) {
    fmt::print(stderr, "signalbox get: --user: \"{}\" is not an unsigned 64-bit integer\n", user);
    return kExitUsage;
  }
  Config config = load_config(config_path);
  Engine::Options options;
  options.read_only = true;
  options.auto_expire = false;
  Engine engine(config, options);
  Value answer = engine.query(user_id, split_names(names), as_of);
  fmt::print("{}\n", answer.to_json());
  return 0;
}

// Set by SIGINT or SIGTERM during a backfill, which then stops and removes its temporary data.
std::atomic<bool> backfill_stop{false};

void stop_backfill(int signal) {
  backfill_stop.store(true);
  std::signal(signal, SIG_DFL);  // a second signal ends the process at once
}

struct BackfillArgs {
  std::vector<std::string> events;
  std::string queries, out, lateness, tmp_dir;
  bool quiet = false;
  std::size_t max_errors = 20;
};

int run_backfill_command(const std::string& config_path, const BackfillArgs& args) {
  BackfillOptions options;
  if (!args.lateness.empty()) {
    options.lateness =
        args.lateness == "0" ? std::optional<TimeMs>(0) : parse_duration(args.lateness);
    if (!options.lateness) {
      fmt::print(stderr, "signalbox backfill: --lateness: \"{}\" is not a duration (use "
                 "<integer><unit>, unit ms, s, m, h or d, or 0)\n", args.lateness);
      return kExitUsage;
    }
  }
  if (args.queries == "-" && std::count(args.events.begin(), args.events.end(), "-") > 0) {
    fmt::print(stderr,
               "signalbox backfill: --queries and --events cannot both read standard input\n");
    return kExitUsage;
  }
  Config config = load_config(config_path);
  std::vector<BackfillQuery> queries = read_query_file(args.queries);
  options.event_files = args.events;
  options.out = args.out;
  options.tmp_dir = args.tmp_dir;
  options.progress = !args.quiet;
  options.stop = &backfill_stop;
  std::size_t shown = 0;
  options.on_reject = [&](const std::string& message) {
    if (shown++ < args.max_errors) fmt::print(stderr, "rejected: {}\n", message);
  };
  std::signal(SIGINT, stop_backfill);
  std::signal(SIGTERM, stop_backfill);
  BackfillStats stats = run_backfill(config, queries, options);
  if (shown > args.max_errors)
    fmt::print(stderr, "rejected: ... and {} more\n", shown - args.max_errors);
  if (stats.query_errors > 0)
    fmt::print(stderr, "signalbox backfill: {} of {} queries refused (first: {})\n",
               stats.query_errors, stats.queries, stats.first_query_error);
  // With the answers on standard output, the summary must not mix into them.
  fmt::print(args.out == "-" ? stderr : stdout, "{}\n", summary_line(stats));
  return 0;
}

int run_serve(const std::string& config_path) {
  Config config = load_config(config_path);
  for (std::size_t i = 0; i < config.ingest.size(); ++i) {
    const IngestConfig& ingest = config.ingest[i];
    if (ingest.kind == "kafka") {
      throw_config_error(ingest.where, fmt::format("ingest[{}].kind", i),
                         "kafka ingest is not supported by this build yet (use http, or leave "
                         "out the ingest section for HTTP only)");
    }
  }
  if (config.server.grpc) {
    throw ConfigError(fmt::format("{}: server.grpc: gRPC is not served by this build yet (leave "
                                  "server.grpc out for HTTP only)",
                                  config.file.string()));
  }
  spdlog::set_default_logger(spdlog::stderr_logger_mt("signalbox"));
  Engine engine(config);
  HttpServerOptions options;
  options.address = config.server.http;
  options.max_body_bytes = config.server.max_body_bytes;
  HttpServer server(engine, options);
  server.listen();
  spdlog::info("signalbox serve: listening on http://{} ({} signals, {} views)",
               server.local_address(), config.signals.size(), config.views.size());
  server.run();
  engine.flush();
  spdlog::info("signalbox serve: stopped");
  return 0;
}

// Runs every fixture, reporting each; a bad fixture does not stop the others.
int run_test(const std::vector<std::string>& fixtures) {
  bool bad = false, failed = false;
  for (const std::string& file : fixtures) {
    try {
      FixtureResult result = run_fixture(file);
      if (result.mismatches == 0) {
        fmt::print("ok    {} ({} checks)\n", file, result.checks);
      } else {
        failed = true;
        fmt::print("FAIL  {} ({} of {} checks differ)\n{}", file, result.mismatches,
                   result.checks, result.report);
      }
    } catch (const FixtureError& e) {
      bad = true;
      fmt::print(stderr, "signalbox test: bad fixture: {}\n", e.what());
    } catch (const ConfigError& e) {
      bad = true;
      fmt::print(stderr, "signalbox test: {}: config error: {}\n", file, e.what());
    }
  }
  std::fflush(stdout);
  return bad ? kExitUsage : failed ? kExitFailure : 0;
}

int main_impl(int argc, char** argv) {
  CLI::App app{"Signalbox: real-time user signals for ranking and recommendation"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "signalbox 0.1.0");

  std::string config_path;
  auto add_config = [&](CLI::App* cmd) {
    cmd->add_option("--config,-c", config_path, "config file (YAML)")->required();
  };

  CLI::App* serve = app.add_subcommand("serve", "ingest and serve signals over HTTP until SIGTERM");
  add_config(serve);

  CLI::App* check = app.add_subcommand("check", "validate a config");
  add_config(check);

  CLI::App* replay = app.add_subcommand("replay", "ingest NDJSON files (.gz too; - for stdin)");
  add_config(replay);
  std::vector<std::string> files;
  bool quiet = false, allow_rejects = false;
  std::size_t max_errors = 20;
  replay->add_option("files", files, "NDJSON files")->required();
  replay->add_flag("--quiet,-q", quiet, "no progress output");
  replay->add_flag("--allow-rejects", allow_rejects, "exit 0 even when some events are rejected");
  replay->add_option("--max-errors", max_errors, "rejected events listed at most (default 20)");

  CLI::App* get = app.add_subcommand("get", "print one user's signals as JSON, read from storage");
  add_config(get);
  std::string user, names;
  std::optional<std::int64_t> as_of;
  get->add_option("--user,-u", user, "user id")->required();
  get->add_option("--names,-n", names, "signals and views, comma-separated (default: all)");
  get->add_option("--as-of", as_of, "time in ms since the epoch (default: now)");

  CLI::App* test = app.add_subcommand("test", "run signal fixtures (docs/testing-signals.md)");
  std::vector<std::string> fixtures;
  test->add_option("fixtures", fixtures, "fixture files (YAML)")->required();

  CLI::App* backfill = app.add_subcommand(
      "backfill", "point-in-time signals for user_id,as_of rows, from event logs");
  add_config(backfill);
  BackfillArgs backfill_args;
  backfill
      ->add_option("--events,-e", backfill_args.events,
                   "NDJSON event logs in order (.gz too; - for stdin)")
      ->required();
  backfill->add_option("--queries", backfill_args.queries, "CSV of user_id,as_of rows")->required();
  backfill
      ->add_option("--out,-o", backfill_args.out,
                   "NDJSON answers, one line per query (- for stdout)")
      ->required();
  backfill->add_option("--lateness", backfill_args.lateness,
                       "how far the log may run out of order (default: max_future_skew)");
  backfill->add_option("--tmp-dir", backfill_args.tmp_dir,
                       "temporary data folder (default: the output's)");
  backfill->add_flag("--quiet,-q", backfill_args.quiet, "no progress output");
  backfill->add_option("--max-errors", backfill_args.max_errors,
                       "rejected events listed at most (default 20)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }

  try {
    if (*serve) return run_serve(config_path);
    if (*check) return run_check(config_path);
    if (*replay) return run_replay(config_path, files, quiet, allow_rejects, max_errors);
    if (*get) return run_get(config_path, user, names, as_of);
    if (*test) return run_test(fixtures);
    if (*backfill) return run_backfill_command(config_path, backfill_args);
  } catch (const ConfigError& e) {
    fmt::print(stderr, "signalbox: config error: {}\n", e.what());
    return kExitUsage;
  } catch (const QueryError& e) {
    fmt::print(stderr, "signalbox: {}\n", e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    fmt::print(stderr, "signalbox: {}\n", e.what());
    return kExitFailure;
  }
  return kExitUsage;
}

}  // namespace
}  // namespace signalbox

int main(int argc, char** argv) { return signalbox::main_impl(argc, argv); }
