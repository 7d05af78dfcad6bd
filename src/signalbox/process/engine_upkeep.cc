#include "signalbox/process/engine_upkeep.h"

#include <chrono>
#include <exception>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "signalbox/common/logging.h"

namespace signalbox {

void expire_and_log(Engine& engine) {
  auto start = std::chrono::steady_clock::now();
  StoreStats before = engine.store_stats();
  engine.expire(false);
  StoreStats after = engine.store_stats();
  // Expired data goes in background compactions, so the counts may drop in later runs. An
  // empty store has nothing to expire: that run is logged only for debugging.
  log_event(engine.stream_time() == kBeginningOfTime ? spdlog::level::debug : spdlog::level::info,
            "expiry run",
            {{"stream_time_ms", engine.stream_time()},
             {"store_events_before", before.events},
             {"store_events_after", after.events},
             {"disk_bytes_before", before.bytes_on_disk},
             {"disk_bytes_after", after.bytes_on_disk},
             {"seconds",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()}});
}

void reload_sources_and_log(Engine& engine) {
  spdlog::info("signalbox serve: SIGHUP received, reloading sources");
  try {
    auto start = std::chrono::steady_clock::now();
    std::vector<std::string> failures = engine.materializer().reload_sources();
    for (const std::string& failure : failures)
      spdlog::error("reloading source {} (the old data stays in service)", failure);
    log_event(spdlog::level::info, "sources reloaded",
              {{"sources", engine.config().sources.size()},
               {"failed", failures.size()},
               {"seconds",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()}});
  } catch (const std::exception& e) {
    spdlog::error("reloading sources failed: {}", e.what());
  }
}

}  // namespace signalbox
