// The query file: CSV rows user_id,as_of with an optional header, blank rows skipped, and a
// bad row reported by file and line.

#include "signalbox/backfill/query_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "signalbox/common/error.h"

namespace signalbox {
namespace {

using ::testing::StartsWith;

std::string error_of(std::string_view text) {
  try {
    parse_query_text(text, "q.csv");
  } catch (const QueryError& e) {
    return e.what();
  }
  return "";
}

TEST(QueryFile, RowsWithHeaderBlankLinesAndCrlf) {
  auto queries = parse_query_text(
      "user_id,as_of\r\n7,1700000000000\r\n\r\n  \n 18446744073709551615 , 2023-11-14T22:13:20Z\n"
      "\"9\",\"2023-11-14\"",
      "q.csv");
  ASSERT_EQ(queries.size(), 3u);
  EXPECT_EQ(queries[0].user_id, 7u);
  EXPECT_EQ(queries[0].as_of, 1700000000000);
  EXPECT_EQ(queries[1].user_id, 18446744073709551615u);
  EXPECT_EQ(queries[1].as_of, 1700000000000);  // 2023-11-14T22:13:20Z
  EXPECT_EQ(queries[2].user_id, 9u);
  EXPECT_EQ(queries[2].as_of, 1700000000000 - (22 * 3600 + 13 * 60 + 20) * 1000);
  EXPECT_TRUE(parse_query_text("", "q.csv").empty());
  EXPECT_TRUE(parse_query_text("\n\nuser_id,as_of\n", "q.csv").empty());
  EXPECT_EQ(parse_query_text("1,1700000000000", "q.csv").size(), 1u);
}

TEST(QueryFile, ABadRowNamesFileLineAndField) {
  const std::string ok = "1,1700000000000\n";
  EXPECT_EQ(error_of("user_id,as_of\n" + ok + "\nx,1700000000000\n"),
            "q.csv:4: user_id: \"x\" is not an unsigned 64-bit integer");
  EXPECT_EQ(error_of(ok + "-1,1700000000000\n"),
            "q.csv:2: user_id: \"-1\" is not an unsigned 64-bit integer");
  EXPECT_THAT(error_of(ok + "1,yesterday\n"),
              StartsWith("q.csv:2: as_of: \"yesterday\" is not a time: write ISO 8601"));
  EXPECT_THAT(error_of("1,-5\n"), StartsWith("q.csv:1: as_of: \"-5\" is not a time"));
  EXPECT_THAT(error_of("1,1700000000\n"),
              StartsWith("q.csv:1: as_of: \"1700000000\" looks like seconds since the epoch"));
  EXPECT_THAT(error_of("1,2023-02-29\n"),
              StartsWith("q.csv:1: as_of: \"2023-02-29\" is not a calendar date"));
  EXPECT_THAT(error_of("1,10000-01-01\n"), StartsWith("q.csv:1: as_of: \"10000-01-01\""));
  EXPECT_EQ(error_of(ok + "3\n"), "q.csv:2: expected two columns user_id,as_of, got \"3\"");
  EXPECT_EQ(error_of("1,2,3\n"), "q.csv:1: expected two columns user_id,as_of, got \"1,2,3\"");
  EXPECT_EQ(error_of(ok + "user_id,as_of\n"),
            "q.csv:2: user_id: \"user_id\" is not an unsigned 64-bit integer")
      << "a header is only allowed first";
  EXPECT_THAT(error_of("1,\n"), StartsWith("q.csv:1: as_of: \"\" is not a time"));
}

TEST(QueryFile, AMissingFileIsAQueryError) {
  try {
    read_query_file("/nonexistent/q.csv");
    FAIL() << "expected a QueryError";
  } catch (const QueryError& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/q.csv: cannot open: No such file or directory");
  }
}

}  // namespace
}  // namespace signalbox
