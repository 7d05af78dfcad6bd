// The two ResultWriters against Value itself: random documents are described token by token
// to a ValueBuilder and a JsonResultWriter while the same document is built as a Value
// directly; the builder must give that Value, and the JSON writer the bytes its to_json()
// gives, commas and nesting included.

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>

#include "signalbox/common/json_result_writer.h"
#include "signalbox/common/value.h"
#include "signalbox/common/value_builder.h"

namespace signalbox {
namespace {

// Both writers, given every token alike.
class Both {
 public:
  Both(ResultWriter& a, ResultWriter& b) : a_(a), b_(b) {}
  template <class F>
  void each(F f) {
    f(a_);
    f(b_);
  }

 private:
  ResultWriter& a_;
  ResultWriter& b_;
};

// A random document of depth at most `depth`, written as tokens to `out` and returned as
// the Value those tokens stand for. Whole values (value()) appear too, as views hand them.
Value random_document(std::mt19937_64& random, int depth, Both& out) {
  const int kind = static_cast<int>(random() % (depth > 0 ? 10 : 7));
  const std::string text = std::string(random() % 5, 'a' + static_cast<char>(random() % 3)) +
                           (random() % 9 == 0 ? "\"\\\n\xff" : "");
  switch (kind) {
    case 0:
      out.each([](ResultWriter& w) { w.null(); });
      return Value();
    case 1: {
      const bool b = random() % 2;
      out.each([&](ResultWriter& w) { w.boolean(b); });
      return Value(b);
    }
    case 2: {
      const double d = static_cast<double>(static_cast<std::int64_t>(random() % 2001) - 1000) /
                       static_cast<double>(1 + random() % 7);
      out.each([&](ResultWriter& w) { w.number(d); });
      return Value(d);
    }
    case 3: {
      const auto i = static_cast<std::int64_t>(random());
      out.each([&](ResultWriter& w) { w.integer(i); });
      return Value(i);
    }
    case 4: {
      const std::uint64_t u = random();
      out.each([&](ResultWriter& w) { w.unsigned_integer(u); });
      return Value(u);
    }
    case 5:
      out.each([&](ResultWriter& w) { w.string(text); });
      return Value(text);
    case 6: {
      const Value whole(Value::Array{Value(text), Value(0.5), Value(Value::Object{})});
      out.each([&](ResultWriter& w) { w.value(whole); });
      return whole;
    }
    case 7: {
      const std::size_t n = random() % 5;
      out.each([&](ResultWriter& w) { w.begin_array(random() % 2 ? n : 0); });
      Value::Array items;
      for (std::size_t i = 0; i < n; ++i) items.push_back(random_document(random, depth - 1, out));
      out.each([](ResultWriter& w) { w.end_array(); });
      return Value(std::move(items));
    }
    default: {
      const std::size_t n = random() % 5;
      out.each([&](ResultWriter& w) { w.begin_object(random() % 2 ? n : 0); });
      Value::Object members;
      for (std::size_t i = 0; i < n; ++i) {
        const std::string key = text + std::to_string(i);
        out.each([&](ResultWriter& w) { w.key(key); });
        members.emplace_back(key, random_document(random, depth - 1, out));
      }
      out.each([](ResultWriter& w) { w.end_object(); });
      return Value(std::move(members));
    }
  }
}

TEST(ResultWriter, TokensGiveTheValueAndItsJson) {
  std::mt19937_64 random(23);
  for (int round = 0; round < 3000; ++round) {
    ValueBuilder builder;
    std::string json = "head";
    Value expected;
    {
      JsonResultWriter writer(json);
      Both both(builder, writer);
      expected = random_document(random, 1 + round % 5, both);
    }
    const Value built = builder.take();
    ASSERT_EQ(built, expected) << "round " << round;
    ASSERT_EQ(json, "head" + expected.to_json()) << "round " << round;
  }
}

TEST(ResultWriter, ABuilderIsEmptyAfterTake) {
  ValueBuilder builder;
  builder.begin_object(1);
  builder.key("a");
  builder.integer(std::int64_t{1});
  builder.end_object();
  EXPECT_EQ(builder.take().to_json(), R"({"a":1})");
  EXPECT_TRUE(builder.take().is_null());
}

// Calls out of JSON's order are refused with a logic_error naming them, in any build: a
// plugin's aggregator writes through a ValueBuilder too.
TEST(ResultWriter, ABuilderRefusesCallsOutOfOrder) {
  auto refused = [](auto calls) -> std::string {
    ValueBuilder builder;
    try {
      calls(builder);
      builder.take();
    } catch (const std::logic_error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(refused([](ValueBuilder& b) {
              b.begin_object(0);
              b.integer(std::int64_t{1});
            }),
            "ValueBuilder: a member of an object without its key");
  EXPECT_EQ(refused([](ValueBuilder& b) {
              b.begin_object(0);
              b.key("a");
              b.integer(std::int64_t{1});
              b.integer(std::int64_t{2});
            }),
            "ValueBuilder: a member of an object without its key");
  EXPECT_EQ(refused([](ValueBuilder& b) { b.key("a"); }), "ValueBuilder: a key outside an object");
  EXPECT_EQ(refused([](ValueBuilder& b) {
              b.begin_array(0);
              b.key("a");
            }),
            "ValueBuilder: a key outside an object");
  EXPECT_EQ(refused([](ValueBuilder& b) {
              b.begin_object(0);
              b.key("a");
              b.key("b");
            }),
            "ValueBuilder: a key after a key without its value");
  EXPECT_EQ(refused([](ValueBuilder& b) { b.end_array(); }),
            "ValueBuilder: end_array without its begin_array");
  EXPECT_EQ(refused([](ValueBuilder& b) {
              b.begin_array(0);
              b.end_object();
            }),
            "ValueBuilder: end_object without its begin_object");
  EXPECT_EQ(refused([](ValueBuilder& b) {
              b.begin_object(0);
              b.key("a");
              b.end_object();
            }),
            "ValueBuilder: end_object after a key without its value");
  EXPECT_EQ(refused([](ValueBuilder& b) {
              b.null();
              b.null();
            }),
            "ValueBuilder: a second value at the top");
  EXPECT_EQ(refused([](ValueBuilder& b) { b.begin_array(0); }),
            "ValueBuilder: take() with an array or object not closed");
  // In order, nested, and again after take(): nothing refused.
  EXPECT_EQ(refused([](ValueBuilder& b) {
              b.begin_object(0);
              b.key("a");
              b.begin_array(0);
              b.begin_object(0);
              b.end_object();
              b.end_array();
              b.key("b");
              b.null();
              b.end_object();
              b.take();
              b.integer(std::int64_t{3});
            }),
            "");
}

}  // namespace
}  // namespace signalbox
