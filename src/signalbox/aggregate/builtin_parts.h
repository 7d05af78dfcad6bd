#pragma once

// The built-in aggregators live one family per file; builtin_aggregators.cc registers them
// all through these functions when the registry is created.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "signalbox/aggregate/aggregator.h"

namespace signalbox {

using AddAggregator = std::function<void(std::string, ParamSpecs, AggregatorFactory)>;

// min, max, avg and stddev of a numeric reference (numeric_summary.cc).
void add_numeric_summary_aggregators(const AddAggregator& add);
// last_k: the k most recent distinct values of a reference (last_k.cc).
void add_last_k_aggregator(const AddAggregator& add);
// sequence: the newest k events with chosen fields (sequence.cc).
void add_sequence_aggregator(const AddAggregator& add);
// quantile: quantiles of a numeric reference from a KLL sketch (quantile.cc).
void add_quantile_aggregator(const AddAggregator& add);
// top_frequent: the heavy hitters of a reference (top_frequent.cc).
void add_top_frequent_aggregator(const AddAggregator& add);

}  // namespace signalbox
