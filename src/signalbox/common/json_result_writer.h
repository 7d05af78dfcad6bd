#pragma once

#include <string>

#include "signalbox/common/json_writer.h"
#include "signalbox/common/result_writer.h"

namespace signalbox {

// A ResultWriter that appends the JSON text of what it is given to a string: the same bytes
// as building the Value and calling append_json(), without the Value. The text is the
// string's once the writer is gone (JsonWriter); the string is not to be touched meanwhile.
// Not synchronised.
class JsonResultWriter final : public ResultWriter {
 public:
  explicit JsonResultWriter(std::string& out) : out_(out) {}

  void null() override;
  void boolean(bool b) override;
  void number(double d) override;
  void integer(std::int64_t i) override;
  void unsigned_integer(std::uint64_t u) override;
  void string(std::string_view s) override;
  void begin_array(std::size_t size_hint) override;
  void end_array() override;
  void begin_object(std::size_t size_hint) override;
  void key(std::string_view k) override;
  void end_object() override;
  void value(Value v) override;

 private:
  // A comma first when a value or member came before at this depth. No stack is needed: a
  // value follows a key or an opening bracket (no comma) or another value (a comma).
  void separate() {
    if (after_value_) out_.put(',');
  }

  JsonWriter out_;
  bool after_value_ = false;
};

}  // namespace signalbox
