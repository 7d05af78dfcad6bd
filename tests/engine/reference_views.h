#pragma once

// References for the ratio and bucketize views, from the reference's own signal results.

#include <stdexcept>
#include <string>

#include "reference.h"

namespace signalbox::testing {

inline const ConfigParam* view_param(const ViewConfig& v, const std::string& key) {
  auto it = v.params.find(key);
  return it == v.params.end() ? nullptr : &it->second;
}

inline Value ref_ratio(const Value& result, const ViewConfig& v) {
  const Value& top = *result.find(view_param(v, "numerator")->text);
  const Value& bottom = *result.find(view_param(v, "denominator")->text);
  const ConfigParam* share_param = view_param(v, "share");
  const bool share = share_param && share_param->text == "true";
  if (top.is_null() || bottom.is_null()) return Value();
  if (top.is_number()) return bottom.number() == 0 ? Value() : Value(top.number() / bottom.number());
  double top_sum = 0, bottom_sum = 0;
  for (const auto& [k, x] : top.object()) top_sum += x.number();
  for (const auto& [k, x] : bottom.object()) bottom_sum += x.number();
  if (!share) top_sum = bottom_sum = 1;
  Value::Object out;
  if (top_sum == 0 || bottom_sum == 0) return Value(std::move(out));
  for (const auto& [k, x] : top.object()) {
    const Value* b = bottom.find(k);
    if (!b || b->number() == 0) continue;
    out.emplace_back(k, Value(x.number() / top_sum / (b->number() / bottom_sum)));
  }
  return Value(std::move(out));
}

// The bucket of x: how many boundaries are at or below it, or that bucket's label.
inline Value ref_bucket(double x, const ViewConfig& v) {
  const auto& boundaries = view_param(v, "boundaries")->items;
  std::size_t index = 0;
  while (index < boundaries.size() && std::stod(boundaries[index]) <= x) ++index;
  if (const ConfigParam* labels = view_param(v, "labels")) return Value(labels->items[index]);
  return Value(static_cast<std::uint64_t>(index));
}

inline Value ref_bucketize(const Value& input, const ViewConfig& v) {
  if (input.is_null()) return Value();
  if (input.is_number()) return ref_bucket(input.number(), v);
  Value::Object out;
  for (const auto& [k, x] : input.object()) out.emplace_back(k, ref_bucket(x.number(), v));
  return Value(std::move(out));
}

}  // namespace signalbox::testing
