#pragma once

// Lines of text without their '\n': of a file (none when it cannot be read) or of a string.

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace signalbox::testing {

inline std::vector<std::string> read_lines(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

inline std::vector<std::string> split_lines(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace signalbox::testing
