#pragma once

#include <filesystem>
#include <string>

namespace signalbox {

// A fresh folder "<parent>/<prefix>-XXXXXX" (mkdtemp), removed with everything in it on
// destruction, also when an exception unwinds. Not thread-safe.
class TempFolder {
 public:
  // Throws std::runtime_error naming `parent` when the folder cannot be created.
  TempFolder(const std::filesystem::path& parent, const std::string& prefix);
  ~TempFolder();
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace signalbox
