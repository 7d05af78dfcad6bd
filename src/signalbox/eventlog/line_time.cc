#include "signalbox/eventlog/line_time.h"

#include <simdjson.h>

#include <cstring>
#include <string>

namespace signalbox {

struct LineTimeReader::Impl {
  simdjson::ondemand::parser parser;
  // simdjson reads up to SIMDJSON_PADDING bytes past the input: lines are copied here first.
  std::string padded;
};

LineTimeReader::LineTimeReader() : impl_(std::make_unique<Impl>()) {}
LineTimeReader::~LineTimeReader() = default;

TimeMs LineTimeReader::read(std::string_view line) {
  std::string& padded = impl_->padded;
  if (padded.size() < line.size() + simdjson::SIMDJSON_PADDING)
    padded.resize(line.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(padded.data(), line.data(), line.size());
  std::memset(padded.data() + line.size(), 0, simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::document document;
  if (impl_->parser.iterate(padded.data(), line.size(), padded.size()).get(document))
    return kNoTime;
  simdjson::ondemand::object object;
  if (document.get_object().get(object)) return kNoTime;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return kNoTime;
    if (key != "ts") continue;
    std::int64_t ts;
    if (field.value().get_int64().get(ts)) return kNoTime;
    return ts;
  }
  return kNoTime;
}

}  // namespace signalbox
