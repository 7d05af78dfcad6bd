#include "signalbox/common/json_result_writer.h"

namespace signalbox {

void JsonResultWriter::null() {
  separate();
  out_.null();
  after_value_ = true;
}

void JsonResultWriter::boolean(bool b) {
  separate();
  out_.boolean(b);
  after_value_ = true;
}

void JsonResultWriter::number(double d) {
  separate();
  out_.number(d);
  after_value_ = true;
}

void JsonResultWriter::integer(std::int64_t i) {
  separate();
  out_.integer(i);
  after_value_ = true;
}

void JsonResultWriter::unsigned_integer(std::uint64_t u) {
  separate();
  out_.integer(u);
  after_value_ = true;
}

void JsonResultWriter::string(std::string_view s) {
  out_.quoted(after_value_ ? ',' : 0, s, 0);
  after_value_ = true;
}

void JsonResultWriter::begin_array(std::size_t) {
  separate();
  out_.put('[');
  after_value_ = false;
}

void JsonResultWriter::end_array() {
  out_.put(']');
  after_value_ = true;
}

void JsonResultWriter::begin_object(std::size_t) {
  separate();
  out_.put('{');
  after_value_ = false;
}

void JsonResultWriter::key(std::string_view k) {
  out_.quoted(after_value_ ? ',' : 0, k, ':');
  after_value_ = false;
}

void JsonResultWriter::end_object() {
  out_.put('}');
  after_value_ = true;
}

void JsonResultWriter::value(Value v) {
  separate();
  v.write_json(out_);
  after_value_ = true;
}

}  // namespace signalbox
