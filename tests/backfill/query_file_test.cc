// The query file: CSV rows user_id,as_of with an optional header, which may name extra
// columns; blank rows skipped, quoted fields, and a bad row reported by file and line.

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
  QueryFile file = parse_query_text(
      "user_id,as_of\r\n7,1700000000000\r\n\r\n  \n 18446744073709551615 , 2023-11-14T22:13:20Z\n"
      "\"9\",\"2023-11-14\"",
      "q.csv");
  EXPECT_TRUE(file.extra_columns.empty());
  const std::vector<BackfillQuery>& queries = file.queries;
  ASSERT_EQ(queries.size(), 3u);
  EXPECT_EQ(queries[0].user_id, 7u);
  EXPECT_EQ(queries[0].as_of, 1700000000000);
  EXPECT_EQ(queries[1].user_id, 18446744073709551615u);
  EXPECT_EQ(queries[1].as_of, 1700000000000);  // 2023-11-14T22:13:20Z
  EXPECT_EQ(queries[2].user_id, 9u);
  EXPECT_EQ(queries[2].as_of, 1700000000000 - (22 * 3600 + 13 * 60 + 20) * 1000);
  EXPECT_TRUE(parse_query_text("", "q.csv").queries.empty());
  EXPECT_TRUE(parse_query_text("\n\nuser_id,as_of\n", "q.csv").queries.empty());
  EXPECT_EQ(parse_query_text("1,1700000000000", "q.csv").queries.size(), 1u);
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
  EXPECT_THAT(error_of(ok + "3\n"),
              StartsWith("q.csv:2: expected two columns user_id,as_of, got \"3\""));
  EXPECT_THAT(error_of("1,2,3\n"),
              StartsWith("q.csv:1: expected two columns user_id,as_of, got \"1,2,3\""));
  EXPECT_EQ(error_of(ok + "user_id,as_of\n"),
            "q.csv:2: user_id: \"user_id\" is not an unsigned 64-bit integer")
      << "a header is only allowed first";
  EXPECT_THAT(error_of("1,\n"), StartsWith("q.csv:1: as_of: \"\" is not a time"));
}

TEST(QueryFile, AHeaderNamesExtraColumnsInAnyOrder) {
  QueryFile file = parse_query_text(
      "label, as_of ,user_id,request id\n"
      "1,2023-11-14T22:13:20Z,7,\"a, b\"\n"
      "\"0\",1700000000001,8,\"say \"\"hi\"\"\"\n"
      ",1700000000002,9,\n",
      "q.csv");
  EXPECT_EQ(file.extra_columns, (std::vector<std::string>{"label", "request id"}));
  ASSERT_EQ(file.queries.size(), 3u);
  EXPECT_EQ(file.queries[0].user_id, 7u);
  EXPECT_EQ(file.queries[0].as_of, 1700000000000);
  EXPECT_EQ(file.queries[0].extra, (std::vector<std::string>{"1", "a, b"}));
  EXPECT_EQ(file.queries[1].extra, (std::vector<std::string>{"0", "say \"hi\""}));
  EXPECT_EQ(file.queries[2].user_id, 9u);
  EXPECT_EQ(file.queries[2].extra, (std::vector<std::string>{"", ""}));
}

TEST(QueryFile, ABadHeaderOrRowWidthIsNamed) {
  EXPECT_EQ(error_of("user_id,as_of,label\n1,1700000000000\n"),
            "q.csv:2: expected 3 columns as the header names, got 2");
  EXPECT_EQ(error_of("user_id,as_of,label,label\n"),
            "q.csv:1: header: column \"label\" is named twice");
  EXPECT_EQ(error_of("user_id,as_of,\n"), "q.csv:1: header: column 3 has no name");
  EXPECT_THAT(error_of("user_id,as_of,signals\n"),
              StartsWith("q.csv:1: header: column \"signals\" has the name of a field"));
  EXPECT_THAT(error_of("user_id,as_of,error\n"), StartsWith("q.csv:1: header: column \"error\""));
  EXPECT_EQ(error_of("user_id,as_of\n1,\"1700000000000\n"),
            "q.csv:2: a quoted field has no closing quote");
  EXPECT_THAT(error_of("user_id,as_of\n1,\"17\"00\n"),
              StartsWith("q.csv:2: text after a closing quote"));
  EXPECT_THAT(error_of("1,1700000000000,x\n"),
              StartsWith("q.csv:1: expected two columns user_id,as_of, got \"1,1700000000000,x\" "
                         "(a header row naming user_id and as_of allows more)"));
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
