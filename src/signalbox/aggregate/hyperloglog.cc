#include "signalbox/aggregate/hyperloglog.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace signalbox {

namespace {

constexpr int kQ = 64 - HyperLogLog::kPrecision;

double sigma(double x) {
  if (x == 1.0) return std::numeric_limits<double>::infinity();
  double y = 1, z = x;
  for (;;) {
    x *= x;
    double previous = z;
    z += x * y;
    y += y;
    if (z == previous) return z;
  }
}

double tau(double x) {
  if (x == 0.0 || x == 1.0) return 0.0;
  double y = 1, z = 1 - x;
  for (;;) {
    x = std::sqrt(x);
    double previous = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
    if (z == previous) return z / 3;
  }
}

}  // namespace

void HyperLogLog::add(std::uint64_t hash) {
  std::size_t index = hash >> kQ;
  std::uint64_t rest = hash << kPrecision;
  int rank = rest == 0 ? kQ + 1 : std::countl_zero(rest) + 1;
  if (rank > kQ + 1) rank = kQ + 1;
  if (registers_[index] < rank) registers_[index] = static_cast<std::uint8_t>(rank);
}

void HyperLogLog::merge(const HyperLogLog& other) {
  // Through plain pointers to distinct sketches (a merge into itself changes nothing): the
  // compiler then takes the maximum a vector register at a time.
  if (&other == this) return;
  std::uint8_t* __restrict into = registers_.data();
  const std::uint8_t* __restrict from = other.registers_.data();
  for (std::size_t i = 0; i < kRegisters; ++i) into[i] = std::max(into[i], from[i]);
}

std::optional<HyperLogLog> HyperLogLog::from_registers(std::string_view bytes) {
  if (bytes.size() != kRegisters) return std::nullopt;
  const auto* begin = reinterpret_cast<const std::uint8_t*>(bytes.data());
  std::uint8_t highest = 0;
  for (std::size_t i = 0; i < kRegisters; ++i) highest = std::max(highest, begin[i]);
  if (highest > kMaxRank) return std::nullopt;
  return HyperLogLog(std::vector<std::uint8_t>(begin, begin + kRegisters));
}

double HyperLogLog::estimate() const {
  // The registers' histogram, counted in four arrays in turn so that consecutive registers
  // of equal rank (most are 0) do not wait on each other's increment.
  static_assert(kRegisters % 4 == 0 && kMaxRank == kQ + 1);
  std::array<std::array<std::uint32_t, kQ + 2>, 4> partial{};
  const std::uint8_t* r = registers_.data();
  for (std::size_t i = 0; i < kRegisters; i += 4) {
    ++partial[0][r[i]];
    ++partial[1][r[i + 1]];
    ++partial[2][r[i + 2]];
    ++partial[3][r[i + 3]];
  }
  std::array<double, kQ + 2> counts{};
  for (std::size_t k = 0; k < counts.size(); ++k)
    counts[k] = static_cast<double>(partial[0][k] + partial[1][k] + partial[2][k] + partial[3][k]);
  const double m = static_cast<double>(kRegisters);
  double z = m * tau(1 - counts[kQ + 1] / m);
  for (int k = kQ; k >= 1; --k) z = 0.5 * (z + counts[k]);
  z += m * sigma(counts[0] / m);
  const double alpha_inf = 1 / (2 * std::log(2.0));
  return alpha_inf * m * m / z;
}

}  // namespace signalbox
