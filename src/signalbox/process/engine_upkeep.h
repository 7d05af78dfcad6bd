#pragma once

#include "signalbox/engine/engine.h"

namespace signalbox {

// The jobs `signalbox serve` runs on its engine beside the services (ProcessRunner::every and
// ProcessRunnerOptions::on_reload), each logging what it did (docs/operations.md). Both block
// on the engine and are thread-safe as the engine's calls are.

// Engine::expire(false), then the `expiry run` line with the store's counts before and after.
void expire_and_log(Engine& engine);

// Reads every source's data again (SIGHUP). A source that fails is logged and keeps its old
// data; never throws.
void reload_sources_and_log(Engine& engine);

}  // namespace signalbox
