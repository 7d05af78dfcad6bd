// The query file: CSV rows user_id,as_of with an optional header, blank rows skipped, and a
// bad row reported by file and line.

#include "signalbox/backfill/query_file.h"

#include <gtest/gtest.h>

#include "signalbox/common/error.h"

namespace signalbox {
namespace {

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
      "user_id,as_of\r\n7,1000\r\n\r\n  \n 18446744073709551615 , 0\n\"9\",\"5\"", "q.csv");
  ASSERT_EQ(queries.size(), 3u);
  EXPECT_EQ(queries[0].user_id, 7u);
  EXPECT_EQ(queries[0].as_of, 1000);
  EXPECT_EQ(queries[1].user_id, 18446744073709551615u);
  EXPECT_EQ(queries[1].as_of, 0);
  EXPECT_EQ(queries[2].user_id, 9u);
  EXPECT_EQ(queries[2].as_of, 5);
  EXPECT_TRUE(parse_query_text("", "q.csv").empty());
  EXPECT_TRUE(parse_query_text("\n\nuser_id,as_of\n", "q.csv").empty());
  EXPECT_EQ(parse_query_text("1,2", "q.csv").size(), 1u);
}

TEST(QueryFile, ABadRowNamesFileLineAndField) {
  EXPECT_EQ(error_of("user_id,as_of\n1,2\n\nx,3\n"),
            "q.csv:4: user_id: \"x\" is not an unsigned 64-bit integer");
  EXPECT_EQ(error_of("1,2\n-1,2\n"), "q.csv:2: user_id: \"-1\" is not an unsigned 64-bit integer");
  EXPECT_EQ(
      error_of("1,2\n1,yesterday\n"),
      "q.csv:2: as_of: \"yesterday\" is not a time in ms since the epoch (0 to 253402300799999)");
  EXPECT_EQ(error_of("1,-5\n"),
            "q.csv:1: as_of: \"-5\" is not a time in ms since the epoch (0 to 253402300799999)");
  EXPECT_EQ(error_of("1,253402300800000\n").substr(0, 13), "q.csv:1: as_o");
  EXPECT_EQ(error_of("1,2\n3\n"), "q.csv:2: expected two columns user_id,as_of, got \"3\"");
  EXPECT_EQ(error_of("1,2,3\n"), "q.csv:1: expected two columns user_id,as_of, got \"1,2,3\"");
  EXPECT_EQ(error_of("1,2\nuser_id,as_of\n"),
            "q.csv:2: user_id: \"user_id\" is not an unsigned 64-bit integer")
      << "a header is only allowed first";
  EXPECT_EQ(error_of("1,\n"),
            "q.csv:1: as_of: \"\" is not a time in ms since the epoch (0 to 253402300799999)");
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
