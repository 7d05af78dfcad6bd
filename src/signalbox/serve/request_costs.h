#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace signalbox {

// What the last answer to a request path cost, remembered for many paths at once so that the
// HTTP server can tell a cheap request (answered on its I/O thread) from one to send to the
// query pool before running it. A direct-mapped table of kSlots entries: a path shares its
// slot with others, and the last one recorded there wins; what a slot holds is a fingerprint
// of the path and its cost, so another path's cost is never taken for this one's (barring a
// 2^-43 fingerprint clash). Costs are kept in microseconds, saturating at about one second.
// Thread-safe and lock-free: one relaxed atomic per slot.
class RequestCosts {
 public:
  static constexpr std::size_t kSlots = std::size_t{1} << 16;

  RequestCosts() = default;
  RequestCosts(const RequestCosts&) = delete;
  RequestCosts& operator=(const RequestCosts&) = delete;

  // The cost last recorded for `path`, or nothing when none is remembered (never recorded, or
  // its slot since taken by another path).
  std::optional<std::chrono::microseconds> last(std::string_view path) const;
  // Remembers `cost` as the cost of `path`, replacing whatever its slot held.
  void record(std::string_view path, std::chrono::nanoseconds cost);

 private:
  static constexpr unsigned kCostBits = 20;
  static constexpr std::uint64_t kCostMask = (std::uint64_t{1} << kCostBits) - 1;

  std::array<std::atomic<std::uint64_t>, kSlots> slots_{};  // 0: empty
};

}  // namespace signalbox
