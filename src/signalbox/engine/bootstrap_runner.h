#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "signalbox/engine/engine.h"

namespace signalbox {

struct BootstrapOptions {
  // Stored raw events folded per second at most (event_store.bootstrap_rate); 0: no limit.
  std::uint64_t events_per_second = 0;
  // Events per Engine::bootstrap_step(), which holds the write lock: ingest waits at most
  // about that long.
  std::size_t events_per_step = 2000;
  // How often a progress line is logged.
  std::chrono::milliseconds progress_every{10000};
};

// Builds the tiles of every new state from the stored raw events (Engine::bootstrap_step until
// done), at most options.events_per_second a second, logging its start, progress and end.
// Returns when done, or soon after `stop` is set (the rest is done at the next start). Throws
// what bootstrap_step throws. Runs on the calling thread; one at a time per engine.
void run_bootstrap(Engine& engine, const BootstrapOptions& options, const std::atomic<bool>& stop);

// run_bootstrap() on a thread of its own for as long as this lives: started by the
// constructor when the engine has states to build, stopped and joined by the destructor
// (within about one step). A failure is logged as an error and ends the thread; the serving
// goes on and the bootstrap resumes at the next start. Must not outlive the engine.
class BackgroundBootstrap {
 public:
  BackgroundBootstrap(Engine& engine, BootstrapOptions options);
  ~BackgroundBootstrap();
  BackgroundBootstrap(const BackgroundBootstrap&) = delete;
  BackgroundBootstrap& operator=(const BackgroundBootstrap&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace signalbox
