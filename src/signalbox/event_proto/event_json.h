#pragma once

#include <string>

#include "signalbox/v1/signalbox.pb.h"

namespace signalbox {

// Appends `event` as one line of JSON (no newline) with exactly the fields it carries, so that
// EventDecoder judges a protobuf event by the same rules, with the same messages, as a JSON
// one: the rules live in one place (signalbox/event/decode.cc). Fields left unset are left
// out ("ts: required"); an attribute with no value set is written as null, which the decoder
// rejects as "attrs.NAME: value must be a string or number". Attributes are written in name
// order (a protobuf map has none; the derived event id does not depend on it).
void append_event_json(const v1::Event& event, std::string& out);

// The events of a request as an NDJSON body: line i is event i, so the indexes of an
// IngestResult are the request's.
std::string events_ndjson(const google::protobuf::RepeatedPtrField<v1::Event>& events);

}  // namespace signalbox
