#pragma once

// A `signalbox serve` with one small signal and a `server` section written by the test, for the
// end-to-end tests of the server's limits, timeouts and access rules.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "loopback.h"
#include "server_process.h"

namespace signalbox::testing {

// A fresh folder for one server's config, data and log, removed with the object.
class ScratchDir {
 public:
  ScratchDir() {
    static std::atomic<int> serial{0};
    path_ = std::filesystem::temp_directory_path() /
            fmt::format("signalbox-server-test-{}-{}", getpid(), serial++);
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The config of a server on 127.0.0.1:`port` whose `server` section also holds `server_extra`
// (YAML flow-mapping entries, e.g. "request_timeout: 1s, max_connections: 8").
inline std::filesystem::path write_small_config(const ScratchDir& dir, std::uint16_t port,
                                                const std::string& server_extra) {
  std::filesystem::path file = dir.path() / "signalbox.yaml";
  std::ofstream(file) << fmt::format(
      "server: {{ http: 127.0.0.1:{}{}{} }}\n"
      "storage: {{ kind: rocksdb, path: data }}\n"
      "signals:\n"
      "  - {{ name: clicks, aggregator: count, actions: {{ click: 1 }}, windows: [1h, 1d] }}\n",
      port, server_extra.empty() ? "" : ", ", server_extra);
  return file;
}

// `count` click events of user `user` in the last hour, as NDJSON, each padded to about
// `event_bytes` bytes with an attribute.
inline std::string click_events(std::size_t count, std::uint64_t user, std::size_t event_bytes = 0,
                                std::size_t first = 0) {
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  std::string padding(event_bytes > 100 ? event_bytes - 100 : 0, 'x');
  std::string body;
  for (std::size_t i = 0; i < count; ++i) {
    body += fmt::format(
        R"({{"user_id":{},"ts":{},"action":"click","item_id":"p{}","attrs":{{"pad":"{}"}}}})"
        "\n",
        user, now - 60'000 + static_cast<long>(i % 1000), first + i, padding);
  }
  return body;
}

// The peak resident set of a process (VmHWM of /proc/PID/status), in bytes.
inline std::size_t peak_rss_bytes(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  throw std::runtime_error("no VmHWM in /proc/PID/status");
}

inline std::size_t rss_bytes(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  throw std::runtime_error("no VmRSS in /proc/PID/status");
}

}  // namespace signalbox::testing

namespace signalbox::testing {

// A self-signed certificate for localhost and 127.0.0.1 made with the openssl command:
// <dir>/cert.pem and <dir>/key.pem. Throws when openssl fails (or is missing).
inline void write_self_signed(const std::filesystem::path& dir) {
  std::string command = fmt::format(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
      "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout '{}' -out '{}' >'{}' 2>&1",
      (dir / "key.pem").string(), (dir / "cert.pem").string(), (dir / "openssl.log").string());
  if (std::system(command.c_str()) != 0)
    throw std::runtime_error("openssl req failed: " + read_file(dir / "openssl.log"));
}

}  // namespace signalbox::testing
