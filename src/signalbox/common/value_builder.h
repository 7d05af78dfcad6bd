#pragma once

#include <string>
#include <utility>
#include <vector>

#include "signalbox/common/result_writer.h"
#include "signalbox/common/value.h"

namespace signalbox {

// A ResultWriter that builds the Value the calls describe: take() it once the top value is
// complete. Each value is built in its place in the parent (no value is moved up when its
// array or object closes). Calls out of JSON's order (a member without its key, a key outside
// an object, an end without its begin, a second top value, take() with a container open) are
// a programming error, of a plugin's aggregator say: they throw std::logic_error naming it,
// and the builder is then not to be used again. Not synchronised.
class ValueBuilder final : public ResultWriter {
 public:
  void null() override { slot() = Value(); }
  void boolean(bool b) override { slot() = Value(b); }
  void number(double d) override { slot() = Value(d); }
  void integer(std::int64_t i) override { slot() = Value(i); }
  void unsigned_integer(std::uint64_t u) override { slot() = Value(u); }
  void string(std::string_view s) override { slot() = Value(std::string(s)); }
  void begin_array(std::size_t size_hint) override;
  void end_array() override { close(/*object=*/false); }
  void begin_object(std::size_t size_hint) override;
  void key(std::string_view k) override;
  void end_object() override { close(/*object=*/true); }
  void value(Value v) override { slot() = std::move(v); }

  // The value written (null when nothing was); the builder is empty afterwards.
  Value take();

 private:
  // Where the next value goes: the top, a new item of the innermost array, or the member
  // key() placed in the innermost object.
  Value& slot();
  // Closes the innermost container, which must be an object (`object`) or an array.
  void close(bool object);

  // The arrays and objects being filled, innermost last. Stable: a container is not
  // touched while one of its members is open.
  std::vector<Value*> open_;
  Value top_;
  bool top_written_ = false;
  bool key_placed_ = false;  // the innermost object has a key waiting for its value
};

}  // namespace signalbox
