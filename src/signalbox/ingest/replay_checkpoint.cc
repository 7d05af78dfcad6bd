#include "signalbox/ingest/replay_checkpoint.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

namespace signalbox {

namespace {

constexpr char kMagic[] = "signalbox-replay-checkpoint-1";

}  // namespace

std::string ReplayInputs::describe() const {
  std::vector<std::string> names;
  for (const ReplayFile& f : files)
    names.push_back(std::filesystem::path(f.path).filename().string());
  if (from_stdin) names.push_back("-");
  constexpr std::size_t kShown = 3;
  std::string list;
  for (std::size_t i = 0; i < names.size() && i < kShown; ++i) list += (i ? ", " : "") + names[i];
  if (names.size() > kShown) list += ", ...";
  return fmt::format("{} file{} ({}){}", names.size(), names.size() == 1 ? "" : "s", list,
                     presorted ? ", --presorted" : "");
}

ReplayInputs identify_inputs(const std::vector<std::string>& files, bool presorted) {
  ReplayInputs inputs;
  inputs.presorted = presorted;
  for (const std::string& name : files) {
    if (name == "-") {
      inputs.from_stdin = true;
      continue;
    }
    struct stat st;
    if (::stat(name.c_str(), &st) != 0)
      throw std::runtime_error(fmt::format("{}: cannot open: {}", name, std::strerror(errno)));
    ReplayFile f;
    f.path = std::filesystem::absolute(name).lexically_normal().string();
    f.size = static_cast<std::uint64_t>(st.st_size);
    f.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    inputs.files.push_back(std::move(f));
  }
  return inputs;
}

// One field per line; a path is last on its line, so it may hold spaces.
std::string ReplayCheckpoint::encode() const {
  std::string out = fmt::format("{}\nrecords {}\npresorted {}\nstdin {}\n", kMagic, records,
                                inputs.presorted ? 1 : 0, inputs.from_stdin ? 1 : 0);
  for (const ReplayFile& f : inputs.files)
    out += fmt::format("file {} {} {}\n", f.size, f.mtime_ns, f.path);
  return out;
}

ReplayCheckpoint ReplayCheckpoint::decode(std::string_view text) {
  std::istringstream in{std::string(text)};
  auto bad = [] { return std::runtime_error("the store's replay checkpoint does not decode"); };
  std::string line;
  if (!std::getline(in, line) || line != kMagic) throw bad();
  ReplayCheckpoint c;
  int presorted = 0, from_stdin = 0;
  std::string word;
  if (!(in >> word >> c.records) || word != "records") throw bad();
  if (!(in >> word >> presorted) || word != "presorted") throw bad();
  if (!(in >> word >> from_stdin) || word != "stdin") throw bad();
  c.inputs.presorted = presorted != 0;
  c.inputs.from_stdin = from_stdin != 0;
  while (in >> word) {
    if (word != "file") throw bad();
    ReplayFile f;
    if (!(in >> f.size >> f.mtime_ns)) throw bad();
    in.get();  // the space before the path
    if (!std::getline(in, f.path) || f.path.empty()) throw bad();
    c.inputs.files.push_back(std::move(f));
  }
  return c;
}

}  // namespace signalbox
