#pragma once

// Event log files for the eventlog tests: a folder removed at the end, files written plain or
// gzip-compressed, and lines with known ts.

#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "signalbox/common/time.h"

namespace signalbox::testing {

class LogFolder {
 public:
  LogFolder() {
    path_ = std::filesystem::temp_directory_path() /
            fmt::format("signalbox-eventlog-{}-{}", ::getpid(),
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~LogFolder() { std::filesystem::remove_all(path_); }

  const std::filesystem::path& path() const { return path_; }

  // Writes `lines` (each followed by '\n') to `name`, gzip-compressed when `gzip`.
  std::string write(const std::string& name, const std::vector<std::string>& lines,
                    bool gzip = false) const {
    std::string text;
    for (const std::string& line : lines) text += line + "\n";
    std::filesystem::path file = path_ / name;
    if (gzip) {
      gzFile out = gzopen(file.c_str(), "wb");
      if (!out || gzwrite(out, text.data(), static_cast<unsigned>(text.size())) !=
                      static_cast<int>(text.size()))
        throw std::runtime_error("cannot write " + file.string());
      gzclose(out);
    } else {
      std::ofstream(file, std::ios::binary) << text;
    }
    return file.string();
  }

 private:
  std::filesystem::path path_;
};

// An event line with the given ts and a tag that makes it unique.
inline std::string event_line(TimeMs ts, std::size_t tag) {
  return fmt::format(R"({{"user_id":{},"action":"click","ts":{},"event_id":"e{}"}})", tag % 7, ts,
                     tag);
}

}  // namespace signalbox::testing
