// ratio: a signal's result in one window divided by its result in another, or by another
// signal's result, per group key for grouped signals — with `share: true` each side is first
// divided by its own sum, so that a short window's share over a long window's share says
// which keys are rising.

#include <fmt/format.h>

#include "signalbox/view/builtin_parts.h"

namespace signalbox {

namespace {

class Ratio final : public View {
 public:
  // Two windows of the view's signal.
  Ratio(std::string numerator, std::string denominator, bool share)
      : numerator_(std::move(numerator)), denominator_(std::move(denominator)), share_(share) {}
  // Window `numerator` of `numerator_signal` over window `denominator` of
  // `denominator_signal`; a window is empty for a signal without windows.
  Ratio(std::string numerator_signal, std::string numerator, std::string denominator_signal,
        std::string denominator, bool share)
      : numerator_(std::move(numerator)),
        denominator_(std::move(denominator)),
        numerator_signal_(std::move(numerator_signal)),
        denominator_signal_(std::move(denominator_signal)),
        share_(share) {}

  // Of two signals, the two windows divided are read as operands, so that a query plans
  // those two windows only.
  Input input() const override {
    return denominator_signal_.empty() ? Input::kAllWindows : Input::kOperands;
  }

  std::vector<Operand> operands() const override {
    if (denominator_signal_.empty()) return {};
    return {Operand{numerator_signal_, numerator_}, Operand{denominator_signal_, denominator_}};
  }

  Value transform(const Value& input) const override {
    return divide(input.find(numerator_), input.find(denominator_));
  }

  Value transform_with(const Value& input,
                       const std::vector<const Value*>& operands) const override {
    if (denominator_signal_.empty()) return transform(input);
    return divide(operands.at(0), operands.at(1));
  }

 private:
  // A number over a number (null when the bottom is 0), or per key of the top with a
  // non-zero bottom; a key missing on either side is left out.
  Value divide(const Value* top, const Value* bottom) const {
    if (!top || !bottom) return Value();
    if (top->is_number() && bottom->is_number()) {
      if (bottom->number() == 0) return Value();
      return Value(top->number() / bottom->number());
    }
    if (!top->is_object() || !bottom->is_object()) return Value();
    // A share of a single number is 1 (or undefined), so `share` only applies to groups.
    const double top_sum = share_ ? sum(*top) : 1, bottom_sum = share_ ? sum(*bottom) : 1;
    Value::Object out;
    if (top_sum == 0 || bottom_sum == 0) return Value(std::move(out));
    for (const auto& [key, v] : top->object()) {
      const Value* under = bottom->find(key);
      if (!under || !v.is_number() || !under->is_number() || under->number() == 0) continue;
      out.emplace_back(key, Value((v.number() / top_sum) / (under->number() / bottom_sum)));
    }
    return Value(std::move(out));
  }
  static double sum(const Value& object) {
    double total = 0;
    for (const auto& [key, v] : object.object()) total += v.number();
    return total;
  }

  std::string numerator_;
  std::string denominator_;
  std::string numerator_signal_;    // empty for two windows of the view's own signal
  std::string denominator_signal_;  // likewise
  bool share_;
};

bool param_bool(const ViewContext& c, std::string_view key) {
  auto it = c.view.params.find(key);
  if (it == c.view.params.end()) return false;
  if (it->second.text == "true") return true;
  if (it->second.text == "false") return false;
  throw_config_error(it->second.where, key, "must be true or false");
}

// Parameter `key` naming a window of `signal` when it has windows (required then), refused
// when it has none; empty for none.
std::string window_of(const ViewContext& c, std::string_view key, const Signal& signal) {
  if (signal.windowed()) return c.param_window(key, signal).text;
  auto it = c.view.params.find(key);
  if (it != c.view.params.end())
    throw_config_error(it->second.where, key,
                       fmt::format("signal \"{}\" has no windows", signal.name()));
  return std::string();
}

// The checks of a ratio of two signals: both numeric, grouped alike.
const Signal& denominator_signal(const ViewContext& c) {
  const Signal& other = c.param_signal("denominator_signal");
  const ConfigLocation& where = c.view.params.find("denominator_signal")->second.where;
  if (!c.signal.aggregator().numeric())
    c.reject("signal", fmt::format("ratio needs a numeric signal; \"{}\" ({}) is not one",
                                   c.signal.name(), c.signal.config().aggregator));
  if (!other.aggregator().numeric())
    throw_config_error(where, "denominator_signal",
                       fmt::format("ratio needs a numeric signal; \"{}\" ({}) is not one",
                                   other.name(), other.config().aggregator));
  const std::string& top = c.signal.config().group_by;
  const std::string& bottom = other.config().group_by;
  auto grouping = [](const std::string& by) {
    return by.empty() ? std::string("not grouped") : "grouped by " + by;
  };
  if (top != bottom)
    throw_config_error(where, "denominator_signal",
                       fmt::format("signal \"{}\" is {} but \"{}\" is {}: a ratio divides like "
                                   "by like",
                                   c.signal.name(), grouping(top), other.name(), grouping(bottom)));
  return other;
}

std::unique_ptr<View> make_ratio(const ViewContext& c) {
  const bool share = param_bool(c, "share");
  if (share) c.require_grouped();
  if (!c.view.params.count("denominator_signal")) {
    const WindowConfig& numerator = c.param_window("numerator");
    const WindowConfig& denominator = c.param_window("denominator");
    return std::make_unique<Ratio>(numerator.text, denominator.text, share);
  }
  const Signal& other = denominator_signal(c);
  std::string numerator = window_of(c, "numerator", c.signal);
  std::string denominator = window_of(c, "denominator", other);
  return std::make_unique<Ratio>(c.signal.name(), std::move(numerator), other.name(),
                                 std::move(denominator), share);
}

}  // namespace

void add_ratio_view(std::map<std::string, RegisteredView>& factories) {
  factories["ratio"] = {
      make_ratio,
      {{"numerator", "the signal's window divided (as written; required when it has windows)"},
       {"denominator",
        "the window divided by, of the signal or of denominator_signal (as written; required "
        "when that signal has windows)"},
       {"denominator_signal",
        "another signal to divide by, numeric and grouped as the view's (default: the view's "
        "own signal)"},
       {"share", "true: divide each side by its sum first (grouped signals; default false)"}}};
}

}  // namespace signalbox
