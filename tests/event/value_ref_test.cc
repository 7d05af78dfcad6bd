#include "signalbox/event/value_ref.h"

#include <gtest/gtest.h>

namespace signalbox {
namespace {

const FeatureNames kRefNames({"pin.categories", "pin.embedding", "pin.price", "attrs."});

MaterializedEvent sample() {
  MaterializedEvent m;
  m.event.user_id = 1;
  m.event.ts = 1000;
  m.event.action = "click";
  m.event.item_id = "pin:1";
  m.event.attrs = {{"color", std::string("red")}, {"size", 3.0}, {"ratio", 0.5}, {"big", 1e21}};
  m.features = {std::vector<std::string>{"shoes", "red"}, std::vector<float>{1, 2, 3}, 9.5,
                std::monostate{}};
  return m;
}

ValueRef ref(std::string_view text) {
  std::optional<ValueRef> r = ValueRef::parse(text, kRefNames);
  EXPECT_TRUE(r.has_value()) << text;
  return r.value_or(ValueRef());
}

std::vector<std::string> strings(const ValueRef& r, const MaterializedEvent& m) {
  std::vector<std::string> out;
  r.for_each_string(m, [&](std::string_view s) { out.emplace_back(s); });
  return out;
}

using Strings = std::vector<std::string>;

TEST(ValueRefTest, ParsesFieldsAttributesAndFeatures) {
  EXPECT_EQ(ref("item_id").kind(), ValueRef::Kind::kItemId);
  EXPECT_EQ(ref("query").kind(), ValueRef::Kind::kQuery);
  EXPECT_EQ(ref("action").kind(), ValueRef::Kind::kAction);
  EXPECT_EQ(ref("attrs.color").kind(), ValueRef::Kind::kAttr);
  EXPECT_EQ(ref("attrs.a.b").kind(), ValueRef::Kind::kAttr);
  EXPECT_EQ(ref("pin.categories").kind(), ValueRef::Kind::kFeature);
  EXPECT_EQ(ref("pin.categories").text(), "pin.categories");
  EXPECT_EQ(ref("attrs.color").text(), "attrs.color");
}

TEST(ValueRefTest, RejectsUnknownNames) {
  EXPECT_FALSE(ValueRef::parse("", kRefNames));
  EXPECT_FALSE(ValueRef::parse("user_id", kRefNames));
  EXPECT_FALSE(ValueRef::parse("ts", kRefNames));
  EXPECT_FALSE(ValueRef::parse("pin", kRefNames));
  EXPECT_FALSE(ValueRef::parse("attrs", kRefNames));
  EXPECT_FALSE(ValueRef::parse("attrs.", FeatureNames()));
  EXPECT_FALSE(ValueRef::parse("pin.categories", FeatureNames()));
}

TEST(ValueRefTest, AnEmptyAttributeNameCanOnlyBeAFeature) {
  EXPECT_EQ(ref("attrs.").kind(), ValueRef::Kind::kFeature);
}

TEST(ValueRefTest, EventFields) {
  MaterializedEvent m = sample();
  EXPECT_EQ(strings(ref("item_id"), m), Strings{"pin:1"});
  EXPECT_EQ(strings(ref("query"), m), Strings{});
  EXPECT_EQ(strings(ref("action"), m), Strings{"click"});
  m.event.query = "";
  EXPECT_EQ(strings(ref("query"), m), Strings{""});
  m.event.item_id.reset();
  EXPECT_EQ(strings(ref("item_id"), m), Strings{});
  EXPECT_EQ(ref("item_id").number(m), std::nullopt);
  EXPECT_TRUE(ref("action").vector(m).empty());
}

TEST(ValueRefTest, Attributes) {
  MaterializedEvent m = sample();
  EXPECT_EQ(strings(ref("attrs.color"), m), Strings{"red"});
  EXPECT_EQ(strings(ref("attrs.size"), m), Strings{"3"});
  EXPECT_EQ(strings(ref("attrs.ratio"), m), Strings{"0.5"});
  EXPECT_EQ(strings(ref("attrs.big"), m), Strings{"1e+21"});
  EXPECT_EQ(strings(ref("attrs.missing"), m), Strings{});
  EXPECT_EQ(ref("attrs.size").number(m), 3.0);
  EXPECT_EQ(ref("attrs.color").number(m), std::nullopt);
  EXPECT_EQ(ref("attrs.missing").number(m), std::nullopt);
  EXPECT_TRUE(ref("attrs.size").vector(m).empty());
}

TEST(ValueRefTest, Features) {
  MaterializedEvent m = sample();
  EXPECT_EQ(strings(ref("pin.categories"), m), (Strings{"shoes", "red"}));
  EXPECT_EQ(strings(ref("pin.embedding"), m), Strings{});
  EXPECT_EQ(strings(ref("pin.price"), m), Strings{"9.5"});
  EXPECT_EQ(strings(ref("attrs."), m), Strings{});

  EXPECT_EQ(ref("pin.price").number(m), 9.5);
  EXPECT_EQ(ref("pin.categories").number(m), std::nullopt);
  EXPECT_EQ(ref("pin.embedding").number(m), std::nullopt);

  std::span<const float> v = ref("pin.embedding").vector(m);
  EXPECT_EQ(std::vector<float>(v.begin(), v.end()), (std::vector<float>{1, 2, 3}));
  EXPECT_TRUE(ref("pin.categories").vector(m).empty());
  EXPECT_TRUE(ref("pin.price").vector(m).empty());
}

TEST(ValueRefTest, EventsWithFewerFeaturesCarryNothing) {
  MaterializedEvent m = sample();
  m.features.clear();
  EXPECT_EQ(strings(ref("pin.categories"), m), Strings{});
  EXPECT_EQ(ref("pin.price").number(m), std::nullopt);
  EXPECT_TRUE(ref("pin.embedding").vector(m).empty());
}

}  // namespace
}  // namespace signalbox
