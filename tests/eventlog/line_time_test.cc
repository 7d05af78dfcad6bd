#include "signalbox/eventlog/line_time.h"

#include <gtest/gtest.h>

namespace signalbox {
namespace {

TEST(LineTime, TheTopLevelTsWhereverItStands) {
  LineTimeReader reader;
  EXPECT_EQ(reader.read(R"({"ts": 1767225000000, "user_id": 1})"), 1767225000000);
  EXPECT_EQ(reader.read(R"({"user_id": 1, "action": "click", "ts": 42})"), 42);
  EXPECT_EQ(reader.read(R"(  {"attrs": {"ts": 1}, "items": [{"ts": 2}], "ts": 3}  )"), 3);
  EXPECT_EQ(reader.read(R"({"ts": 5, "ts": 6})"), 5) << "the first one; the decoder rejects it";
  EXPECT_EQ(reader.read(R"({"ts": -7})"), -7) << "the decoder rejects it, not the order";
  std::string long_line = R"({"query": ")" + std::string(100000, 'x') + R"(", "ts": 9})";
  EXPECT_EQ(reader.read(long_line), 9);
}

TEST(LineTime, NoTimeWhenTsCannotBeRead) {
  LineTimeReader reader;
  for (const char* line :
       {R"({"user_id": 1})", R"({"ts": "yesterday"})", R"({"ts": 1.5})", R"({"ts": null})",
        R"({"ts": 99999999999999999999})", R"([{"ts": 1}])", "{not json", "", "42",
        R"({"user_id": 1, "ts": )", R"({"attrs": {"ts": 1}})"})
    EXPECT_EQ(reader.read(line), kNoTime) << line;
  // A bad line leaves the reader usable.
  EXPECT_EQ(reader.read(R"({"ts": 11})"), 11);
}

}  // namespace
}  // namespace signalbox
