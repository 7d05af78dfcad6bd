#pragma once

// Loopback ports for the tests' own servers, chosen below the kernel's ephemeral range: a port
// the kernel picks itself (for a bind of port 0, or for any test's outgoing connection) is
// taken from that range, so a port chosen below it cannot be lost between the check here and
// the server's own bind. Two bands that do not overlap: Signalbox's listeners (HTTP, gRPC)
// take [2000, 10000); redis-servers take [10000, low - 10000) with their cluster bus ports
// 10000 above (redis_servers.h). Two tests can still pick the same port at the same moment:
// the chance is one in thousands, and a Redis test tries again on another.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>

namespace signalbox::testing {

// True when nothing is bound to 127.0.0.1:`port` now.
inline bool port_free(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// The lowest port the kernel hands out on its own.
inline int ephemeral_port_low() {
  int low = 32768, high = 60999;
  if (std::FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    if (std::fscanf(f, "%d %d", &low, &high) != 2) low = 32768;
    std::fclose(f);
  }
  return low;
}

// One generator per process, seeded by process id and clock so that parallel test processes
// draw different ports.
inline std::mt19937& port_rng() {
  static std::mt19937 rng(
      static_cast<unsigned>(::getpid()) * 7919u +
      static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count()));
  return rng;
}

// A port in [2000, 10000) that nothing is bound to now, for a Signalbox listener (HTTP, gRPC)
// a test starts.
inline std::uint16_t free_port() {
  for (;;) {
    int port = 2000 + static_cast<int>(port_rng()() % 8000u);
    if (port_free(port)) return static_cast<std::uint16_t>(port);
  }
}

}  // namespace signalbox::testing
