#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "signalbox/common/bytes.h"

namespace signalbox {

// A KLL quantile sketch (Karnin, Lang, Liberty: "Optimal Quantile Approximation in Streams",
// FOCS 2016) of doubles: levels of items where an item on level h stands for 2^h values; a
// level over its capacity is sorted and halved (every other item, from a coin-chosen offset,
// moves up a level). Capacities shrink geometrically by 2/3 below the top level of kK items.
// Compaction keeps the total weight equal to the number of values added, and nothing is
// compacted while everything fits on level 0 (kK values): until then answers are exact.
// With kK = 400 the normalised rank error stays under 1 % (tests/engine/sketches_test.cc
// measures it over many seeds).
//
// Hand-written because no library the project uses provides a mergeable quantile sketch
// (Debian packages no C++ KLL or t-digest: Apache DataSketches is not packaged).
//
// The coin is a hash of the sketch's count, level and level size rather than a random
// generator, so that the same inputs in the same order give the same state (a replay of a
// log reproduces its answers).
// Plain value type; not synchronised.
class KllSketch {
 public:
  static constexpr std::size_t kK = 400;
  static constexpr std::size_t kMinCapacity = 8;

  void add(double x);
  void merge(const KllSketch& other);

  // How many values were added (the total weight).
  std::uint64_t count() const { return count_; }
  // True while every value is kept (no compaction yet).
  bool exact() const { return levels_.size() <= 1; }
  // The value at 1-based position `rank` (1..count()) of the values added in ascending
  // order: exact while exact(), within the sketch's rank error otherwise. count() > 0.
  double value_at_rank(std::uint64_t rank) const;

  void encode(ByteWriter& out) const;
  // Throws CorruptionError for bytes encode() cannot have written.
  static KllSketch decode(ByteReader& in);

 private:
  std::size_t capacity(std::size_t level) const;
  void compress();
  void compact(std::size_t level);

  std::uint64_t count_ = 0;
  std::vector<std::vector<double>> levels_;  // levels_[h]: items of weight 2^h, unordered
};

}  // namespace signalbox
