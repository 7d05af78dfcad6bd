#pragma once

#include <string>
#include <vector>

#include "signalbox/common/time.h"

namespace signalbox {

// One file of the starter project `signalbox init` writes: its path relative to the project
// folder and its content.
struct StarterFile {
  std::string path;
  std::string content;
};

// The starter project: a commented config, sample events ending at `now` (generated, the same
// for the same `now`), a fixture that passes against the config, a plugin skeleton whose
// CMakeLists.txt finds Signalbox's cmake/SignalboxSignals.cmake in `signalbox_dir` (or where
// SIGNALBOX_DIR points), and a README with the next steps. Pure: writes nothing.
std::vector<StarterFile> starter_project(TimeMs now, const std::string& signalbox_dir);

}  // namespace signalbox
