#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "signalbox/cli/starter_project.h"

namespace signalbox {

// A folder `signalbox init` will not write into, or a file it could not write; the message
// names the folder or file and what to do.
class InitError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Writes `files` under `dir`, creating it and the folders the files need. Refuses a `dir`
// that exists and is not an empty folder unless `force`, which writes the files over what is
// there (leaving everything else alone). Throws InitError.
void write_project(const std::filesystem::path& dir, const std::vector<StarterFile>& files,
                   bool force);

}  // namespace signalbox
