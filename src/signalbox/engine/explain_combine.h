#pragma once

#include <string>

#include "signalbox/common/value.h"

namespace signalbox {

// How the parts of one window - stored tiles and raw events, each evaluated alone - make the
// window's value, by aggregator (docs/explain.md). Pure; thread-safe.
struct CombineRule {
  std::string name;  // "sum", "min", "max", "newest_distinct", "newest", ... or "merge"
  std::string text;  // the rule in one sentence, for people
  // The parts' values add up to the value (per key for an object).
  bool additive = false;
  // The value is taken from some parts (the smallest, the newest...): those are marked.
  bool selective = false;
};

// The rule of the aggregator named `aggregator` (a signal's `aggregator:`); "merge" (the
// aggregator's own merge of the parts' states) for one without a simpler rule, custom ones too.
CombineRule combine_rule(const std::string& aggregator);

// Under a selective rule, whether `part` (one part's value alone) supplies some of `value`:
// the minimum or maximum (of some key), or an entry of a newest-first list.
bool part_decides(const CombineRule& rule, const Value& part, const Value& value);

}  // namespace signalbox
