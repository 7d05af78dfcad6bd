#pragma once

#include "signalbox/config/config.h"

namespace signalbox {

// Loads the plugins a config lists (`plugins:`): shared libraries built with the signal kit
// (include/signalbox/signal_kit.h) whose aggregators and views then join the registries,
// process-wide, under the names they chose. Each library is loaded once per process; a
// path loaded before is skipped. Throws ConfigError naming the config file, line and the
// library when one does not load, is not a Signalbox plugin, was built for another plugin
// ABI version (naming both versions), or registers a name already taken; the libraries
// listed before it stay loaded. Loaded libraries are never unloaded: the registries hold
// their code. Safe to call from several threads.
void load_plugins(const Config& config);

}  // namespace signalbox
