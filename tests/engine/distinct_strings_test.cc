// DistinctStrings: the distinct strings an event carries at a reference, in the order first
// carried, each once, and valid as long as the object: many values (past the inline room for
// them), long values (past the inline room for their bytes), a number's text, none.

#include "signalbox/aggregate/distinct_strings.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace signalbox {
namespace {

const FeatureNames kNames({"pin.categories", "pin.price"});

ValueRef ref(std::string_view text) { return ValueRef::parse(text, kNames).value(); }

MaterializedEvent with_categories(std::vector<std::string> categories) {
  MaterializedEvent m;
  m.event.action = "click";
  m.event.attrs = {{"size", 3.5}};
  m.features = {std::move(categories), 9.25};
  return m;
}

// The distinct values of `all` in the order first seen, written out plainly.
std::vector<std::string> first_seen(const std::vector<std::string>& all) {
  std::vector<std::string> out;
  for (const std::string& s : all)
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  return out;
}

std::vector<std::string> copied(const DistinctStrings& d) {
  return {d.values().begin(), d.values().end()};
}

TEST(DistinctStrings, EachValueOnceInTheOrderFirstCarried) {
  const std::vector<std::string> cases[] = {
      {},
      {"a"},
      {"shoes", "red", "shoes", "red", "hats"},
      // More values than fit inline, repeats among them before and after the spill.
      {"c0", "c1", "c2", "c1", "c3", "c4", "c5", "c6", "c7", "c8", "c0", "c9", "c10", "c8"},
      // More bytes than fit inline: long values, one repeated after the room ran out.
      {std::string(150, 'x'), "short", std::string(100, 'y'), std::string(150, 'x'),
       std::string(300, 'z'), std::string(100, 'y'), "short", ""},
  };
  for (const std::vector<std::string>& categories : cases) {
    const MaterializedEvent e = with_categories(categories);
    const DistinctStrings d(ref("pin.categories"), e);
    EXPECT_EQ(copied(d), first_seen(categories)) << categories.size() << " categories";
  }
}

TEST(DistinctStrings, ANumbersTextOutlivesTheCallThatGaveIt) {
  const MaterializedEvent e = with_categories({});
  const DistinctStrings price(ref("pin.price"), e);
  const DistinctStrings size(ref("attrs.size"), e);
  EXPECT_EQ(copied(price), std::vector<std::string>{"9.25"});
  EXPECT_EQ(copied(size), std::vector<std::string>{"3.5"});
  const DistinctStrings action(ref("action"), e);
  EXPECT_EQ(copied(action), std::vector<std::string>{"click"});
  const DistinctStrings absent(ref("item_id"), e);
  EXPECT_TRUE(absent.values().empty());
}

}  // namespace
}  // namespace signalbox
