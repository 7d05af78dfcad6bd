// The `signalbox` command line (SPEC §6). Exit status: 0 success, 2 usage or config error,
// 1 any other failure, each failure with one clear line on stderr.

#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "signalbox/common/error.h"
#include "signalbox/config/config.h"
#include "signalbox/engine/engine.h"
#include "signalbox/ingest/replay.h"

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
  engine.expire(false);
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

int main_impl(int argc, char** argv) {
  CLI::App app{"Signalbox: real-time user signals for ranking and recommendation"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "signalbox 0.1.0");

  std::string config_path;
  auto add_config = [&](CLI::App* cmd) {
    cmd->add_option("--config,-c", config_path, "config file (YAML)")->required();
  };

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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }

  try {
    if (*check) return run_check(config_path);
    if (*replay) return run_replay(config_path, files, quiet, allow_rejects, max_errors);
    if (*get) return run_get(config_path, user, names, as_of);
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
