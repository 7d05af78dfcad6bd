#pragma once

// Helpers shared by the materialize tests: a per-test folder, a fastText model trained from
// tests/materialize/data/queries.txt, and a redis-server of the test's own on loopback.

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
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
#include <hiredis/hiredis.h>

#include "redis_command.h"

extern char** environ;

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

inline std::string quote_arg(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

inline bool have_program(const std::string& name) {
  return std::system(("command -v " + quote_arg(name) + " >/dev/null 2>&1").c_str()) == 0;
}

inline std::filesystem::path queries_txt() {
  return std::filesystem::path(SIGNALBOX_SOURCE_DIR) / "tests/materialize/data/queries.txt";
}

// Trains the tiny query classifier into `dir`/model.bin with the fasttext CLI. Returns the
// model's path, or nullopt (with `error` set) when training failed.
inline std::optional<std::filesystem::path> train_query_model(const std::filesystem::path& dir,
                                                              std::string& error) {
  std::filesystem::path out = dir / "model";
  std::string command = "fasttext supervised -input " + quote_arg(queries_txt().string()) +
                        " -output " + quote_arg(out.string()) +
                        " -dim 16 -bucket 100000 -epoch 25 -minCount 1 -thread 1 >" +
                        quote_arg((dir / "train.log").string()) + " 2>&1";
  if (std::system(command.c_str()) != 0) {
    error = "fasttext supervised failed: " + read_text(dir / "train.log");
    return std::nullopt;
  }
  return dir / "model.bin";
}

// A redis-server of the test's own on a free loopback port, stopped by the destructor.
class RedisServer {
 public:
  RedisServer() {
    port_ = free_port();
    std::vector<std::string> args = {
        "redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",  "--save", "",
        "--appendonly", "no",     "--daemonize",         "no",     "--loglevel", "warning"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    if (posix_spawnp(&pid_, "redis-server", &actions, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    if (pid_ <= 0) return;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (ping()) {
        ready_ = true;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~RedisServer() { stop(); }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  bool ready() const { return ready_; }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // Freezes the server (it keeps its socket but answers nothing) or lets it go on.
  void pause() { ::kill(pid_, SIGSTOP); }
  void resume() { ::kill(pid_, SIGCONT); }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  // Runs one command on a fresh connection; returns the reply as text ("" for nil/none).
  std::string command(const std::vector<std::string>& args) const {
    return redis_command(port_, args);
  }

  // How many times the server has run `command` (from INFO commandstats).
  long calls_of(const std::string& command_name) const {
    std::string info = command({"INFO", "commandstats"});
    std::string tag = "cmdstat_" + command_name + ":calls=";
    auto at = info.find(tag);
    if (at == std::string::npos) return 0;
    return std::stol(info.substr(at + tag.size()));
  }

 private:
  static int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    int port = ntohs(addr.sin_port);
    ::close(fd);
    return port;
  }

  bool ping() const {
    timeval tv{0, 200000};
    redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
    if (c == nullptr) return false;
    bool ok = false;
    if (!c->err) {
      auto* reply = static_cast<redisReply*>(redisCommand(c, "PING"));
      ok = reply != nullptr && reply->type == REDIS_REPLY_STATUS &&
           std::string(reply->str, reply->len) == "PONG";
      if (reply) freeReplyObject(reply);
    }
    redisFree(c);
    return ok;
  }

  int port_ = 0;
  pid_t pid_ = -1;
  bool ready_ = false;
};

}  // namespace signalbox::testing
