#include "signalbox/aggregate/kll_sketch.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "signalbox/common/error.h"

namespace signalbox {

namespace {

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

constexpr std::size_t kMaxLevels = 64;

}  // namespace

std::size_t KllSketch::capacity(std::size_t level) const {
  const std::size_t depth = levels_.size() - 1 - level;  // 0 for the top level
  const double c =
      std::ceil(static_cast<double>(kK) * std::pow(2.0 / 3.0, static_cast<double>(depth)));
  return std::max(kMinCapacity, static_cast<std::size_t>(c));
}

void KllSketch::add(double x) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(x);
  ++count_;
  compress();
}

void KllSketch::merge(const KllSketch& other) {
  if (other.count_ == 0) return;
  if (levels_.size() < other.levels_.size()) levels_.resize(other.levels_.size());
  for (std::size_t h = 0; h < other.levels_.size(); ++h)
    levels_[h].insert(levels_[h].end(), other.levels_[h].begin(), other.levels_[h].end());
  count_ += other.count_;
  compress();
}

// Lazy compaction: only while the sketch as a whole is over capacity, and then the lowest
// level over its own; this keeps more items on the low levels than compacting every full
// level would, for a smaller error at the same size.
void KllSketch::compress() {
  for (;;) {
    std::size_t size = 0, total_capacity = 0;
    for (std::size_t h = 0; h < levels_.size(); ++h) {
      size += levels_[h].size();
      total_capacity += capacity(h);
    }
    if (size <= total_capacity) return;
    std::size_t h = 0;
    while (h < levels_.size() && levels_[h].size() <= capacity(h)) ++h;
    if (h == levels_.size()) return;  // cannot happen: some level is over its capacity
    compact(h);
  }
}

void KllSketch::compact(std::size_t level) {
  if (level + 1 == levels_.size()) levels_.emplace_back();
  std::vector<double>& items = levels_[level];
  std::sort(items.begin(), items.end());
  // An odd item out stays behind, so the total weight is kept exactly.
  std::optional<double> left;
  if (items.size() % 2 == 1) {
    left = items.back();
    items.pop_back();
  }
  const std::size_t offset = mix(count_ ^ (level << 48) ^ (items.size() << 20)) & 1;
  std::vector<double>& up = levels_[level + 1];
  for (std::size_t i = offset; i < items.size(); i += 2) up.push_back(items[i]);
  items.clear();
  if (left) items.push_back(*left);
}

double KllSketch::value_at_rank(std::uint64_t rank) const {
  std::vector<std::pair<double, std::uint64_t>> weighted;
  for (std::size_t h = 0; h < levels_.size(); ++h)
    for (double x : levels_[h]) weighted.emplace_back(x, std::uint64_t{1} << h);
  std::sort(weighted.begin(), weighted.end());
  std::uint64_t seen = 0;
  for (const auto& [x, weight] : weighted) {
    seen += weight;
    if (seen >= rank) return x;
  }
  return weighted.back().first;
}

void KllSketch::encode(ByteWriter& out) const {
  out.varint(count_);
  out.varint(levels_.size());
  for (const auto& items : levels_) {
    out.varint(items.size());
    for (double x : items) out.f64(x);
  }
}

KllSketch KllSketch::decode(ByteReader& in) {
  KllSketch s;
  s.count_ = in.varint();
  std::uint64_t levels = in.varint();
  if (levels > kMaxLevels) throw CorruptionError("quantile sketch: too many levels");
  s.levels_.resize(levels);
  std::uint64_t weight = 0;
  for (std::size_t h = 0; h < levels; ++h) {
    std::uint64_t n = in.count(sizeof(double));
    s.levels_[h].resize(n);
    for (double& x : s.levels_[h]) x = in.f64();
    weight += n << h;
  }
  if (weight != s.count_)
    throw CorruptionError("quantile sketch: weights do not add up to the count");
  return s;
}

}  // namespace signalbox
