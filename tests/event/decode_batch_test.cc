#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pinned_clock.h"
#include "signalbox/event/decode.h"

namespace signalbox {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::StartsWith;

std::string event_json(std::uint64_t user) {
  return R"({"user_id":)" + std::to_string(user) + R"(,"ts":1000,"action":"click"})";
}

struct BatchResult {
  std::vector<std::pair<std::size_t, std::uint64_t>> events;  // index, user_id
  std::vector<std::pair<std::size_t, std::string>> errors;
};

class DecodeBatchTest : public ::testing::Test {
 protected:
  DecodeBatchTest() : decoder_(testing::pinned_options()) {}

  BatchResult run(std::string_view body) {
    BatchResult result;
    decoder_.decode_batch(
        body,
        [&](std::size_t i, Event&& e) {
          EXPECT_FALSE(e.event_id.empty());
          result.events.emplace_back(i, e.user_id);
        },
        [&](std::size_t i, Rejection&& error) { result.errors.emplace_back(i, error.message); });
    return result;
  }

  EventDecoder decoder_;
};

TEST_F(DecodeBatchTest, EmptyBodies) {
  for (const char* body : {"", " ", "\n\n", "\r\n", " \t\n ", "[]", " [ \n ] \n"}) {
    BatchResult r = run(body);
    EXPECT_TRUE(r.events.empty()) << body;
    EXPECT_TRUE(r.errors.empty()) << body;
  }
}

TEST_F(DecodeBatchTest, Array) {
  BatchResult r = run("[" + event_json(1) + ",\n " + event_json(2) + " , " + event_json(3) + "]");
  EXPECT_THAT(r.events, ElementsAre(Pair(0, 1), Pair(1, 2), Pair(2, 3)));
  EXPECT_TRUE(r.errors.empty());
}

TEST_F(DecodeBatchTest, ArrayWithBadEventsKeepsTheOthers) {
  std::string body = "[" + event_json(1) + R"(,{"user_id":-1,"ts":1,"action":"a"},)" +
                     R"(42,{"userid":1},{"user_id":1 "broken"},)" + event_json(6) + "]";
  BatchResult r = run(body);
  EXPECT_THAT(r.events, ElementsAre(Pair(0, 1), Pair(5, 6)));
  ASSERT_EQ(r.errors.size(), 4u);
  EXPECT_THAT(r.errors[0], Pair(1, StartsWith("user_id: ")));
  EXPECT_THAT(r.errors[1], Pair(2, "json: event must be an object"));
  EXPECT_THAT(r.errors[2], Pair(3, "userid: unknown field"));
  EXPECT_THAT(r.errors[3], Pair(4, StartsWith("json: ")));
}

TEST_F(DecodeBatchTest, ArrayElementsMayHoldBracketsAndQuotesInStrings) {
  std::string body = R"([{"user_id":1,"ts":1,"action":"a","query":"]}\"[{,\\"},)"
                     R"({"user_id":2,"ts":1,"action":"a","attrs":{"k":"\\\\"}}])";
  BatchResult r = run(body);
  EXPECT_THAT(r.events, ElementsAre(Pair(0, 1), Pair(1, 2)));
  EXPECT_TRUE(r.errors.empty()) << r.errors[0].second;
}

TEST_F(DecodeBatchTest, OversizedArrayElementIsRejectedAlone) {
  std::string big = R"({"user_id":1,"ts":1,"action":"a","query":")" +
                    std::string(kMaxEventJsonBytes, 'q') + "\"}";
  BatchResult r = run("[" + big + "," + event_json(2) + "]");
  EXPECT_THAT(r.events, ElementsAre(Pair(1, 2)));
  EXPECT_THAT(r.errors, ElementsAre(Pair(0, "json: event larger than 65536 bytes")));
}

TEST_F(DecodeBatchTest, BrokenArraysStopWhereTheyBreak) {
  struct Case {
    std::string body;
    std::size_t good;  // events before the break
    std::size_t break_index;
  };
  const std::string e = event_json(1);
  std::vector<Case> cases = {
      {"[", 0, 0},
      {"[" + e, 1, 1},
      {"[" + e + ",", 1, 1},
      {"[" + e + ", ", 1, 1},
      {"[" + e + "," + e.substr(0, 10), 1, 1},
      {"[" + e + R"(,{"user_id":1,"query":"abc)", 1, 1},
      {"[" + e + ",]", 1, 1},
      {"[" + e + ",," + e + "]", 1, 1},
      {"[" + e + " " + e + "]", 1, 1},
      {"[" + e + "}", 1, 1},
      {"[" + e + "," + R"({"a":[1}])", 1, 1},
      {"[" + e + "] x", 1, 1},
      {"[" + e + "][]", 1, 1},
      {"[" + e + "]\n" + e, 1, 1},
      {"[,]", 0, 0},
      {"[}", 0, 0},
      {"[]]", 0, 0},
  };
  for (const Case& c : cases) {
    BatchResult r = run(c.body);
    EXPECT_EQ(r.events.size(), c.good) << c.body;
    ASSERT_EQ(r.errors.size(), 1u) << c.body;
    EXPECT_EQ(r.errors[0].first, c.break_index) << c.body;
    EXPECT_THAT(r.errors[0].second, StartsWith("json: ")) << c.body;
  }
}

TEST_F(DecodeBatchTest, Ndjson) {
  std::string body = event_json(1) + "\n" + event_json(2) + "\n" + event_json(3);
  EXPECT_THAT(run(body).events, ElementsAre(Pair(0, 1), Pair(1, 2), Pair(2, 3)));
  EXPECT_THAT(run(body + "\n").events, ElementsAre(Pair(0, 1), Pair(1, 2), Pair(2, 3)));
}

TEST_F(DecodeBatchTest, NdjsonSkipsBlankLinesAndToleratesCrlf) {
  std::string body = "\n\r\n" + event_json(1) + "\r\n\r\n  \t \n" + event_json(2) + "\r\n" + "   " +
                     event_json(3) + "  \r\n\n";
  BatchResult r = run(body);
  EXPECT_THAT(r.events, ElementsAre(Pair(0, 1), Pair(1, 2), Pair(2, 3)));
  EXPECT_TRUE(r.errors.empty());
}

TEST_F(DecodeBatchTest, NdjsonBadLinesNeverAffectOthers) {
  std::string body = event_json(1) + "\n" +
                     R"({"user_id":2,"ts":1,"action":"a","query":"unclosed)" + "\n" +
                     event_json(3) + "\n" + "[\n" + event_json(5) + "\n" + "{\n" + "}\n" +
                     event_json(8) + "\n" + R"({"user_id":9,"ts":1,"action":"Bad"})" + "\n" +
                     event_json(10) + "\n" + "\xff\xfe\n" + event_json(12);
  BatchResult r = run(body);
  EXPECT_THAT(r.events, ElementsAre(Pair(0, 1), Pair(2, 3), Pair(4, 5), Pair(7, 8), Pair(9, 10),
                                    Pair(11, 12)));
  ASSERT_EQ(r.errors.size(), 6u);
  EXPECT_THAT(r.errors[0], Pair(1, StartsWith("json: ")));
  EXPECT_THAT(r.errors[1], Pair(3, StartsWith("json: ")));
  EXPECT_THAT(r.errors[2], Pair(5, StartsWith("json: ")));
  EXPECT_THAT(r.errors[3], Pair(6, StartsWith("json: ")));
  EXPECT_THAT(r.errors[4], Pair(8, "action: must match [a-z0-9_]{1,32}"));
  EXPECT_THAT(r.errors[5], Pair(10, "json: invalid UTF-8"));
}

TEST_F(DecodeBatchTest, NdjsonOversizedLine) {
  std::string big = R"({"user_id":1,"ts":1,"action":"a","query":")" +
                    std::string(kMaxEventJsonBytes, 'q') + "\"}";
  BatchResult r = run(event_json(1) + "\n" + big + "\n" + event_json(3));
  EXPECT_THAT(r.events, ElementsAre(Pair(0, 1), Pair(2, 3)));
  EXPECT_THAT(r.errors, ElementsAre(Pair(1, "json: event larger than 65536 bytes")));
}

TEST_F(DecodeBatchTest, NdjsonWithALeadingBracketLineIsAnArray) {
  // The first non-blank character decides: '[' means the body is one JSON array.
  BatchResult r = run("\n  [" + event_json(1) + "]");
  EXPECT_THAT(r.events, ElementsAre(Pair(0, 1)));
}

TEST_F(DecodeBatchTest, EventsAreIndependent) {
  // An event's optional fields must not leak into the next one.
  std::string body = R"({"user_id":1,"ts":1,"action":"a","item_id":"x","attrs":{"k":1}})"
                     "\n" +
                     event_json(2);
  std::vector<Event> events;
  decoder_.decode_batch(
      body, [&](std::size_t, Event&& e) { events.push_back(std::move(e)); },
      [&](std::size_t, Rejection&& error) { ADD_FAILURE() << error.message; });
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].item_id, "x");
  EXPECT_FALSE(events[1].item_id.has_value());
  EXPECT_TRUE(events[1].attrs.empty());
  EXPECT_NE(events[0].event_id, events[1].event_id);
}

TEST_F(DecodeBatchTest, ManyEvents) {
  std::string ndjson;
  std::string array = "[";
  const int n = 20'000;
  for (int i = 0; i < n; ++i) {
    std::string e = R"({"user_id":)" + std::to_string(i) +
                    R"(,"ts":1700000000000,"action":"click","item_id":"pin:)" +
                    std::to_string(i % 97) + R"(","attrs":{"pos":)" + std::to_string(i % 10) + "}}";
    ndjson += e + "\n";
    array += (i ? "," : "") + e;
  }
  array += "]";
  for (const std::string& body : {ndjson, array}) {
    BatchResult r = run(body);
    ASSERT_EQ(r.events.size(), static_cast<std::size_t>(n));
    EXPECT_TRUE(r.errors.empty());
    for (std::size_t i = 0; i < r.events.size(); ++i) {
      ASSERT_EQ(r.events[i].first, i);
      ASSERT_EQ(r.events[i].second, i);
    }
  }
}

}  // namespace
}  // namespace signalbox
