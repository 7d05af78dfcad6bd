#pragma once

#include <array>
#include <cstdint>
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

  HyperLogLog() : registers_(kRegisters, 0) {}

  // Adds an already well-mixed 64-bit hash.
  void add(std::uint64_t hash);
  void merge(const HyperLogLog& other);
  double estimate() const;

  const std::vector<std::uint8_t>& registers() const { return registers_; }
  std::vector<std::uint8_t>& registers() { return registers_; }

  friend bool operator==(const HyperLogLog&, const HyperLogLog&) = default;

 private:
  std::vector<std::uint8_t> registers_;
};

}  // namespace signalbox
