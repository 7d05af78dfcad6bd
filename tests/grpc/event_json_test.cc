// Protobuf events are judged by the JSON decoder's rules: what append_event_json writes
// decodes to the same Event a JSON producer would send, and a bad field gets the JSON message.

#include <cmath>
#include <functional>

#include <gtest/gtest.h>

#include "signalbox/event/decode.h"
#include "signalbox/event_proto/event_json.h"

namespace signalbox {
namespace {

constexpr TimeMs kNow = 1800000000000;

DecodeOptions pinned_clock() {
  DecodeOptions options;
  options.now = [] { return kNow; };
  return options;
}

// Decodes what append_event_json wrote for `proto`; "" or the decoder's message in *error.
Event decode(const v1::Event& proto, std::string* error) {
  std::string json;
  append_event_json(proto, json);
  EventDecoder decoder(pinned_clock());
  Event event;
  Rejection rejection;
  error->clear();
  if (!decoder.decode(json, &event, &rejection))
    *error = rejection.message.empty() ? "failed without message" : rejection.message;
  return event;
}

v1::Event valid() {
  v1::Event e;
  e.set_user_id(18446744073709551615ull);
  e.set_ts(kNow - 5);
  e.set_action("save");
  return e;
}

TEST(EventJson, EveryFieldSurvivesIncludingEscapes) {
  v1::Event e = valid();
  e.set_event_id("id \"quoted\" \\ and\nnewline");
  e.set_item_id("p\t1 \xc3\xa9");
  e.set_query("");
  (*e.mutable_attrs())["zeta"].set_string_value("z");
  (*e.mutable_attrs())["alpha"].set_number_value(2.5);
  (*e.mutable_attrs())["big"].set_number_value(1e100);  // the largest magnitude events take
  std::string error;
  Event event = decode(e, &error);
  ASSERT_EQ(error, "");
  EXPECT_EQ(event.user_id, 18446744073709551615ull);
  EXPECT_EQ(event.ts, kNow - 5);
  EXPECT_EQ(event.action, "save");
  EXPECT_EQ(event.event_id, "id \"quoted\" \\ and\nnewline");
  EXPECT_EQ(event.item_id, "p\t1 \xc3\xa9");
  EXPECT_EQ(event.query, "");
  ASSERT_EQ(event.attrs.size(), 3u);
  EXPECT_EQ(event.attrs[0], (std::pair<std::string, AttrValue>{"alpha", 2.5}));
  EXPECT_EQ(event.attrs[1], (std::pair<std::string, AttrValue>{"big", 1e100}));
  EXPECT_EQ(event.attrs[2], (std::pair<std::string, AttrValue>{"zeta", std::string("z")}));
}

TEST(EventJson, DerivedIdEqualsTheJsonEventsId) {
  v1::Event e = valid();
  e.set_item_id("p1");
  (*e.mutable_attrs())["surface"].set_string_value("home");
  (*e.mutable_attrs())["rank"].set_number_value(3);
  std::string error;
  Event from_proto = decode(e, &error);
  ASSERT_EQ(error, "");
  EventDecoder decoder(pinned_clock());
  Event from_json;
  Rejection rejection;
  ASSERT_TRUE(decoder.decode(
      R"({"user_id":18446744073709551615,"ts":1799999999995,"action":"save","item_id":"p1",
          "attrs":{"surface":"home","rank":3}})",
      &from_json, &rejection))
      << rejection.message;
  EXPECT_EQ(from_proto.event_id, from_json.event_id);
  EXPECT_EQ(from_proto.event_id.size(), 17u);
}

TEST(EventJson, BadFieldsGetTheJsonMessages) {
  struct Case {
    std::function<void(v1::Event&)> spoil;
    std::string message;
  };
  std::vector<Case> cases = {
      {[](v1::Event& e) { e.clear_user_id(); }, "user_id: required"},
      {[](v1::Event& e) { e.clear_ts(); }, "ts: required"},
      {[](v1::Event& e) { e.clear_action(); }, "action: required"},
      {[](v1::Event& e) { e.set_ts(-1); }, "ts: must not be negative"},
      {[](v1::Event& e) { e.set_ts(kNow + 2 * kHourMs); },
       "ts: more than 3600000 ms in the future"},
      {[](v1::Event& e) { e.set_action("Save"); }, "action: must match [a-z0-9_]{1,32}"},
      {[](v1::Event& e) { e.set_action(""); }, "action: must match [a-z0-9_]{1,32}"},
      {[](v1::Event& e) { e.set_event_id(""); }, "event_id: must not be empty"},
      {[](v1::Event& e) { e.set_event_id(std::string(129, 'e')); },
       "event_id: longer than 128 bytes"},
      {[](v1::Event& e) { e.set_item_id(std::string(257, 'i')); },
       "item_id: longer than 256 bytes"},
      {[](v1::Event& e) { e.set_query(std::string(1025, 'q')); }, "query: longer than 1024 bytes"},
      {[](v1::Event& e) { (*e.mutable_attrs())["color"]; },
       "attrs.color: value must be a string or number"},
      {[](v1::Event& e) { (*e.mutable_attrs())["x"].set_number_value(std::nan("")); },
       "attrs.x: value must be a string or number"},
      {[](v1::Event& e) { (*e.mutable_attrs())[""].set_number_value(1); },
       "attrs: empty attribute name"},
      {[](v1::Event& e) { (*e.mutable_attrs())["v"].set_string_value(std::string(1025, 'v')); },
       "attrs.v: value longer than 1024 bytes"},
      {[](v1::Event& e) {
         for (int i = 0; i < 33; ++i)
           (*e.mutable_attrs())["a" + std::to_string(i)].set_number_value(i);
       },
       "attrs: more than 32 entries"},
  };
  for (const Case& c : cases) {
    v1::Event e = valid();
    c.spoil(e);
    std::string error;
    decode(e, &error);
    EXPECT_EQ(error, c.message);
  }
}

TEST(EventJson, NdjsonKeepsOneLinePerEvent) {
  v1::IngestEventsRequest request;
  *request.add_events() = valid();
  request.add_events();  // empty: still a line, so indexes stay the request's
  v1::Event third = valid();
  third.set_query("two\nlines");
  *request.add_events() = third;
  std::vector<std::size_t> good, bad;
  EventDecoder decoder(pinned_clock());
  decoder.decode_batch(
      events_ndjson(request.events()), [&](std::size_t i, Event&&) { good.push_back(i); },
      [&](std::size_t i, Rejection&& error) {
        bad.push_back(i);
        EXPECT_EQ(error.reason, RejectReason::kUserId);
        EXPECT_EQ(error.message, "user_id: required");
      });
  EXPECT_EQ(good, (std::vector<std::size_t>{0, 2}));
  EXPECT_EQ(bad, (std::vector<std::size_t>{1}));
}

}  // namespace
}  // namespace signalbox
