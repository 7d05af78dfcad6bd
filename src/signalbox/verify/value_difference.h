#pragma once

#include "signalbox/common/value.h"

namespace signalbox {

// How a served value differs from the value recomputed from the event log.
struct ValueDifference {
  // The two values mean the same JSON: objects compared without regard to key order, numbers
  // by value whatever their kind (3 and 3.0 are equal), and a key missing from a map of
  // numbers equal to that key with 0 (grouped counts omit zero entries).
  bool exact = true;
  // Some difference is not between two numbers: a different string, a list of another length,
  // a key holding a non-number on one side only, values of different kinds.
  bool structural = false;
  // Over the numbers that differ: the largest |served - recomputed|, and the largest relative
  // difference |served - recomputed| / max(|served|, |recomputed|). 0 when exact.
  double max_abs_error = 0;
  double max_rel_error = 0;

  // Whether the values differ in numbers only.
  bool numeric() const { return !exact && !structural; }
};

// Compares `served` with `recomputed` (see ValueDifference). Pure: safe from any thread.
ValueDifference compare_values(const Value& served, const Value& recomputed);

}  // namespace signalbox
