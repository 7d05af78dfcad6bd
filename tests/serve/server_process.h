#pragma once

// The real `signalbox` binary as a child process, for end-to-end tests: started on a free
// loopback port from a config file, waited for through GET /healthz, stopped with SIGTERM.

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "http_client.h"
#include "loopback.h"

namespace signalbox::testing {

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Starts SIGNALBOX_BINARY with `args`, its stdout and stderr appended to `log`. The child is
// killed when the test process dies, so a crashing test leaves no server behind.
inline pid_t spawn_signalbox(const std::vector<std::string>& args,
                             const std::filesystem::path& log) {
  std::vector<std::string> argv_strings = {SIGNALBOX_BINARY};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::string log_path = log.string();
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", strerror(errno)));
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) _exit(127);
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// The exit status of a finished child, or 128 + the signal that killed it.
inline int exit_status(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

// Waits for `pid` up to `timeout`; returns its exit status, or -1 (and kills it) on timeout.
inline int wait_for_exit(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return exit_status(status);
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// Runs `signalbox args...` to its end; returns the exit status and fills *output.
inline int run_signalbox(const std::vector<std::string>& args, const std::filesystem::path& log,
                         std::string* output) {
  std::filesystem::remove(log);
  int status = wait_for_exit(spawn_signalbox(args, log), std::chrono::seconds(60));
  *output = read_file(log);
  return status;
}

// `signalbox serve --config <config>` listening on 127.0.0.1:<port>. The constructor returns
// once /healthz answers; the destructor kills a server still running.
class ServerProcess {
 public:
  ServerProcess(const std::filesystem::path& config, std::uint16_t port,
                std::filesystem::path log_path)
      : ServerProcess(config, port, std::move(log_path), [](std::uint16_t p) {
          HttpClient client(p);
          return client.get("/healthz").status == 200;
        }) {}

  // Started once `ready(port)` returns true (it may throw while the server is not listening).
  ServerProcess(const std::filesystem::path& config, std::uint16_t port,
                std::filesystem::path log_path, const std::function<bool(std::uint16_t)>& ready)
      : port_(port), log_(std::move(log_path)) {
    pid_ = spawn_signalbox({"serve", "--config", config.string()}, log_);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error(fmt::format("signalbox serve exited with {} before answering:\n{}",
                                             exit_status(status), log()));
      }
      try {
        if (ready(port_)) break;
      } catch (const std::exception&) {
        // Not listening yet.
      }
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("signalbox serve did not answer /healthz in 60 s:\n" + log());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  ~ServerProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Sends SIGTERM and waits for the exit; returns the exit status (-1 after `timeout`).
  int terminate(std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    kill(pid_, SIGTERM);
    int status = wait_for_exit(pid_, timeout);
    pid_ = -1;
    return status;
  }

  void send_signal(int signal) { kill(pid_, signal); }
  int wait(std::chrono::milliseconds timeout) {
    int status = wait_for_exit(pid_, timeout);
    pid_ = -1;
    return status;
  }

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string log() const { return read_file(log_); }

 private:
  std::uint16_t port_;
  std::filesystem::path log_;
  pid_t pid_ = -1;
};

}  // namespace signalbox::testing
