#pragma once

// Reading a `sources` mapping from YAML, for the loader and for `signalbox test` fixtures,
// which replace a config's sources by entries of their own written the same way.

#include <filesystem>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "signalbox/config/config.h"

namespace signalbox {

// The sources of mapping `sources` (docs/config.md#sources) in file `file`, paths made absolute
// against its folder. Throws ConfigError naming file, line and key. A source's parameters are
// kept for its kind to check when it is built (make_source).
std::vector<SourceConfig> read_sources_mapping(const YAML::Node& sources,
                                               const std::filesystem::path& file);

}  // namespace signalbox
