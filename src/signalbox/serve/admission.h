#pragma once

#include <atomic>
#include <cstddef>
#include <utility>

namespace signalbox {

// One bounded quantity the front ends hold at once (open connections, request bytes, queued
// requests): take() adds to it unless that would pass the bound. Thread-safe (one atomic).
class Budget {
 public:
  explicit Budget(std::size_t limit) : limit_(limit) {}
  Budget(const Budget&) = delete;
  Budget& operator=(const Budget&) = delete;

  // Adds `n` and returns true, or changes nothing and returns false when the total would pass
  // the limit. Taking 0 always succeeds.
  bool take(std::size_t n);
  // Gives back what take() added.
  void give_back(std::size_t n) { used_.fetch_sub(n, std::memory_order_acq_rel); }

  std::size_t used() const { return used_.load(std::memory_order_relaxed); }
  std::size_t limit() const { return limit_; }

 private:
  const std::size_t limit_;
  std::atomic<std::size_t> used_{0};
};

// A share of a Budget, given back when destroyed. Movable, not copyable; one owner at a time.
class Reservation {
 public:
  Reservation() = default;
  explicit Reservation(Budget& budget) : budget_(&budget) {}
  Reservation(Reservation&& other) noexcept
      : budget_(std::exchange(other.budget_, nullptr)), held_(std::exchange(other.held_, 0)) {}
  Reservation& operator=(Reservation&& other) noexcept;
  Reservation(const Reservation&) = delete;
  Reservation& operator=(const Reservation&) = delete;
  ~Reservation() { release(); }

  // Holds `total` from now on, taking or giving back the difference; false (holding what it
  // held) when the budget cannot give that much.
  bool resize(std::size_t total);
  void release();
  std::size_t held() const { return held_; }

 private:
  Budget* budget_ = nullptr;
  std::size_t held_ = 0;
};

// The bounds of server.max_connections, server.max_inflight_bytes and
// server.max_queued_requests, shared by the HTTP and gRPC front ends so that neither can take
// the whole machine while the other is busy. Thread-safe.
struct Admission {
  Admission(std::size_t max_connections, std::size_t max_inflight_bytes,
            std::size_t max_queued_requests)
      : connections(max_connections),
        inflight_bytes(max_inflight_bytes),
        queued_requests(max_queued_requests) {}

  Budget connections;      // open HTTP connections
  Budget inflight_bytes;   // request bytes received and not yet answered
  Budget queued_requests;  // requests received in full and not yet answered
};

}  // namespace signalbox
