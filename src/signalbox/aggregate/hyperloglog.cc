#include "signalbox/aggregate/hyperloglog.h"

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
  for (std::size_t i = 0; i < kRegisters; ++i)
    if (other.registers_[i] > registers_[i]) registers_[i] = other.registers_[i];
}

double HyperLogLog::estimate() const {
  std::array<double, kQ + 2> counts{};
  for (std::uint8_t r : registers_) counts[r] += 1;
  const double m = static_cast<double>(kRegisters);
  double z = m * tau(1 - counts[kQ + 1] / m);
  for (int k = kQ; k >= 1; --k) z = 0.5 * (z + counts[k]);
  z += m * sigma(counts[0] / m);
  const double alpha_inf = 1 / (2 * std::log(2.0));
  return alpha_inf * m * m / z;
}

}  // namespace signalbox
