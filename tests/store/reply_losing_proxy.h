#pragma once

// A TCP proxy in front of one redis-server that loses a reply: for tests of a command that ran
// on the server while its client never heard back (a slow or lost reply).

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace signalbox::testing {

// Listens on a loopback port of its own and forwards every connection to 127.0.0.1:redis_port,
// both ways, except one: once a client has sent `trigger` (a byte string a command carries,
// such as the SHA1 of the script an EVALSHA runs) on a connection, for the first time in the
// proxy's life, nothing the server sends on that connection reaches the client any more. The
// command was forwarded and runs; the client waits for its reply until its own timeout ends
// the connection. Later connections, and later sends of the trigger, pass untouched.
//
// Each connection is served by a thread of its own; the destructor closes every connection
// and joins them. triggered() may be called from any thread.
class ReplyLosingProxy {
 public:
  ReplyLosingProxy(int redis_port, std::string trigger)
      : redis_port_(redis_port), trigger_(std::move(trigger)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = loopback(0);
    socklen_t length = sizeof addr;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_, 64) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
      ::close(listener_);
      listener_ = -1;
      return;
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~ReplyLosingProxy() {
    stop_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    for (std::thread& t : pumps_) t.join();
    if (listener_ >= 0) ::close(listener_);
  }
  ReplyLosingProxy(const ReplyLosingProxy&) = delete;
  ReplyLosingProxy& operator=(const ReplyLosingProxy&) = delete;

  bool ready() const { return port_ != 0; }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Whether a connection has carried the trigger (and lost its replies from then on).
  bool triggered() const { return triggered_; }

 private:
  static sockaddr_in loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    return addr;
  }

  static bool write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Only the acceptor thread adds pumps; the destructor joins them after the acceptor.
  void accept_loop() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int client = ::accept(listener_, nullptr, nullptr);
      if (client < 0) continue;
      int server = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr = loopback(redis_port_);
      if (::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(server);
        ::close(client);
        continue;
      }
      pumps_.emplace_back([this, client, server] { pump(client, server); });
    }
  }

  void pump(int client, int server) {
    bool losing = false;
    std::string seen;  // the client's last bytes, for a trigger split between two reads
    char buffer[64 * 1024];
    while (!stop_) {
      pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      if (::poll(p, 2, 50) <= 0) continue;
      if (p[0].revents != 0) {
        ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        std::string_view bytes(buffer, static_cast<std::size_t>(n));
        if (!losing && !triggered_) {
          seen.append(bytes);
          if (seen.find(trigger_) != std::string::npos && !triggered_.exchange(true)) losing = true;
          seen.erase(0, seen.size() - std::min(seen.size(), trigger_.size()));
        }
        if (!write_all(server, bytes)) break;
      }
      if (p[1].revents != 0) {
        ssize_t n = ::recv(server, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        if (!losing && !write_all(client, std::string_view(buffer, static_cast<std::size_t>(n))))
          break;
      }
    }
    ::close(client);
    ::close(server);
  }

  int redis_port_;
  std::string trigger_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> triggered_{false};
  std::thread acceptor_;
  std::vector<std::thread> pumps_;
};

}  // namespace signalbox::testing
