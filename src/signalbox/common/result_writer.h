#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "signalbox/common/value.h"

namespace signalbox {

// Where a result goes as it is produced, token by token: into a Value (ValueBuilder) or
// straight into JSON text (JsonResultWriter), so that an answer served as JSON is written
// without building its Value first. The calls nest as JSON does: inside an object, key()
// comes before each member's value; begin_array/begin_object are closed by their end_*
// in order; one value at the top. Each call stands for the Value of the same kind:
// number() a double, integer() an int64, unsigned_integer() a uint64. The size hints say
// how many members or items follow (0: unknown); they only reserve room.
// Implementations are not synchronised: one writer per answer being produced.
class ResultWriter {
 public:
  virtual ~ResultWriter() = default;

  virtual void null() = 0;
  virtual void boolean(bool b) = 0;
  virtual void number(double d) = 0;
  virtual void integer(std::int64_t i) = 0;
  virtual void unsigned_integer(std::uint64_t u) = 0;
  virtual void string(std::string_view s) = 0;
  virtual void begin_array(std::size_t size_hint) = 0;
  virtual void end_array() = 0;
  virtual void begin_object(std::size_t size_hint) = 0;
  virtual void key(std::string_view k) = 0;
  virtual void end_object() = 0;
  // A whole value at once (a view's result, say); moved in, as a builder keeps it.
  virtual void value(Value v) = 0;
};

}  // namespace signalbox
