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

// `numerator` over `denominator`, each the result a ratio view reads: numbers (null when the
// denominator is 0 or either is null), or objects with a quotient per key present on both
// sides with a non-zero denominator (after dividing each side by its sum with share: true).
// How often the answers a reference computed met the cases of a ratio worth seeing: a zero
// denominator, a group key only in the numerator, one only in the denominator.
struct RatioCases {
  std::size_t zero_denominators = 0;
  std::size_t numerator_only_keys = 0;
  std::size_t denominator_only_keys = 0;
};

inline Value ref_divide(const Value& top, const Value& bottom, bool share,
                        RatioCases* cases = nullptr) {
  RatioCases ignored;
  RatioCases& seen = cases ? *cases : ignored;
  if (top.is_null() || bottom.is_null()) return Value();
  if (top.is_number()) {
    if (bottom.number() == 0) {
      ++seen.zero_denominators;
      return Value();
    }
    return Value(top.number() / bottom.number());
  }
  for (const auto& [k, x] : top.object()) seen.numerator_only_keys += bottom.find(k) == nullptr;
  for (const auto& [k, x] : bottom.object()) seen.denominator_only_keys += top.find(k) == nullptr;
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

// A ratio view from the results of its signal and, with denominator_signal, of that one:
// each side is the window named by numerator / denominator, or the whole result of a signal
// without windows.
inline Value ref_ratio(const Value& result, const ViewConfig& v,
                       const Value* denominator_result = nullptr, RatioCases* cases = nullptr) {
  const ConfigParam* share_param = view_param(v, "share");
  const bool share = share_param && share_param->text == "true";
  auto side = [&](const Value& whole, const char* key) -> const Value& {
    const ConfigParam* window = view_param(v, key);
    return window ? *whole.find(window->text) : whole;
  };
  const Value& bottom_whole = denominator_result ? *denominator_result : result;
  return ref_divide(side(result, "numerator"), side(bottom_whole, "denominator"), share, cases);
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
