#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace signalbox {

// A HyperLogLog sketch with 2^14 registers (standard error about 0.8 %), estimated with
// Ertl's improved estimator ("New cardinality estimation algorithms for HyperLogLog
// sketches", 2017), which needs no empirical bias tables and is accurate across the whole
// range. Hand-written: none of the project's libraries offers a mergeable cardinality sketch.
// Plain value type; not synchronised.
class HyperLogLog {
 public:
  static constexpr int kPrecision = 14;
  static constexpr std::size_t kRegisters = std::size_t{1} << kPrecision;
  // The largest rank a register holds: the 64 - kPrecision bits left of a hash all zero.
  static constexpr std::uint8_t kMaxRank = 64 - kPrecision + 1;

  HyperLogLog() : registers_(kRegisters, 0) {}

  // The sketch whose registers are `bytes` (kRegisters of them, as register_bytes() gives
  // them); nullopt when there are not kRegisters bytes or one is past
  // kMaxRank, which no sketch holds.
  static std::optional<HyperLogLog> from_registers(std::string_view bytes);

  // Adds an already well-mixed 64-bit hash.
  void add(std::uint64_t hash);
  void merge(const HyperLogLog& other);
  double estimate() const;

  // The registers as bytes, one each, what from_registers() takes back.
  std::string_view register_bytes() const {
    return {reinterpret_cast<const char*>(registers_.data()), registers_.size()};
  }

  friend bool operator==(const HyperLogLog&, const HyperLogLog&) = default;

 private:
  explicit HyperLogLog(std::vector<std::uint8_t> registers) : registers_(std::move(registers)) {}

  std::vector<std::uint8_t> registers_;
};

}  // namespace signalbox
