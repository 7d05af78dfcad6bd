#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace signalbox {

class JsonWriter;
class ResultWriter;

// A JSON-shaped value: what a signal or view returns and what the API serialises. Objects
// keep their insertion order so answers read in the order the config declares things.
// A Value is a plain value type: copyable, not synchronised.
class Value {
 public:
  using Array = std::vector<Value>;
  using Object = std::vector<std::pair<std::string, Value>>;

  Value() = default;  // null
  Value(bool b) : data_(b) {}
  Value(double d) : data_(d) {}
  Value(int i) : data_(static_cast<std::int64_t>(i)) {}
  Value(std::int64_t i) : data_(i) {}
  Value(std::uint64_t u) : data_(u) {}
  Value(std::string s) : data_(std::move(s)) {}
  Value(const char* s) : data_(std::string(s)) {}
  Value(Array a) : data_(std::move(a)) {}
  Value(Object o) : data_(std::move(o)) {}

  bool is_null() const { return std::holds_alternative<std::monostate>(data_); }
  bool is_number() const {
    return std::holds_alternative<double>(data_) || std::holds_alternative<std::int64_t>(data_) ||
           std::holds_alternative<std::uint64_t>(data_);
  }
  bool is_string() const { return std::holds_alternative<std::string>(data_); }
  bool is_array() const { return std::holds_alternative<Array>(data_); }
  bool is_object() const { return std::holds_alternative<Object>(data_); }

  // Numeric value of any number kind; 0 for non-numbers.
  double number() const;
  const std::string& string() const { return std::get<std::string>(data_); }
  const Array& array() const { return std::get<Array>(data_); }
  Array& array() { return std::get<Array>(data_); }
  const Object& object() const { return std::get<Object>(data_); }
  Object& object() { return std::get<Object>(data_); }

  // The member named `key`, or nullptr when this is not an object or has no such member.
  const Value* find(std::string_view key) const;

  // Compact JSON. Doubles print in their shortest round-trip form (3, 0.1, 1e+21);
  // non-finite doubles print as null, which JSON can carry.
  std::string to_json() const;
  void append_json(std::string& out) const;
  // The same text through `out` (json_writer.h), at its position.
  void write_json(JsonWriter& out) const;
  // This value to `out` token by token (result_writer.h), without a copy: ResultWriter::value()
  // takes a Value of its own.
  void write_to(ResultWriter& out) const;

  friend bool operator==(const Value&, const Value&) = default;

 private:
  std::variant<std::monostate, bool, double, std::int64_t, std::uint64_t, std::string, Array,
               Object>
      data_;
};

// Appends `s` as a JSON string literal (quoted, escaped; invalid UTF-8 bytes become U+FFFD).
void append_json_string(std::string& out, std::string_view s);

}  // namespace signalbox
