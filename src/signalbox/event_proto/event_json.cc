#include "signalbox/event_proto/event_json.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "signalbox/common/value.h"

namespace signalbox {

void append_event_json(const v1::Event& event, std::string& out) {
  out += '{';
  bool first = true;
  auto key = [&](std::string_view name) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, name);
    out += ':';
  };
  if (event.has_user_id()) {
    key("user_id");
    fmt::format_to(std::back_inserter(out), "{}", event.user_id());
  }
  if (event.has_ts()) {
    key("ts");
    fmt::format_to(std::back_inserter(out), "{}", event.ts());
  }
  if (event.has_action()) {
    key("action");
    append_json_string(out, event.action());
  }
  if (event.has_event_id()) {
    key("event_id");
    append_json_string(out, event.event_id());
  }
  if (event.has_item_id()) {
    key("item_id");
    append_json_string(out, event.item_id());
  }
  if (event.has_query()) {
    key("query");
    append_json_string(out, event.query());
  }
  if (!event.attrs().empty()) {
    key("attrs");
    using Entry = const google::protobuf::MapPair<std::string, v1::AttrValue>*;
    std::vector<Entry> sorted;
    sorted.reserve(event.attrs().size());
    for (const auto& entry : event.attrs()) sorted.push_back(&entry);
    std::sort(sorted.begin(), sorted.end(), [](Entry a, Entry b) { return a->first < b->first; });
    out += '{';
    for (std::size_t i = 0; i < sorted.size(); ++i) {
      if (i > 0) out += ',';
      append_json_string(out, sorted[i]->first);
      out += ':';
      const v1::AttrValue& value = sorted[i]->second;
      switch (value.kind_case()) {
        case v1::AttrValue::kStringValue:
          append_json_string(out, value.string_value());
          break;
        case v1::AttrValue::kNumberValue:
          // Non-finite numbers print as null: rejected like any value that is not a number.
          Value(value.number_value()).append_json(out);
          break;
        case v1::AttrValue::KIND_NOT_SET:
          out += "null";
          break;
      }
    }
    out += '}';
  }
  out += '}';
}

std::string events_ndjson(const google::protobuf::RepeatedPtrField<v1::Event>& events) {
  std::string body;
  for (const v1::Event& event : events) {
    append_event_json(event, body);
    body += '\n';
  }
  return body;
}

}  // namespace signalbox
