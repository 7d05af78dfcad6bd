#pragma once

// Plain loopback sockets for the end-to-end tests: free ports (free_ports.h), a port held busy,
// and a raw connection for writing requests byte by byte (loopback.cc, POSIX sockets).

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "free_ports.h"

namespace signalbox::testing {

// A loopback port held busy by a listening socket for the object's lifetime.
class BusyPort {
 public:
  BusyPort();
  ~BusyPort();
  BusyPort(const BusyPort&) = delete;
  BusyPort& operator=(const BusyPort&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

// A plain TCP connection to 127.0.0.1:`port` (TCP_NODELAY). Throws std::runtime_error when it
// cannot connect. Not thread-safe.
class RawConnection {
 public:
  explicit RawConnection(std::uint16_t port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // False once the server closed the connection (the write failed).
  bool write(std::string_view bytes);
  // True when the server closed the connection within `timeout`, whatever it sent first.
  bool closed_within(std::chrono::milliseconds timeout);
  // Whatever the server sent until it closed the connection or `timeout` passed.
  std::string read_all(std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
};

}  // namespace signalbox::testing
