#pragma once

// Helpers shared by the materialize tests: a per-test folder, a fastText model trained from
// tests/materialize/data/queries.txt.

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "have_program.h"
#include "shell_quote.h"

namespace signalbox::testing {

// A folder of its own per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? std::string(info->test_suite_name()) + "_" + info->name() : "suite";
    path_ = std::filesystem::temp_directory_path() /
            ("signalbox_materialize_" + name + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  explicit TempDir(const std::string& name) {
    path_ = std::filesystem::temp_directory_path() /
            ("signalbox_materialize_" + name + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::filesystem::path write(const std::string& name, const std::string& text) const {
    std::filesystem::path p = path_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::filesystem::path queries_txt() {
  return std::filesystem::path(SIGNALBOX_SOURCE_DIR) / "tests/materialize/data/queries.txt";
}

// Trains the tiny query classifier into `dir`/model.bin with the fasttext CLI. Returns the
// model's path, or nullopt (with `error` set) when training failed.
inline std::optional<std::filesystem::path> train_query_model(const std::filesystem::path& dir,
                                                              std::string& error) {
  std::filesystem::path out = dir / "model";
  std::string command = "fasttext supervised -input " + shell_quote(queries_txt().string()) +
                        " -output " + shell_quote(out.string()) +
                        " -dim 16 -bucket 100000 -epoch 25 -minCount 1 -thread 1 >" +
                        shell_quote((dir / "train.log").string()) + " 2>&1";
  if (std::system(command.c_str()) != 0) {
    error = "fasttext supervised failed: " + read_text(dir / "train.log");
    return std::nullopt;
  }
  return dir / "model.bin";
}

}  // namespace signalbox::testing
