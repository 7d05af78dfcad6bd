#pragma once

// The lines of a text file, without their '\n'; none when the file cannot be read.

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace signalbox::testing {

inline std::vector<std::string> read_lines(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace signalbox::testing
