#include "signalbox/event/value_ref.h"

#include <fmt/format.h>

namespace signalbox {

namespace {

constexpr std::string_view kAttrPrefix = "attrs.";

const AttrValue* find_attr(const Event& e, std::string_view name) {
  for (const auto& [attr_name, value] : e.attrs)
    if (attr_name == name) return &value;
  return nullptr;
}

// Numbers become strings in their shortest round-trip form ("3", "0.5"), the same spelling
// the JSON answers use, so a grouped key reads as the number the user sent.
void emit_number(double d, const std::function<void(std::string_view)>& fn) {
  char buffer[64];
  auto result = fmt::format_to_n(buffer, sizeof buffer, "{}", d);
  fn(std::string_view(buffer, result.out - buffer));
}

}  // namespace

std::optional<ValueRef> ValueRef::parse(std::string_view text, const FeatureNames& features) {
  ValueRef ref;
  ref.text_ = std::string(text);
  if (text == "item_id") {
    ref.kind_ = Kind::kItemId;
  } else if (text == "query") {
    ref.kind_ = Kind::kQuery;
  } else if (text == "action") {
    ref.kind_ = Kind::kAction;
  } else if (text.starts_with(kAttrPrefix) && text.size() > kAttrPrefix.size()) {
    ref.kind_ = Kind::kAttr;
    ref.attr_ = std::string(text.substr(kAttrPrefix.size()));
  } else if (auto index = features.index(text)) {
    ref.kind_ = Kind::kFeature;
    ref.feature_ = *index;
  } else {
    return std::nullopt;
  }
  return ref;
}

void ValueRef::for_each_string(const MaterializedEvent& e,
                               const std::function<void(std::string_view)>& fn) const {
  switch (kind_) {
    case Kind::kItemId:
      if (e.event.item_id) fn(*e.event.item_id);
      return;
    case Kind::kQuery:
      if (e.event.query) fn(*e.event.query);
      return;
    case Kind::kAction:
      fn(e.event.action);
      return;
    case Kind::kAttr: {
      const AttrValue* value = find_attr(e.event, attr_);
      if (!value) return;
      if (const auto* s = std::get_if<std::string>(value)) {
        fn(*s);
      } else {
        emit_number(std::get<double>(*value), fn);
      }
      return;
    }
    case Kind::kFeature: {
      if (feature_ >= e.features.size()) return;
      const FeatureValue& value = e.features[feature_];
      if (const auto* strings = std::get_if<std::vector<std::string>>(&value)) {
        for (const std::string& s : *strings) fn(s);
      } else if (const auto* number = std::get_if<double>(&value)) {
        emit_number(*number, fn);
      }
      return;
    }
  }
}

std::optional<double> ValueRef::number(const MaterializedEvent& e) const {
  if (kind_ == Kind::kAttr) {
    const AttrValue* value = find_attr(e.event, attr_);
    if (value)
      if (const auto* d = std::get_if<double>(value)) return *d;
  } else if (kind_ == Kind::kFeature && feature_ < e.features.size()) {
    if (const auto* d = std::get_if<double>(&e.features[feature_])) return *d;
  }
  return std::nullopt;
}

std::span<const float> ValueRef::vector(const MaterializedEvent& e) const {
  if (kind_ == Kind::kFeature && feature_ < e.features.size())
    if (const auto* v = std::get_if<std::vector<float>>(&e.features[feature_])) return *v;
  return {};
}

}  // namespace signalbox
