// The server's guards apart from any socket: budgets and reservations, the cross-origin and
// content-type rules, and bearer-token checks.

#include <stdlib.h>

#include <gtest/gtest.h>

#include "signalbox/common/error.h"
#include "signalbox/serve/access_control.h"
#include "signalbox/serve/admission.h"
#include "signalbox/serve/write_guard.h"

namespace signalbox {
namespace {

TEST(Budget, NeverPassesItsLimit) {
  Budget budget(10);
  EXPECT_TRUE(budget.take(4));
  EXPECT_TRUE(budget.take(6));
  EXPECT_FALSE(budget.take(1));
  EXPECT_TRUE(budget.take(0));
  budget.give_back(6);
  EXPECT_EQ(budget.used(), 4u);
  EXPECT_FALSE(budget.take(7));
  EXPECT_FALSE(budget.take(static_cast<std::size_t>(-1)));  // no wrap-around
  EXPECT_EQ(budget.used(), 4u);
}

TEST(Reservation, GrowsShrinksAndGivesBack) {
  Budget budget(100);
  {
    Reservation a(budget);
    EXPECT_TRUE(a.resize(60));
    Reservation b(budget);
    EXPECT_FALSE(b.resize(50));
    EXPECT_EQ(b.held(), 0u);
    EXPECT_TRUE(a.resize(20));
    EXPECT_TRUE(b.resize(80));
    EXPECT_EQ(budget.used(), 100u);
    Reservation moved = std::move(b);
    EXPECT_EQ(moved.held(), 80u);
    EXPECT_EQ(budget.used(), 100u);
  }
  EXPECT_EQ(budget.used(), 0u);
}

TEST(WriteGuard, CrossOrigin) {
  EXPECT_FALSE(cross_origin_problem("", "127.0.0.1:8080"));
  EXPECT_FALSE(cross_origin_problem("http://127.0.0.1:8080", "127.0.0.1:8080"));
  EXPECT_FALSE(cross_origin_problem("http://LocalHost:8080", "localhost:8080"));
  EXPECT_FALSE(cross_origin_problem("https://signals.example", "signals.example"));
  EXPECT_FALSE(cross_origin_problem("http://signals.example:80", "signals.example"));
  EXPECT_TRUE(cross_origin_problem("http://127.0.0.1:9999", "127.0.0.1:8080"));
  EXPECT_TRUE(cross_origin_problem("http://evil.example", "127.0.0.1:8080"));
  EXPECT_TRUE(cross_origin_problem("null", "127.0.0.1:8080"));
  EXPECT_TRUE(cross_origin_problem("http://evil.example", ""));
  std::optional<std::string> message = cross_origin_problem("http://evil.example", "h:1");
  ASSERT_TRUE(message);
  EXPECT_EQ(message->rfind("origin: cross-origin writes are refused", 0), 0u) << *message;
  EXPECT_NE(message->find("evil.example"), std::string::npos);
}

TEST(WriteGuard, IngestContentType) {
  for (const char* ok : {"application/json", "application/x-ndjson", "Application/JSON",
                         "application/json; charset=utf-8", "application/vnd.events+json"})
    EXPECT_FALSE(ingest_content_type_problem(ok)) << ok;
  for (const char* bad : {"", "text/plain", "application/x-www-form-urlencoded",
                          "multipart/form-data; boundary=x", "text/json+xml"}) {
    std::optional<std::string> message = ingest_content_type_problem(bad);
    ASSERT_TRUE(message) << bad;
    EXPECT_EQ(message->rfind("content-type: ", 0), 0u) << *message;
  }
}

TEST(AccessControl, TokensByKind) {
  setenv("SIGNALBOX_UNIT_INGEST", "in-token", 1);
  setenv("SIGNALBOX_UNIT_QUERY", "q-token", 1);
  ServerAuthConfig auth;
  auth.ingest = "env:SIGNALBOX_UNIT_INGEST";
  auth.query = "env:SIGNALBOX_UNIT_QUERY";
  AccessControl access(auth);
  EXPECT_TRUE(access.any());
  EXPECT_TRUE(access.guards(Access::kIngest));
  EXPECT_FALSE(access.guards(Access::kMetrics));
  EXPECT_FALSE(access.check(Access::kMetrics, ""));
  EXPECT_FALSE(access.check(Access::kOpen, ""));
  EXPECT_FALSE(access.check(Access::kIngest, "Bearer in-token"));
  EXPECT_FALSE(access.check(Access::kIngest, "bearer  in-token "));
  EXPECT_FALSE(access.check(Access::kQuery, "Bearer q-token"));
  EXPECT_EQ(access.check(Access::kIngest, "")->refusal, Refusal::kMissing);
  EXPECT_EQ(access.check(Access::kIngest, "Basic aW4tdG9rZW4=")->refusal, Refusal::kMissing);
  EXPECT_EQ(access.check(Access::kIngest, "Bearer in-tokenX")->refusal, Refusal::kUnknown);
  EXPECT_EQ(access.check(Access::kIngest, "Bearer q-token")->refusal, Refusal::kWrongKind);
  EXPECT_EQ(access.check(Access::kQuery, "Bearer in-token")->refusal, Refusal::kWrongKind);
  EXPECT_EQ(access.check(Access::kQuery, "Bearer in-token")->message.find("in-token"),
            std::string::npos);

  EXPECT_FALSE(AccessControl().any());
  ServerAuthConfig unset;
  unset.metrics = "env:SIGNALBOX_UNIT_NOT_SET";
  unsetenv("SIGNALBOX_UNIT_NOT_SET");
  EXPECT_THROW(AccessControl{unset}, ConfigError);
  setenv("SIGNALBOX_UNIT_EMPTY", "", 1);
  unset.metrics = "env:SIGNALBOX_UNIT_EMPTY";
  EXPECT_THROW(AccessControl{unset}, ConfigError);
}

}  // namespace
}  // namespace signalbox
