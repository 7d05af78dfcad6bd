#include "signalbox/cli/init_project.h"

#include <fstream>
#include <system_error>

#include <fmt/format.h>

namespace signalbox {

namespace {

namespace fs = std::filesystem;

// Refuses what is not an empty (or absent) folder, naming one entry found.
void check_writable(const fs::path& dir, bool force) {
  std::error_code ec;
  const fs::file_status status = fs::status(dir, ec);
  if (!fs::exists(status)) return;
  if (!fs::is_directory(status))
    throw InitError(
        fmt::format("{} exists and is not a folder; choose a new or empty folder", dir.string()));
  if (force) return;
  fs::directory_iterator it(dir, ec);
  if (ec)
    throw InitError(fmt::format("{}: cannot read the folder: {}", dir.string(), ec.message()));
  if (it == fs::directory_iterator()) return;
  std::size_t entries = 0;
  const std::string first = it->path().filename().string();
  for (; it != fs::directory_iterator(); ++it) ++entries;
  throw InitError(
      fmt::format("{} is not empty ({} entr{}, such as \"{}\"); choose a new or empty folder, or "
                  "pass --force to write the "
                  "starter files over what is there",
                  dir.string(), entries, entries == 1 ? "y" : "ies", first));
}

void write_file(const fs::path& path, const std::string& content) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec)
    throw InitError(
        fmt::format("{}: cannot create the folder: {}", path.parent_path().string(), ec.message()));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) throw InitError(fmt::format("{}: cannot write the file", path.string()));
}

}  // namespace

void write_project(const fs::path& dir, const std::vector<StarterFile>& files, bool force) {
  check_writable(dir, force);
  for (const StarterFile& file : files) write_file(dir / file.path, file.content);
}

}  // namespace signalbox
