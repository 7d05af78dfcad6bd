#pragma once

// redis-server processes of a test's own on free loopback ports: one plain server, or a
// three-master Redis Cluster made with `redis-cli --cluster create`. Stopped by destructors.

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <hiredis/hiredis.h>

#include "free_ports.h"
#include "have_program.h"
#include "redis_command.h"

extern char** environ;

namespace signalbox::testing {

// A port free now whose cluster bus port (port + 10000) is free too, both below the kernel's
// ephemeral range when it leaves room (from 10000 up). Another test may still pick the same
// port at the same moment: start_redis() tries again on another.
inline int free_redis_port() {
  std::mt19937& rng = port_rng();
  const int lowest = 10000, above = ephemeral_port_low() - 10000;
  const int span = above - lowest >= 1000 ? above - lowest : 30000;
  const int first = above - lowest >= 1000 ? lowest : 20000;
  for (;;) {
    int port = first + static_cast<int>(rng() % static_cast<unsigned>(span));
    if (port_free(port) && port_free(port + 10000)) return port;
  }
}

class RedisProcess {
 public:
  RedisProcess(int port, std::vector<std::string> extra) : port_(port) {
    std::vector<std::string> args = {
        "redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1",  "--save", "",
        "--appendonly", "no",     "--daemonize",        "no",     "--loglevel", "warning"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    if (posix_spawnp(&pid_, "redis-server", &actions, nullptr, argv.data(), environ) != 0)
      pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    if (pid_ <= 0) return;
    const std::string own_process_id = "process_id:" + std::to_string(pid_) + "\r\n";
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      // Asked for its process id: the port may have been taken by another test's server.
      if (redis_command(port_, {"INFO", "server"}).find(own_process_id) != std::string::npos) {
        ready_ = true;
        return;
      }
      // A server that exited (its port taken after all) will never answer.
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~RedisProcess() { stop(); }
  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  // Freezes the server (it keeps its socket but answers nothing) or lets it go on. Nothing
  // once it is stopped: kill(-1) would signal every process of the user.
  void pause() {
    if (pid_ > 0) ::kill(pid_, SIGSTOP);
  }
  void resume() {
    if (pid_ > 0) ::kill(pid_, SIGCONT);
  }

  bool ready() const { return ready_; }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Runs one command on a fresh connection; returns the reply as text ("" for nil/none).
  std::string command(const std::vector<std::string>& args) const {
    return redis_command(port_, args);
  }

  // Commands the server has processed so far, the INFO that asks included (INFO stats).
  std::uint64_t commands_processed() const {
    const std::string info = command({"INFO", "stats"});
    const std::string field = "total_commands_processed:";
    const std::size_t at = info.find(field);
    if (at == std::string::npos) return 0;
    return std::stoull(info.substr(at + field.size()));
  }

  // How many times the server has run `command_name` (from INFO commandstats).
  long calls_of(const std::string& command_name) const {
    std::string info = command({"INFO", "commandstats"});
    std::string tag = "cmdstat_" + command_name + ":calls=";
    auto at = info.find(tag);
    if (at == std::string::npos) return 0;
    return std::stol(info.substr(at + tag.size()));
  }

 private:
  int port_;
  pid_t pid_ = -1;
  bool ready_ = false;
};

// A redis-server on a free port with `extra(port)` arguments, ready unless five ports in
// a row failed (each taken between the check and the server's bind, or redis-server missing).
inline std::unique_ptr<RedisProcess> start_redis(
    const std::function<std::vector<std::string>(int port)>& extra = {}) {
  std::unique_ptr<RedisProcess> server;
  for (int attempt = 0; attempt < 5; ++attempt) {
    const int port = free_redis_port();
    server = std::make_unique<RedisProcess>(port, extra ? extra(port) : std::vector<std::string>{});
    if (server->ready()) break;
  }
  return server;
}

// Three masters, every slot assigned, cluster_state ok on each before ready() is true.
class RedisClusterProcesses {
 public:
  RedisClusterProcesses() {
    dir_ = std::filesystem::temp_directory_path() /
           ("signalbox-redis-cluster-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter()++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::string create = "redis-cli --cluster create";
    for (int i = 0; i < 3; ++i) {
      nodes_.push_back(start_redis([&](int port) {
        return std::vector<std::string>{
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            (dir_ / ("nodes-" + std::to_string(port) + ".conf")).string(),
            "--dir",
            dir_.string()};
      }));
      if (!nodes_.back()->ready()) return;
      create += " " + nodes_.back()->address();
    }
    create += " --cluster-replicas 0 --cluster-yes >" + (dir_ / "create.log").string() + " 2>&1";
    if (std::system(create.c_str()) != 0) return;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      bool ok = true;
      for (const auto& n : nodes_)
        ok = ok && n->command({"CLUSTER", "INFO"}).find("cluster_state:ok") != std::string::npos;
      if (ok) {
        ready_ = true;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~RedisClusterProcesses() {
    nodes_.clear();
    std::filesystem::remove_all(dir_);
  }

  bool ready() const { return ready_; }
  std::vector<std::string> addresses() const {
    std::vector<std::string> out;
    for (const auto& n : nodes_) out.push_back(n->address());
    return out;
  }
  RedisProcess& node(std::size_t i) { return *nodes_[i]; }
  std::string node_id(std::size_t i) const { return nodes_[i]->command({"CLUSTER", "MYID"}); }
  // The node (index) serving `slot`, as the nodes themselves say.
  std::size_t owner(int slot) const { return owner_by_slots(slot); }

  // Moves `slot` with its keys from node `from` to node `to` (CLUSTER SETSLOT and MIGRATE,
  // as a resharding does).
  bool move_slot(int slot, std::size_t from, std::size_t to) {
    if (!migrate_slot(slot, from, to)) return false;
    const std::string s = std::to_string(slot), to_id = node_id(to);
    for (const auto& n : nodes_)
      if (n->command({"CLUSTER", "SETSLOT", s, "NODE", to_id}) != "OK") return false;
    return owner_by_slots(slot) == to;
  }

  // The first half of a move: `slot` is MIGRATING on `from` and IMPORTING on `to`, and its
  // keys are on `to` already; `from` still owns the slot and answers ASK for those keys.
  bool migrate_slot(int slot, std::size_t from, std::size_t to) {
    const std::string s = std::to_string(slot), from_id = node_id(from), to_id = node_id(to);
    if (nodes_[to]->command({"CLUSTER", "SETSLOT", s, "IMPORTING", from_id}) != "OK") return false;
    if (nodes_[from]->command({"CLUSTER", "SETSLOT", s, "MIGRATING", to_id}) != "OK") return false;
    for (;;) {
      std::string keys = nodes_[from]->command({"CLUSTER", "GETKEYSINSLOT", s, "1000"});
      if (keys.empty()) break;
      std::vector<std::string> args = {
          "MIGRATE", "127.0.0.1", std::to_string(nodes_[to]->port()), "", "0", "5000", "KEYS"};
      for (std::size_t at = 0; at <= keys.size();) {
        std::size_t nl = keys.find('\n', at);
        if (nl == std::string::npos) nl = keys.size();
        args.push_back(keys.substr(at, nl - at));
        at = nl + 1;
      }
      if (nodes_[from]->command(args) != "OK") return false;
    }
    return true;
  }

 private:
  std::size_t owner_by_slots(int slot) const {
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      // A node's own line in CLUSTER NODES ("myself") ends with the slot ranges it serves.
      std::string nodes = nodes_[i]->command({"CLUSTER", "NODES"});
      std::size_t at = 0;
      while (at < nodes.size()) {
        std::size_t nl = nodes.find('\n', at);
        if (nl == std::string::npos) nl = nodes.size();
        std::string line = nodes.substr(at, nl - at);
        at = nl + 1;
        if (line.find("myself") == std::string::npos) continue;
        std::size_t pos = 0;
        for (int field = 0; field < 8 && pos != std::string::npos; ++field)
          pos = line.find(' ', pos + 1);
        while (pos != std::string::npos && pos < line.size()) {
          std::size_t end = line.find(' ', pos + 1);
          std::string range =
              line.substr(pos + 1, end == std::string::npos ? std::string::npos : end - pos - 1);
          pos = end;
          if (range.empty() || range[0] == '[') continue;
          std::size_t dash = range.find('-');
          int lo = std::stoi(range.substr(0, dash));
          int hi = dash == std::string::npos ? lo : std::stoi(range.substr(dash + 1));
          if (slot >= lo && slot <= hi) return i;
        }
      }
    }
    return nodes_.size();
  }
  static int& counter() {
    static int c = 0;
    return c;
  }

  std::filesystem::path dir_;
  std::vector<std::unique_ptr<RedisProcess>> nodes_;
  bool ready_ = false;
};

}  // namespace signalbox::testing
