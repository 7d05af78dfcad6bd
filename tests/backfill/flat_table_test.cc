// FlatTable: answers as one table, columns the union over answers, 0 for a group key an
// answer lacks, empty under a null, top:N keys per signal across its windows.

#include "signalbox/backfill/flat_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "json.h"

namespace signalbox {
namespace {

using ::testing::ElementsAre;
using testing::parse_json;

const std::set<std::string> kWindowed = {"saves", "cats"};

// Two answers as backfill writes them, with a label column; the second user saw no "food".
const char* kFirst =
    R"({"user_id":1,"as_of":5,"as_of_iso":"x","label":"yes","signals":{)"
    R"("saves":{"1d":2,"7d":3},"cats":{"1d":{"art":1},"7d":{"art":4,"food":1.5}},)"
    R"("recent":[{"value":"p1","ts":4}],"mix":{"art":0.8,"food":0.2},"mean":null}})";
const char* kSecond = R"({"user_id":2,"as_of":6,"as_of_iso":"y","label":"no, really","signals":{)"
                      R"("saves":{"1d":0,"7d":1},"cats":{"1d":{},"7d":{"zoo":9}},)"
                      R"("recent":[],"mix":{},"mean":{"a":1,"b":2}}})";
const char* kRefused =
    R"({"user_id":3,"as_of":7,"as_of_iso":"z","label":"","error":"as_of: too old"})";

TEST(FlatTable, ColumnsAreTheUnionWithKeysSortedAndSharedByEveryWindow) {
  FlatTable table(kWindowed, std::nullopt);
  for (const char* a : {kFirst, kSecond, kRefused}) table.learn(parse_json(a));
  EXPECT_THAT(
      table.columns(),
      ElementsAre("user_id", "as_of", "as_of_iso", "label", "error", "saves.1d", "saves.7d",
                  "cats.1d.art", "cats.1d.food", "cats.1d.zoo", "cats.7d.art", "cats.7d.food",
                  "cats.7d.zoo", "recent", "mix.art", "mix.food", "mean.a", "mean.b"));
  EXPECT_THAT(table.row(parse_json(kFirst)),
              ElementsAre("1", "5", "x", "yes", "", "2", "3", "1", "0", "0", "4", "1.5", "0",
                          R"([{"value":"p1","ts":4}])", "0.8", "0.2", "", ""));
  EXPECT_THAT(table.row(parse_json(kSecond)),
              ElementsAre("2", "6", "y", "no, really", "", "0", "1", "0", "0", "0", "0", "0", "9",
                          "[]", "0", "0", "1", "2"));
  EXPECT_THAT(table.row(parse_json(kRefused)),
              ElementsAre("3", "7", "z", "", "as_of: too old", "", "", "", "", "", "", "", "", "",
                          "", "", "", ""));
}

TEST(FlatTable, TopKeysKeepsTheLargestSumsOfEachSignalAcrossWindows) {
  FlatTable table(kWindowed, 1);
  for (const char* a : {kFirst, kSecond}) table.learn(parse_json(a));
  // cats: art 1+4 = 5, food 1.5, zoo 9: zoo in every window. mix: art 0.8.
  EXPECT_THAT(table.columns(),
              ElementsAre("user_id", "as_of", "as_of_iso", "label", "saves.1d", "saves.7d",
                          "cats.1d.zoo", "cats.7d.zoo", "recent", "mix.art", "mean.b"));
  EXPECT_THAT(table.row(parse_json(kFirst)), ElementsAre("1", "5", "x", "yes", "2", "3", "0", "0",
                                                         R"([{"value":"p1","ts":4}])", "0.8", ""));
}

TEST(FlatTable, NumbersReadBackAsTheSameDouble) {
  FlatTable table({}, std::nullopt);
  Value answer = parse_json(R"({"signals":{"x":0.1,"y":1e+21,"z":0.30000000000000004,"t":true}})");
  table.learn(answer);
  EXPECT_THAT(table.row(answer), ElementsAre("0.1", "1e+21", "0.30000000000000004", "true"));
}

}  // namespace
}  // namespace signalbox
