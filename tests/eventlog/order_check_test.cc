#include "signalbox/eventlog/order_check.h"

#include <gtest/gtest.h>

#include "logs.h"

namespace signalbox::testing {
namespace {

TEST(OrderCheck, NonDecreasingAcrossFilesInTheOrderGiven) {
  LogFolder folder;
  std::string a = folder.write("a.ndjson", {event_line(1, 0), event_line(5, 1), "",
                                            event_line(5, 2), "{not json", event_line(9, 3)});
  std::string b = folder.write("b.ndjson.gz", {event_line(9, 4), event_line(12, 5)}, true);
  std::string c = folder.write("c.ndjson", {event_line(3, 6)});
  EXPECT_TRUE(logs_in_time_order({a}, false)) << "equal ts and lines without ts are in order";
  EXPECT_TRUE(logs_in_time_order({a, b}, false));
  EXPECT_FALSE(logs_in_time_order({b, a}, false)) << "the second file starts earlier";
  EXPECT_FALSE(logs_in_time_order({a, b, c}, false));
  EXPECT_TRUE(logs_in_time_order({c, b}, false));

  std::string late = folder.write(
      "late.ndjson", {event_line(10, 0), event_line(20, 1), event_line(19, 2), event_line(30, 3)});
  EXPECT_FALSE(logs_in_time_order({late}, false));
}

TEST(OrderCheck, StandardInputIsNeverReportedInOrder) {
  LogFolder folder;
  std::string a = folder.write("a.ndjson", {event_line(1, 0)});
  EXPECT_FALSE(logs_in_time_order({a, "-"}, false));
}

TEST(OrderCheck, AnUnreadableFileIsNamed) {
  LogFolder folder;
  std::string missing = (folder.path() / "missing.ndjson").string();
  try {
    logs_in_time_order({missing}, false);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(missing + ": cannot open"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace signalbox::testing
