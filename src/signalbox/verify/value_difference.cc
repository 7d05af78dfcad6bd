#include "signalbox/verify/value_difference.h"

#include <algorithm>
#include <cmath>
#include <string_view>

namespace signalbox {

namespace {

class DifferenceWalk {
 public:
  void numbers(double served, double recomputed) {
    if (served == recomputed) return;
    result_.exact = false;
    const double abs_error = std::fabs(served - recomputed);
    const double scale = std::max(std::fabs(served), std::fabs(recomputed));
    result_.max_abs_error = std::max(result_.max_abs_error, abs_error);
    result_.max_rel_error = std::max(result_.max_rel_error, scale > 0 ? abs_error / scale : 0.0);
  }

  void structural() {
    result_.exact = false;
    result_.structural = true;
  }

  void values(const Value& served, const Value& recomputed) {
    if (served.is_number() && recomputed.is_number())
      return numbers(served.number(), recomputed.number());
    if (served.is_array() && recomputed.is_array())
      return arrays(served.array(), recomputed.array());
    if (served.is_object() && recomputed.is_object())
      return objects(served.object(), recomputed.object());
    if (!(served == recomputed)) structural();
  }

  const ValueDifference& result() const { return result_; }

 private:
  void arrays(const Value::Array& served, const Value::Array& recomputed) {
    if (served.size() != recomputed.size()) return structural();
    for (std::size_t i = 0; i < served.size(); ++i) values(served[i], recomputed[i]);
  }

  static const Value* member(const Value::Object& object, std::string_view key) {
    auto it = std::find_if(object.begin(), object.end(),
                           [&](const auto& field) { return field.first == key; });
    return it == object.end() ? nullptr : &it->second;
  }

  // A member present on one side only: a number stands against an omitted zero entry.
  void one_sided(const Value& present, bool present_is_served) {
    if (!present.is_number()) return structural();
    if (present_is_served)
      numbers(present.number(), 0.0);
    else
      numbers(0.0, present.number());
  }

  void objects(const Value::Object& served, const Value::Object& recomputed) {
    for (const auto& [key, value] : served) {
      const Value* other = member(recomputed, key);
      if (other)
        values(value, *other);
      else
        one_sided(value, true);
    }
    for (const auto& [key, value] : recomputed)
      if (!member(served, key)) one_sided(value, false);
  }

  ValueDifference result_;
};

}  // namespace

ValueDifference compare_values(const Value& served, const Value& recomputed) {
  DifferenceWalk walk;
  walk.values(served, recomputed);
  return walk.result();
}

}  // namespace signalbox
