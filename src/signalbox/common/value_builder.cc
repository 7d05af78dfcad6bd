#include "signalbox/common/value_builder.h"

#include <cassert>

namespace signalbox {

Value& ValueBuilder::slot() {
  if (open_.empty()) return top_;
  Value& parent = *open_.back();
  if (parent.is_array()) return parent.array().emplace_back();
  assert(parent.is_object() && !parent.object().empty());
  return parent.object().back().second;
}

void ValueBuilder::begin_array(std::size_t size_hint) {
  Value& array = slot();
  array = Value(Value::Array());
  array.array().reserve(size_hint);
  open_.push_back(&array);
}

void ValueBuilder::begin_object(std::size_t size_hint) {
  Value& object = slot();
  object = Value(Value::Object());
  object.object().reserve(size_hint);
  open_.push_back(&object);
}

void ValueBuilder::key(std::string_view k) {
  assert(!open_.empty() && open_.back()->is_object());
  open_.back()->object().emplace_back(std::string(k), Value());
}

Value ValueBuilder::take() {
  assert(open_.empty());
  return std::exchange(top_, Value());
}

}  // namespace signalbox
