// The `signalbox` command line (docs/cli.md). Exit status: 0 success, 2 usage or config error,
// 1 any other failure, each failure with one clear line on stderr.

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <iostream>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "signalbox/backfill/backfill.h"
#include "signalbox/backfill/rebuild.h"
#include "signalbox/cli/init_project.h"
#include "signalbox/cli/starter_project.h"
#include "signalbox/common/byte_size.h"
#include "signalbox/common/error.h"
#include "signalbox/common/logging.h"
#include "signalbox/common/time.h"
#include "signalbox/config/config.h"
#include "signalbox/engine/bootstrap_runner.h"
#include "signalbox/engine/engine.h"
#include "signalbox/fixture/fixture.h"
#include "signalbox/grpc/grpc_server.h"
#include "signalbox/ingest/kafka/kafka_ingest.h"
#include "signalbox/ingest/replay.h"
#include "signalbox/metrics/registry.h"
#include "signalbox/process/engine_upkeep.h"
#include "signalbox/process/process_runner.h"
#include "signalbox/serve/http_server.h"
#include "signalbox/serve/server_options.h"
#include "signalbox/verify/metrics_file.h"
#include "signalbox/verify/server_values.h"
#include "signalbox/verify/store_values.h"
#include "signalbox/verify/verify.h"

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

// Set once the log writes JSON: the last words of a failing command go through it too, so
// that every stderr line parses.
bool json_logging = false;

// The failure line of main_impl() for `e`.
void print_failure(std::string_view prefix, const std::exception& e) {
  // Even with the log off, a failure gets its line.
  if (json_logging && spdlog::should_log(spdlog::level::err)) {
    spdlog::error("{}{}", prefix, e.what());
  } else {
    fmt::print(stderr, "{}{}\n", prefix, e.what());
  }
}

// Sets up the log from the config's log section; `cli_level` (--log-level), when given,
// overrides its level. Both are checked before this runs.
void start_logging(const Config& config, const std::string& cli_level) {
  json_logging = config.log.format == "json";
  configure_logging(*parse_log_level(cli_level.empty() ? config.log.level : cli_level),
                    *parse_log_format(config.log.format));
}

int run_check(const std::string& config_path) {
  Config config = load_config(config_path);
  for (const IngestConfig& ingest : config.ingest) {
    if (ingest.kind == "kafka") KafkaIngestOptions::from_config(ingest, config);
  }
  Engine::Options options;
  options.open_store = false;
  Engine engine(config, options);
  fmt::print("{}: ok ({} signals, {} views, {} features, {} sources)\n", config_path,
             config.signals.size(), config.views.size(), config.features.size(),
             config.sources.size());
  return 0;
}

struct ReplayArgs {
  std::vector<std::string> files;
  bool quiet = false, allow_rejects = false, presorted = false, resume = false, restart = false;
  std::size_t max_errors = 20;
  std::size_t batch_lines = ReplayOptions().batch_lines;
  std::string tmp_dir, sort_memory, log_level;
};

int run_replay(const std::string& config_path, const ReplayArgs& args) {
  ReplayOptions options;
  if (!args.sort_memory.empty()) {
    std::optional<std::uint64_t> bytes = parse_byte_size(args.sort_memory);
    if (!bytes) {
      fmt::print(stderr,
                 "signalbox replay: --sort-memory: \"{}\" is not a size (use bytes, or "
                 "<integer><unit> with unit B, KiB, MiB, GiB or TiB, e.g. 512MiB)\n",
                 args.sort_memory);
      return kExitUsage;
    }
    options.sort_memory = static_cast<std::size_t>(*bytes);
  }
  if (std::count(args.files.begin(), args.files.end(), "-") > 1) {
    fmt::print(stderr, "signalbox replay: -: standard input can be read only once\n");
    return kExitUsage;
  }
  if (args.resume && args.restart) {
    fmt::print(stderr, "signalbox replay: --resume and --restart exclude each other\n");
    return kExitUsage;
  }
  options.interrupted = args.resume    ? InterruptedReplay::kResume
                        : args.restart ? InterruptedReplay::kRestart
                                       : InterruptedReplay::kRefuse;
  Config config = load_config(config_path);
  start_logging(config, args.log_level);
  // Nothing queries the store while it replays: large batches are bulk-loaded.
  Engine::Options engine_options;
  engine_options.bulk_load = true;
  Engine engine(config, engine_options);
  options.progress = !args.quiet;
  options.presorted = args.presorted;
  options.tmp_dir = args.tmp_dir;
  options.batch_lines = args.batch_lines;
  std::size_t shown = 0;
  std::string first_error;
  const std::size_t max_errors_shown = args.max_errors;
  options.on_reject = [&](const std::string& message) {
    if (first_error.empty()) first_error = message;
    if (shown++ < max_errors_shown) fmt::print(stderr, "rejected: {}\n", message);
  };
  // New or changed signals first take what the store holds, at full speed: nothing is served.
  const std::atomic<bool> never_stop{false};
  run_bootstrap(engine, BootstrapOptions{}, never_stop);
  ReplayStats stats;
  try {
    stats = replay_files(engine, args.files, options);
  } catch (const ReplayInterrupted& e) {
    fmt::print(stderr, "signalbox replay: {}\n", e.what());
    return kExitUsage;
  }
  if (args.resume && !stats.found_interrupted)
    fmt::print(stderr,
               "signalbox replay: --resume: no interrupted replay in this store; replayed from the "
               "start\n");
  if (stats.resumed_after > 0)
    fmt::print("resumed an interrupted replay after its first {} lines (stored before)\n",
               stats.resumed_after);
  engine.expire(Engine::ExpireOptions{.compact_tiles = true});
  engine.flush();
  if (shown > max_errors_shown)
    fmt::print(stderr, "rejected: ... and {} more\n", shown - max_errors_shown);
  const TimeMs stream_time = engine.stream_time();
  fmt::print(
      "replayed {} lines{}: {} events accepted ({} duplicates), {} rejected; stream time "
      "{}{}\n",
      stats.lines, stats.sorted ? " (sorted by ts first)" : "", stats.accepted, stats.duplicates,
      stats.rejected, stream_time,
      stream_time > 0 ? fmt::format(" ({})", format_iso_time(stream_time)) : "");
  if (stats.rejected > 0 && !args.allow_rejects) {
    fmt::print(stderr, "signalbox replay: {} of {} events rejected (first: {})\n", stats.rejected,
               stats.accepted + stats.rejected, first_error);
    return kExitFailure;
  }
  return 0;
}

int run_get(const std::string& config_path, const std::string& user, const std::string& names,
            const std::optional<std::string>& as_of_text) {
  std::uint64_t user_id = 0;
  auto [end, ec] = std::from_chars(user.data(), user.data() + user.size(), user_id);
  if (ec != std::errc() || end != user.data() + user.size()) {
    fmt::print(stderr, "signalbox get: --user: \"{}\" is not an unsigned 64-bit integer\n", user);
    return kExitUsage;
  }
  std::optional<TimeMs> as_of;
  if (as_of_text) {
    std::string problem;
    as_of = parse_time(*as_of_text, &problem);
    if (!as_of) {
      fmt::print(stderr, "signalbox get: --as-of: \"{}\" {}\n", *as_of_text, problem);
      return kExitUsage;
    }
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

struct ExplainArgs {
  std::string user, signal;
  std::optional<std::string> window, as_of;
  std::size_t max_events = Engine::ExplainOptions().max_events;
};

int run_explain(const std::string& config_path, const ExplainArgs& args) {
  std::uint64_t user_id = 0;
  auto [end, ec] = std::from_chars(args.user.data(), args.user.data() + args.user.size(), user_id);
  if (ec != std::errc() || end != args.user.data() + args.user.size()) {
    fmt::print(stderr, "signalbox explain: --user: \"{}\" is not an unsigned 64-bit integer\n",
               args.user);
    return kExitUsage;
  }
  std::optional<TimeMs> as_of;
  if (args.as_of) {
    std::string problem;
    as_of = parse_time(*args.as_of, &problem);
    if (!as_of) {
      fmt::print(stderr, "signalbox explain: --as-of: \"{}\" {}\n", *args.as_of, problem);
      return kExitUsage;
    }
  }
  Config config = load_config(config_path);
  Engine::Options options;
  options.read_only = true;
  options.auto_expire = false;
  Engine engine(config, options);
  Value answer =
      engine.explain(user_id, args.signal, args.window, as_of, {.max_events = args.max_events});
  fmt::print("{}\n", answer.to_json());
  return 0;
}

// The N of "top:N" (N >= 1); nullopt for anything else.
std::optional<std::size_t> parse_top_keys(const std::string& text) {
  constexpr std::string_view kPrefix = "top:";
  if (text.rfind(kPrefix, 0) != 0) return std::nullopt;
  std::size_t n = 0;
  const char* begin = text.data() + kPrefix.size();
  const char* end = text.data() + text.size();
  auto [rest, ec] = std::from_chars(begin, end, n);
  if (ec != std::errc() || rest != end || rest == begin || n == 0) return std::nullopt;
  return n;
}

// Set by SIGINT or SIGTERM during a backfill, which then stops and removes its temporary data.
std::atomic<bool> backfill_stop{false};

void stop_backfill(int signal) {
  backfill_stop.store(true);
  std::signal(signal, SIG_DFL);  // a second signal ends the process at once
}

struct BackfillArgs {
  std::vector<std::string> events;
  std::string queries, out, lateness, tmp_dir, log_level, names, format = "json", keys;
  bool quiet = false, presorted = false, arrival_order = false;
  std::size_t max_errors = 20;
};

int run_backfill_command(const std::string& config_path, const BackfillArgs& args) {
  BackfillOptions options;
  if (!args.lateness.empty() && !args.arrival_order) {
    fmt::print(stderr,
               "signalbox backfill: --lateness applies only with --arrival-order (in "
               "event time the log is read in ts order, where nothing is late)\n");
    return kExitUsage;
  }
  if (args.presorted && args.arrival_order) {
    fmt::print(stderr,
               "signalbox backfill: --presorted and --arrival-order exclude each other "
               "(arrival order reads the logs as given)\n");
    return kExitUsage;
  }
  options.arrival_order = args.arrival_order;
  options.presorted = args.presorted;
  if (!args.lateness.empty()) {
    options.lateness =
        args.lateness == "0" ? std::optional<TimeMs>(0) : parse_duration(args.lateness);
    if (!options.lateness) {
      fmt::print(stderr,
                 "signalbox backfill: --lateness: \"{}\" is not a duration (use "
                 "<integer><unit>, unit ms, s, m, h or d, or 0)\n",
                 args.lateness);
      return kExitUsage;
    }
  }
  options.format = args.format == "csv" ? BackfillFormat::kCsv : BackfillFormat::kJson;
  if (!args.keys.empty()) {
    options.top_keys = parse_top_keys(args.keys);
    if (!options.top_keys && args.keys != "all") {
      fmt::print(stderr, "signalbox backfill: --keys: \"{}\" is not all or top:N (N >= 1)\n",
                 args.keys);
      return kExitUsage;
    }
    if (options.format != BackfillFormat::kCsv) {
      fmt::print(stderr,
                 "signalbox backfill: --keys applies only with --format csv (JSON keeps "
                 "every key of each answer)\n");
      return kExitUsage;
    }
  }
  options.names = split_names(args.names);
  if (args.queries == "-" && std::count(args.events.begin(), args.events.end(), "-") > 0) {
    fmt::print(stderr,
               "signalbox backfill: --queries and --events cannot both read standard input\n");
    return kExitUsage;
  }
  Config config = load_config(config_path);
  start_logging(config, args.log_level);
  QueryFile query_file = read_query_file(args.queries);
  options.extra_columns = query_file.extra_columns;
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
  BackfillStats stats = run_backfill(config, query_file.queries, options);
  if (shown > args.max_errors)
    fmt::print(stderr, "rejected: ... and {} more\n", shown - args.max_errors);
  if (stats.query_errors > 0)
    fmt::print(stderr, "signalbox backfill: {} of {} queries refused (first: {})\n",
               stats.query_errors, stats.queries, stats.first_query_error);
  // With the answers on standard output, the summary must not mix into them.
  fmt::print(args.out == "-" ? stderr : stdout, "{}\n", summary_line(stats));
  // Rows holding an error are no training data: a pipeline must notice.
  return stats.query_errors > 0 ? 1 : 0;
}

struct RebuildArgs {
  std::vector<std::string> events;
  std::string tmp_dir, log_level;
  bool quiet = false, presorted = false, all_history = false;
  std::size_t max_errors = 20;
};

int run_rebuild_command(const std::string& config_path, const RebuildArgs& args) {
  if (std::count(args.events.begin(), args.events.end(), "-") > 1) {
    fmt::print(stderr, "signalbox rebuild: -: standard input can be read only once\n");
    return kExitUsage;
  }
  Config config = load_config(config_path);
  start_logging(config, args.log_level);
  // A server on the same store is refused here: RocksDB locks its folder.
  Engine engine(config);
  const std::atomic<bool> never_stop{false};
  run_bootstrap(engine, BootstrapOptions{}, never_stop);
  RebuildOptions options;
  options.presorted = args.presorted;
  options.all_history = args.all_history;
  options.tmp_dir = args.tmp_dir;
  options.progress = !args.quiet;
  std::size_t shown = 0;
  options.on_reject = [&](const std::string& message) {
    if (shown++ < args.max_errors) fmt::print(stderr, "rejected: {}\n", message);
  };
  RebuildStats stats = rebuild_from_logs(engine, args.events, options);
  if (!stats.needed) {
    fmt::print("every signal is complete for all of history: nothing to rebuild\n");
    return 0;
  }
  engine.expire(Engine::ExpireOptions{.compact_tiles = true});
  engine.flush();
  if (shown > args.max_errors)
    fmt::print(stderr, "rejected: ... and {} more\n", shown - args.max_errors);
  std::vector<std::string> incomplete;
  for (const SignalConfig& s : config.signals) {
    const TimeMs since = engine.complete_since(s.name);
    if (since > 0) incomplete.push_back(fmt::format("{} since {}", s.name, format_iso_time(since)));
  }
  fmt::print(
      "rebuilt from {} lines{}: {} events ({} repeated), {} folded into signals not yet complete, "
      "{} "
      "rejected; {}\n",
      stats.lines, stats.sorted ? " (sorted by ts first)" : "", stats.events, stats.repeats,
      stats.folded, stats.rejected,
      incomplete.empty() ? std::string("every signal is complete for all of history")
                         : fmt::format("complete: {}", fmt::join(incomplete, ", ")));
  return 0;
}

struct VerifyArgs {
  std::vector<std::string> events;
  std::string server, names, metrics_file, tmp_dir, log_level;
  std::size_t sample = VerifyOptions().sample_users;
  std::size_t points = VerifyOptions().points_per_user;
  std::uint64_t seed = VerifyOptions().seed;
  double threshold = 1.0;
  double tolerance = VerifyOptions().tolerance;
  bool json = false, quiet = false;
};

int run_verify_command(const std::string& config_path, const VerifyArgs& args) {
  std::optional<ServerUrl> url;
  if (!args.server.empty()) {
    std::string problem;
    url = parse_server_url(args.server, &problem);
    if (!url) {
      fmt::print(stderr, "signalbox verify: --server: \"{}\" {}\n", args.server, problem);
      return kExitUsage;
    }
  }
  VerifyOptions options;
  options.event_files = args.events;
  options.sample_users = args.sample;
  options.points_per_user = args.points;
  options.seed = args.seed;
  options.names = split_names(args.names);
  options.tolerance = args.tolerance;
  options.tmp_dir = args.tmp_dir;
  options.progress = !args.quiet;
  options.stop = &backfill_stop;
  Config config = load_config(config_path);
  start_logging(config, args.log_level);
  try {
    check_verify_options(config, options);
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "signalbox verify: {}\n", e.what());
    return kExitUsage;
  }
  std::unique_ptr<ServedValues> served;
  if (url)
    served = std::make_unique<ServerValues>(*url, config);
  else
    served = std::make_unique<StoreValues>(config);
  std::signal(SIGINT, stop_backfill);
  std::signal(SIGTERM, stop_backfill);
  VerifyReport report;
  try {
    report = run_verify(config, *served, options);
  } catch (const QueryError& e) {
    // Refused by what serves for another reason than the time asked: not a usage error here.
    fmt::print(stderr, "signalbox verify: {}\n", e.what());
    return kExitFailure;
  }
  const std::string text = args.json ? format_report_json(report, args.threshold) + "\n"
                                     : format_report_table(report, args.threshold);
  fmt::print("{}", text);
  std::fflush(stdout);
  if (!args.metrics_file.empty())
    write_metrics_file(args.metrics_file,
                       format_report_metrics(report, args.threshold, wall_clock_ms()));
  if (report.passes(args.threshold)) return 0;
  if (report.points_compared == 0) {
    fmt::print(stderr,
               "signalbox verify: nothing compared: no sampled user has a time {} can answer\n",
               report.served_by);
  } else {
    std::string failing;
    for (const SignalTally* tally : report.below(args.threshold))
      failing += fmt::format("{}{}{}{}", failing.empty() ? "" : ", ", tally->name(),
                             tally->window().empty() ? "" : " ", tally->window());
    fmt::print(stderr,
               "signalbox verify: {} of {} signal windows below the match threshold {}: {}\n",
               report.below(args.threshold).size(), report.tallies.size(), args.threshold, failing);
  }
  return kExitFailure;
}

// --http and --grpc of `serve`: addresses that replace the config's server.http and
// server.grpc when given.
struct ServeAddresses {
  std::string http, grpc;
};

// How often `serve` runs Engine::expire(false), by the wall clock (docs/http-api.md, Expiry).
constexpr std::chrono::seconds kExpireInterval(60);

// About ten steps a second at the configured rate, so that the rate holds smoothly, and at
// most 2 000 events per step, for which ingest may wait.
BootstrapOptions serve_bootstrap_options(std::uint64_t events_per_second) {
  BootstrapOptions options;
  options.events_per_second = events_per_second;
  if (events_per_second > 0)
    options.events_per_step =
        static_cast<std::size_t>(std::clamp<std::uint64_t>(events_per_second / 10, 1, 2000));
  return options;
}

int run_serve(const std::string& config_path, const std::string& log_level,
              const ServeAddresses& addresses) {
  for (auto [flag, address] :
       {std::pair{"--http", &addresses.http}, std::pair{"--grpc", &addresses.grpc}}) {
    if (!address->empty() && !is_endpoint(*address)) {
      fmt::print(stderr, "signalbox serve: {}: bad address \"{}\" (use host:port, port 1-65535)\n",
                 flag, *address);
      return kExitUsage;
    }
  }
  Config config = load_config(config_path);
  if (!addresses.http.empty()) config.server.http = addresses.http;
  if (!addresses.grpc.empty()) config.server.grpc = addresses.grpc;
  start_logging(config, log_level);
  std::vector<KafkaIngestOptions> kafka_options;
  for (const IngestConfig& ingest : config.ingest) {
    if (ingest.kind == "kafka")
      kafka_options.push_back(KafkaIngestOptions::from_config(ingest, config));
  }
  log_event(spdlog::level::info, "signalbox serve: starting",
            {{"version", SIGNALBOX_VERSION},
             {"config", config.file.string()},
             {"storage", config.storage.kind == "rocksdb" ? config.storage.path.string()
                                                          : config.storage.kind},
             {"http", config.server.http},
             {"signals", config.signals.size()},
             {"views", config.views.size()},
             {"sources", config.sources.size()},
             {"retention_ms", config.event_store.retention},
             {"log_level", log_level.empty() ? config.log.level : log_level},
             {"log_format", config.log.format}});
  Engine engine(config);
  // The process's metrics, shared by every front end and exposed by GET /metrics; declared
  // first so that it outlives them.
  MetricsRegistry metrics;
  // One consumer per kafka entry; an unreachable broker is logged and retried, never fatal.
  std::vector<std::unique_ptr<KafkaIngest>> kafka_ingests;
  // gRPC (server.grpc) serves the same engine.
  std::unique_ptr<GrpcServer> grpc_server;
  HttpServerOptions options = http_server_options(config);
  options.metrics = &metrics;
  HttpServer server(engine, options);
  if (config.server.grpc) {
    GrpcServerOptions grpc_options = grpc_server_options(config);
    grpc_options.metrics = &metrics;
    grpc_options.admission = &server.admission();
    grpc_options.access = options.access;
    grpc_server = std::make_unique<GrpcServer>(engine, std::move(grpc_options));
  }
  for (KafkaIngestOptions& o : kafka_options) {
    o.metrics = &metrics;
    kafka_ingests.push_back(std::make_unique<KafkaIngest>(engine, std::move(o)));
  }
  server.api().set_slow_query_threshold(std::chrono::milliseconds(config.log.slow_query));
  // The process's lifecycle: from here on SIGTERM / SIGINT stop every service (a second one
  // closes busy connections at once) and SIGHUP reloads the sources. Declared after the
  // services, so that it stops and waits for them before they are destroyed. Started in this
  // order, HTTP last so that /healthz answers once everything runs; stopped together: on a
  // stop, each consumer ingests and commits its batch in flight, then leaves its group.
  ProcessRunner runner(ProcessRunnerOptions{
      .name = "signalbox serve", .on_reload = [&engine] { reload_sources_and_log(engine); }});
  if (grpc_server) runner.add(*grpc_server);
  for (auto& kafka : kafka_ingests) runner.add(*kafka);
  runner.add(server);
  runner.every(kExpireInterval, "expiring old events", [&engine] { expire_and_log(engine); });
  // Bound first: an HTTP address taken fails the start before anything else runs.
  server.listen();
  // New or changed signals are built from the stored raw events while the server runs.
  BackgroundBootstrap bootstrap(engine, serve_bootstrap_options(config.event_store.bootstrap_rate));
  runner.start();
  log_event(spdlog::level::info,
            fmt::format("signalbox serve: listening on http://{} ({} signals, {} views)",
                        server.local_address(), config.signals.size(), config.views.size()),
            {{"address", server.local_address()}});
  if (grpc_server) {
    log_event(spdlog::level::info,
              fmt::format("signalbox serve: listening on grpc://{}", grpc_server->local_address()),
              {{"grpc_address", grpc_server->local_address()}});
  }
  runner.wait();
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
        fmt::print("FAIL  {} ({} of {} checks differ)\n{}", file, result.mismatches, result.checks,
                   result.report);
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

int run_init(const std::string& dir, bool force) {
  try {
    write_project(dir, starter_project(wall_clock_ms(), SIGNALBOX_SOURCE_TREE), force);
  } catch (const InitError& e) {
    print_failure("signalbox init: ", e);
    return kExitUsage;
  }
  fmt::print(
      "wrote a starter project in {0}: signalbox.yaml, events.ndjson, signalbox.test.yaml, "
      "plugin/, README.md\n"
      "next:\n"
      "  cd {0}\n"
      "  signalbox check --config signalbox.yaml\n"
      "  signalbox test signalbox.test.yaml\n"
      "  signalbox replay --config signalbox.yaml events.ndjson\n"
      "  signalbox serve --config signalbox.yaml    # then open http://127.0.0.1:8080/\n",
      dir);
  return 0;
}

int main_impl(int argc, char** argv) {
  CLI::App app{"Signalbox: real-time user signals for ranking and recommendation"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "signalbox 0.1.0");

  std::string config_path;
  auto add_config = [&](CLI::App* cmd) {
    cmd->add_option("--config,-c", config_path, "config file (YAML)")->required();
  };

  CLI::App* serve =
      app.add_subcommand("serve", "ingest and serve signals over HTTP (and gRPC) until SIGTERM");
  add_config(serve);
  std::string log_level;
  auto add_log_level = [&](CLI::App* cmd, std::string& level) {
    cmd->add_option("--log-level", level,
                    "trace, debug, info, warn, error or off (default: the config's log.level)")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  };
  add_log_level(serve, log_level);
  ServeAddresses serve_addresses;
  serve->add_option("--http", serve_addresses.http,
                    "host:port for HTTP, instead of the config's server.http");
  serve->add_option("--grpc", serve_addresses.grpc,
                    "host:port for gRPC, instead of the config's server.grpc (starts it)");

  CLI::App* check = app.add_subcommand("check", "validate a config");
  add_config(check);

  CLI::App* replay = app.add_subcommand("replay", "ingest NDJSON files (.gz too; - for stdin)");
  add_config(replay);
  ReplayArgs replay_args;
  replay->add_option("files", replay_args.files, "NDJSON files")->required();
  replay->add_flag("--quiet,-q", replay_args.quiet, "no progress output");
  replay->add_flag("--allow-rejects", replay_args.allow_rejects,
                   "exit 0 even when some events are rejected");
  replay->add_option("--max-errors", replay_args.max_errors,
                     "rejected events listed at most (default 20)");
  replay->add_flag("--presorted", replay_args.presorted,
                   "the files are in ts order: ingest them as given, no check, no sort");
  replay
      ->add_option("--batch-lines", replay_args.batch_lines,
                   "lines ingested (and checkpointed) per batch (default 32768)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 24));
  replay->add_flag("--resume", replay_args.resume,
                   "go on where an interrupted replay of the same files stopped");
  replay->add_flag("--restart", replay_args.restart,
                   "replay from the start although a replay into this store was interrupted");
  replay->add_option("--tmp-dir", replay_args.tmp_dir,
                     "folder for the sort's temporary runs (default: the system's)");
  replay->add_option("--sort-memory", replay_args.sort_memory,
                     "memory the sort may hold, e.g. 512MiB or 2GiB (default 256MiB)");
  add_log_level(replay, replay_args.log_level);

  CLI::App* get = app.add_subcommand("get", "print one user's signals as JSON, read from storage");
  add_config(get);
  std::string user, names;
  std::optional<std::string> as_of;
  get->add_option("--user,-u", user, "user id")->required();
  get->add_option("--names,-n", names, "signals and views, comma-separated (default: all)");
  get->add_option("--as-of", as_of,
                  "ISO 8601 (2026-11-30T12:00:00Z, 2026-11-30) or ms since the epoch "
                  "(default: now)");

  CLI::App* explain = app.add_subcommand(
      "explain", "print the tiles and raw events one signal value is made of, read from storage");
  add_config(explain);
  ExplainArgs explain_args;
  explain->add_option("--user,-u", explain_args.user, "user id")->required();
  explain->add_option("--signal,-s", explain_args.signal, "a signal or view")->required();
  explain->add_option("--window,-w", explain_args.window,
                      "one window of the signal (default: all)");
  explain->add_option(
      "--as-of", explain_args.as_of,
      "ISO 8601 (2026-11-30T12:00:00Z, 2026-11-30) or ms since the epoch (default: now)");
  explain->add_option("--max-events", explain_args.max_events,
                      "raw events listed per window at most (default 100)");

  CLI::App* test = app.add_subcommand("test", "run signal fixtures (docs/testing-signals.md)");
  std::vector<std::string> fixtures;
  test->add_option("fixtures", fixtures, "fixture files (YAML)")->required();

  CLI::App* init = app.add_subcommand(
      "init",
      "write a starter project: a commented config, sample events, a fixture, a plugin skeleton");
  std::string init_dir;
  bool init_force = false;
  init->add_option("dir", init_dir, "the project folder (created; must be empty unless --force)")
      ->required();
  init->add_flag(
      "--force", init_force,
      "write the starter files into a folder that is not empty, over files of the same names");

  CLI::App* backfill = app.add_subcommand(
      "backfill", "point-in-time signals for user_id,as_of rows, from event logs");
  add_config(backfill);
  BackfillArgs backfill_args;
  backfill
      ->add_option("--events,-e", backfill_args.events, "NDJSON event logs (.gz too; - for stdin)")
      ->required();
  backfill
      ->add_option("--queries", backfill_args.queries,
                   "CSV of user_id,as_of rows; with a header, other columns (labels, ids) are "
                   "copied into the answers")
      ->required();
  backfill
      ->add_option("--out,-o", backfill_args.out, "the answers, one line per query (- for stdout)")
      ->required();
  backfill
      ->add_option("--format", backfill_args.format,
                   "json: one answer object per line (default); csv: a header, then one flat "
                   "row per query, a column per signal.window[.key]")
      ->check(CLI::IsMember({"json", "csv"}));
  backfill->add_option("--names,-n", backfill_args.names,
                       "signals and views, comma-separated (default: all)");
  backfill->add_option("--keys", backfill_args.keys,
                       "with --format csv: all group keys (default) or top:N, the N largest of "
                       "each signal over the whole table");
  backfill->add_flag("--presorted", backfill_args.presorted,
                     "the logs are in ts order: read them as given, no check, no sort");
  backfill->add_flag("--arrival-order", backfill_args.arrival_order,
                     "read the logs as given, as online serving received them, not in ts order");
  backfill->add_option("--lateness", backfill_args.lateness,
                       "with --arrival-order: how far the log may run out of order "
                       "(default: max_future_skew)");
  backfill->add_option("--tmp-dir", backfill_args.tmp_dir,
                       "temporary data folder (default: the output's)");
  backfill->add_flag("--quiet,-q", backfill_args.quiet, "no progress output");
  backfill->add_option("--max-errors", backfill_args.max_errors,
                       "rejected events listed at most (default 20)");
  add_log_level(backfill, backfill_args.log_level);

  CLI::App* rebuild = app.add_subcommand(
      "rebuild",
      "build new or changed signals' state from archived event logs, without double counting");
  add_config(rebuild);
  RebuildArgs rebuild_args;
  rebuild
      ->add_option("--events,-e", rebuild_args.events, "NDJSON event logs (.gz too; - for stdin)")
      ->required();
  rebuild->add_flag(
      "--all-history", rebuild_args.all_history,
      "the logs hold every event the store ever took: complete for all of history, not only from "
      "their oldest event");
  rebuild->add_flag("--presorted", rebuild_args.presorted,
                    "the logs are in ts order: read them as given, no check, no sort");
  rebuild->add_option("--tmp-dir", rebuild_args.tmp_dir,
                      "folder for the sort's temporary runs (default: the system's)");
  rebuild->add_flag("--quiet,-q", rebuild_args.quiet, "no progress output");
  rebuild->add_option("--max-errors", rebuild_args.max_errors,
                      "rejected lines listed at most (default 20)");
  add_log_level(rebuild, rebuild_args.log_level);

  CLI::App* verify = app.add_subcommand(
      "verify", "check served values against values recomputed from the event log, per signal");
  add_config(verify);
  VerifyArgs verify_args;
  verify
      ->add_option("--events,-e", verify_args.events,
                   "NDJSON event logs (.gz too), the history to check against")
      ->required();
  verify->add_option(
      "--server", verify_args.server,
      "http://HOST:PORT of a running signalbox serve to check (default: read the config's store)");
  verify->add_option("--names,-n", verify_args.names,
                     "signals and views to check, comma-separated (default: all)");
  verify->add_option("--sample", verify_args.sample, "users sampled from the logs (default 100)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}));
  verify->add_option("--points", verify_args.points, "as_of times checked per user (default 3)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000}));
  verify->add_option("--seed", verify_args.seed, "seed of the sample and the times (default 1)");
  verify
      ->add_option("--threshold", verify_args.threshold,
                   "match rate each signal must reach, 0 to 1 (default 1: any mismatch fails)")
      ->check(CLI::Range(0.0, 1.0));
  verify
      ->add_option(
          "--tolerance", verify_args.tolerance,
          "relative difference up to which numbers still match (default 1e-9; 0: exact only)")
      ->check(CLI::Range(0.0, 1.0));
  verify->add_flag("--json", verify_args.json, "print the report as JSON");
  verify->add_option(
      "--metrics-file", verify_args.metrics_file,
      "also write the report as Prometheus gauges to this file (node_exporter textfile collector)");
  verify->add_option("--tmp-dir", verify_args.tmp_dir,
                     "temporary data folder (default: the system's)");
  verify->add_flag("--quiet,-q", verify_args.quiet, "no progress output");
  add_log_level(verify, verify_args.log_level);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }

  try {
    if (*serve) return run_serve(config_path, log_level, serve_addresses);
    if (*check) return run_check(config_path);
    if (*replay) return run_replay(config_path, replay_args);
    if (*get) return run_get(config_path, user, names, as_of);
    if (*explain) return run_explain(config_path, explain_args);
    if (*test) return run_test(fixtures);
    if (*init) return run_init(init_dir, init_force);
    if (*backfill) return run_backfill_command(config_path, backfill_args);
    if (*verify) return run_verify_command(config_path, verify_args);
    if (*rebuild) return run_rebuild_command(config_path, rebuild_args);
  } catch (const ConfigError& e) {
    print_failure("signalbox: config error: ", e);
    return kExitUsage;
  } catch (const QueryError& e) {
    print_failure("signalbox: ", e);
    return kExitUsage;
  } catch (const std::exception& e) {
    print_failure("signalbox: ", e);
    return kExitFailure;
  }
  return kExitUsage;
}

}  // namespace
}  // namespace signalbox

int main(int argc, char** argv) { return signalbox::main_impl(argc, argv); }
