#include "signalbox/engine/explain_combine.h"

#include <algorithm>
#include <array>

namespace signalbox {

namespace {

struct KnownRule {
  const char* aggregator;
  CombineRule rule;
};

const std::array<KnownRule, 14>& known_rules() {
  static const std::array<KnownRule, 14> rules = {{
      {"count", {"sum", "the sum of the parts' values (per key)", true, false}},
      {"sum", {"sum", "the sum of the parts' values (per key)", true, false}},
      {"decayed_count",
       {"sum", "the sum of the parts' values (per key), each already decayed to as_of", true,
        false}},
      {"min", {"min", "the smallest of the parts' values (per key)", false, true}},
      {"max", {"max", "the largest of the parts' values (per key)", false, true}},
      {"avg",
       {"mean_of_values", "the mean of all values of all parts (each part's value is its own mean)",
        false, false}},
      {"stddev",
       {"pooled_stddev",
        "the standard deviation of all values of all parts, pooled from each part's count, mean "
        "and spread",
        false, false}},
      {"mean",
       {"weighted_mean", "the element-wise mean of all parts, each weighted by its total weight",
        false, false}},
      {"last_k",
       {"newest_distinct", "the k newest distinct values over all parts, each with its newest ts",
        false, true}},
      {"sequence", {"newest", "the k newest entries over all parts", false, true}},
      {"distinct_count",
       {"distinct_union", "the number of distinct values in the union of the parts' values", false,
        false}},
      {"quantile",
       {"sketch_merge",
        "the quantiles of the parts' values merged (a KLL sketch beyond 400 values)", false,
        false}},
      {"top_frequent",
       {"sketch_merge",
        "the most frequent values of the parts' counts added up (a frequent-items sketch)", false,
        false}},
      {"", {"merge", "the aggregator's own merge of the parts' states", false, false}},
  }};
  return rules;
}

bool any_shared_entry(const Value& part, const Value& value) {
  if (!part.is_array() || !value.is_array()) return false;
  for (const Value& entry : part.array())
    if (std::find(value.array().begin(), value.array().end(), entry) != value.array().end())
      return true;
  return false;
}

bool any_equal_key(const Value& part, const Value& value) {
  if (!part.is_object() || !value.is_object()) return false;
  for (const auto& [key, v] : part.object())
    if (const Value* combined = value.find(key); combined && *combined == v) return true;
  return false;
}

}  // namespace

CombineRule combine_rule(const std::string& aggregator) {
  for (const KnownRule& known : known_rules())
    if (aggregator == known.aggregator) return known.rule;
  return known_rules().back().rule;
}

bool part_decides(const CombineRule& rule, const Value& part, const Value& value) {
  if (!rule.selective) return false;
  if (rule.name == "min" || rule.name == "max") {
    if (value.is_object()) return any_equal_key(part, value);
    return !value.is_null() && part == value;
  }
  return any_shared_entry(part, value);
}

}  // namespace signalbox
