#include "signalbox/engine/bootstrap_runner.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace signalbox {

namespace {

using Clock = std::chrono::steady_clock;

// The signals whose state is being built, as "a, b".
std::string bootstrapping_names(const Engine& engine) {
  std::vector<std::string> names;
  const Value described = engine.describe();
  for (const Value& signal : described.find("signals")->array())
    if (const Value* b = signal.find("bootstrapping"); b && *b == Value(true))
      names.push_back(signal.find("name")->string());
  return fmt::format("{}", fmt::join(names, ", "));
}

// Sleeps until `until`, waking early when `stop` is set.
void sleep_until(Clock::time_point until, const std::atomic<bool>& stop) {
  while (!stop.load() && Clock::now() < until)
    std::this_thread::sleep_for(
        std::min<Clock::duration>(until - Clock::now(), std::chrono::milliseconds(50)));
}

}  // namespace

void run_bootstrap(Engine& engine, const BootstrapOptions& options, const std::atomic<bool>& stop) {
  if (!engine.bootstrap_pending()) return;
  spdlog::info("bootstrap: building {} from the stored raw events{}", bootstrapping_names(engine),
               options.events_per_second > 0
                   ? fmt::format(", at most {} events/s", options.events_per_second)
                   : std::string());
  const Clock::time_point started = Clock::now();
  Clock::time_point next_report = started + options.progress_every;
  std::uint64_t events = 0, users = 0;
  while (!stop.load()) {
    const Clock::time_point step_start = Clock::now();
    Engine::BootstrapStep step =
        engine.bootstrap_step(std::max<std::size_t>(1, options.events_per_step));
    events += step.events;
    users += step.users;
    if (step.done) {
      const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
      spdlog::info("bootstrap: done: {} events of {} users folded in {:.1f} s", events, users,
                   seconds);
      return;
    }
    if (Clock::now() >= next_report) {
      spdlog::info("bootstrap: {} events of {} users folded so far; still building {}", events,
                   users, bootstrapping_names(engine));
      next_report = Clock::now() + options.progress_every;
    }
    if (options.events_per_second > 0) {
      const auto budget = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
          static_cast<double>(step.events) / static_cast<double>(options.events_per_second)));
      sleep_until(step_start + budget, stop);
    }
  }
  spdlog::info("bootstrap: stopped after {} events of {} users; it goes on at the next start",
               events, users);
}

BackgroundBootstrap::BackgroundBootstrap(Engine& engine, BootstrapOptions options) {
  if (!engine.bootstrap_pending()) return;
  thread_ = std::thread([this, &engine, options] {
    try {
      run_bootstrap(engine, options, stop_);
    } catch (const std::exception& e) {
      spdlog::error(
          "bootstrap: failed: {}; the signals being built stay incomplete until the next start",
          e.what());
    }
  });
}

BackgroundBootstrap::~BackgroundBootstrap() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

}  // namespace signalbox
