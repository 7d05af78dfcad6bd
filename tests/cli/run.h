#pragma once

// Runs the real `signalbox` binary for end-to-end tests and captures what it printed.

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "shell_quote.h"

namespace signalbox::testing {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `command` (a shell command line) with stdout and stderr captured in files of `dir`.
inline RunResult run(const std::string& command, const std::filesystem::path& dir) {
  auto out = dir / "stdout.txt";
  auto err = dir / "stderr.txt";
  std::string line =
      fmt::format("{} >{} 2>{}", command, shell_quote(out.string()), shell_quote(err.string()));
  int status = std::system(line.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

inline std::string signalbox(const std::string& args) {
  return shell_quote(SIGNALBOX_BINARY) + " " + args;
}

}  // namespace signalbox::testing
