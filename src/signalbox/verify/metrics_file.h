#pragma once

#include <filesystem>
#include <string_view>

namespace signalbox {

// Writes `text` to `path` as node_exporter's textfile collector needs: into a temporary file
// beside it, then renamed over it, so that a scrape never reads half a file. Throws
// std::runtime_error naming the file when it cannot be written; `path` is then unchanged.
void write_metrics_file(const std::filesystem::path& path, std::string_view text);

}  // namespace signalbox
