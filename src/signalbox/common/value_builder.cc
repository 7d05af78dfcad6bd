#include "signalbox/common/value_builder.h"

#include <stdexcept>

namespace signalbox {

namespace {

[[noreturn]] void out_of_order(const char* what) {
  throw std::logic_error(std::string("ValueBuilder: ") + what);
}

}  // namespace

Value& ValueBuilder::slot() {
  if (open_.empty()) {
    if (top_written_) out_of_order("a second value at the top");
    top_written_ = true;
    return top_;
  }
  Value& parent = *open_.back();
  if (parent.is_array()) return parent.array().emplace_back();
  if (!key_placed_) out_of_order("a member of an object without its key");
  key_placed_ = false;
  return parent.object().back().second;
}

void ValueBuilder::close(bool object) {
  if (open_.empty() || open_.back()->is_object() != object)
    out_of_order(object ? "end_object without its begin_object"
                        : "end_array without its begin_array");
  if (key_placed_) out_of_order("end_object after a key without its value");
  open_.pop_back();
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
  if (open_.empty() || !open_.back()->is_object()) out_of_order("a key outside an object");
  if (key_placed_) out_of_order("a key after a key without its value");
  open_.back()->object().emplace_back(std::string(k), Value());
  key_placed_ = true;
}

Value ValueBuilder::take() {
  if (!open_.empty()) out_of_order("take() with an array or object not closed");
  top_written_ = false;
  return std::exchange(top_, Value());
}

}  // namespace signalbox
