#include "signalbox/backfill/json_value.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <stdexcept>
#include <string>

namespace signalbox {

namespace {

Value to_value(simdjson::dom::element e) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::ARRAY: {
      simdjson::dom::array array = e.get_array().value_unsafe();
      Value::Array out;
      for (simdjson::dom::element item : array) out.push_back(to_value(item));
      return Value(std::move(out));
    }
    case element_type::OBJECT: {
      simdjson::dom::object object = e.get_object().value_unsafe();
      Value::Object out;
      for (simdjson::dom::key_value_pair field : object)
        out.emplace_back(std::string(field.key), to_value(field.value));
      return Value(std::move(out));
    }
    case element_type::INT64:
      return Value(e.get_int64().value_unsafe());
    case element_type::UINT64:
      return Value(e.get_uint64().value_unsafe());
    case element_type::DOUBLE:
      return Value(e.get_double().value_unsafe());
    case element_type::STRING:
      return Value(std::string(e.get_string().value_unsafe()));
    case element_type::BOOL:
      return Value(e.get_bool().value_unsafe());
    case element_type::NULL_VALUE:
      break;
  }
  return Value();
}

}  // namespace

Value parse_json_value(std::string_view text) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto error = parser.parse(simdjson::padded_string(text)).get(root))
    throw std::runtime_error(fmt::format("not JSON ({})", simdjson::error_message(error)));
  return to_value(root);
}

}  // namespace signalbox
