#include "signalbox/event/event.h"

#include <algorithm>
#include <regex>
#include <set>

#include <gtest/gtest.h>

namespace signalbox {
namespace {

Event sample_event() {
  Event e;
  e.user_id = 42;
  e.ts = 1'700'000'000'000;
  e.action = "click";
  e.item_id = "pin:1";
  e.query = "red shoes";
  e.attrs = {{"color", std::string("red")}, {"price", 12.5}};
  return e;
}

TEST(DeriveEventIdTest, HasTheDocumentedShape) {
  EXPECT_TRUE(std::regex_match(derive_event_id(sample_event()), std::regex("h[0-9a-f]{16}")));
}

TEST(DeriveEventIdTest, IsPinned) {
  // Derived ids are stored and deduplicate re-sent events: a change here would make every
  // re-sent event look new. Only change with a migration. The values were cross-checked with
  // an independent implementation of the serialization (varint/zigzag/length-prefixed) + XXH64.
  Event minimal;
  minimal.user_id = 1;
  minimal.ts = 1000;
  minimal.action = "click";
  EXPECT_EQ(derive_event_id(minimal), "h20bbee85041db613");
  EXPECT_EQ(derive_event_id(sample_event()), "h7ff5bc776932f246");
}

TEST(DeriveEventIdTest, IsStableAndIgnoresTheExistingId) {
  Event a = sample_event();
  Event b = sample_event();
  b.event_id = "something";
  EXPECT_EQ(derive_event_id(a), derive_event_id(a));
  EXPECT_EQ(derive_event_id(a), derive_event_id(b));
}

TEST(DeriveEventIdTest, DoesNotDependOnAttributeOrder) {
  Event a = sample_event();
  Event b = sample_event();
  std::swap(b.attrs[0], b.attrs[1]);
  EXPECT_EQ(derive_event_id(a), derive_event_id(b));
}

TEST(DeriveEventIdTest, ZeroAndNegativeZeroAreTheSameNumber) {
  Event a = sample_event();
  Event b = sample_event();
  a.attrs[1].second = 0.0;
  b.attrs[1].second = -0.0;
  EXPECT_EQ(derive_event_id(a), derive_event_id(b));
}

TEST(DeriveEventIdTest, EveryFieldChangesTheId) {
  const std::string base = derive_event_id(sample_event());
  std::vector<Event> variants;
  auto add = [&](auto change) {
    Event e = sample_event();
    change(e);
    variants.push_back(e);
  };
  add([](Event& e) { e.user_id = 43; });
  add([](Event& e) { e.ts += 1; });
  add([](Event& e) { e.action = "save"; });
  add([](Event& e) { e.item_id.reset(); });
  add([](Event& e) { e.item_id = ""; });
  add([](Event& e) { e.query.reset(); });
  add([](Event& e) { e.query = ""; });
  add([](Event& e) { e.attrs.clear(); });
  add([](Event& e) { e.attrs[0].second = std::string("blue"); });
  add([](Event& e) { e.attrs[1].second = 12.6; });
  add([](Event& e) { e.attrs[1].second = std::string("12.5"); });
  add([](Event& e) { e.attrs[0].first = "colour"; });
  std::set<std::string> ids = {base};
  for (const Event& e : variants) ids.insert(derive_event_id(e));
  EXPECT_EQ(ids.size(), variants.size() + 1);
}

TEST(DeriveEventIdTest, FieldBoundariesAreUnambiguous) {
  Event a = sample_event();
  Event b = sample_event();
  a.item_id = "ab";
  a.query = "c";
  b.item_id = "a";
  b.query = "bc";
  EXPECT_NE(derive_event_id(a), derive_event_id(b));

  // An absent item_id with a query must differ from that text as item_id.
  Event c = sample_event();
  Event d = sample_event();
  c.item_id.reset();
  c.query = "x";
  d.item_id = "x";
  d.query.reset();
  EXPECT_NE(derive_event_id(c), derive_event_id(d));

  Event e = sample_event();
  Event f = sample_event();
  e.action = "ab";
  e.attrs = {{"c", std::string("d")}};
  f.action = "a";
  f.attrs = {{"bc", std::string("d")}};
  EXPECT_NE(derive_event_id(e), derive_event_id(f));
}

TEST(DeriveEventIdTest, HandlesMoreAttributesThanTheDecoderAllows) {
  Event a = sample_event();
  a.attrs.clear();
  for (int i = 0; i < 40; ++i) a.attrs.emplace_back("k" + std::to_string(i), double(i));
  Event b = a;
  std::reverse(b.attrs.begin(), b.attrs.end());
  EXPECT_EQ(derive_event_id(a), derive_event_id(b));
}

TEST(FeatureNamesTest, Index) {
  FeatureNames names({"pin.categories", "pin.embedding", "query.categories"});
  EXPECT_EQ(names.size(), 3u);
  EXPECT_EQ(names.name(1), "pin.embedding");
  EXPECT_EQ(names.index("pin.categories"), 0u);
  EXPECT_EQ(names.index("query.categories"), 2u);
  EXPECT_EQ(names.index("pin"), std::nullopt);
  EXPECT_EQ(names.index(""), std::nullopt);
  EXPECT_EQ(FeatureNames().index("x"), std::nullopt);
}

}  // namespace
}  // namespace signalbox
