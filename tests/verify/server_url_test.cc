// parse_server_url: the --server addresses verify takes, and the messages for the others.

#include <gtest/gtest.h>

#include "signalbox/verify/server_url.h"

namespace signalbox {
namespace {

ServerUrl parsed(std::string_view text) {
  std::string problem;
  std::optional<ServerUrl> url = parse_server_url(text, &problem);
  EXPECT_TRUE(url) << text << ": " << problem;
  return url.value_or(ServerUrl{});
}

std::string problem_of(std::string_view text) {
  std::string problem;
  EXPECT_FALSE(parse_server_url(text, &problem)) << text;
  return problem;
}

TEST(ServerUrl, HostPortAndPrefixAreTakenApart) {
  ServerUrl url = parsed("http://127.0.0.1:8080");
  EXPECT_EQ(url.host, "127.0.0.1");
  EXPECT_EQ(url.port, "8080");
  EXPECT_EQ(url.prefix, "");
  url = parsed("http://signals.internal/signalbox/");
  EXPECT_EQ(url.host, "signals.internal");
  EXPECT_EQ(url.port, "80");
  EXPECT_EQ(url.prefix, "/signalbox");
  url = parsed("http://[::1]:9000/");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, "9000");
  EXPECT_EQ(url.prefix, "");
}

TEST(ServerUrl, OtherAddressesAreRefusedWithTheReason) {
  EXPECT_NE(problem_of("https://127.0.0.1:8443").find("https"), std::string::npos);
  EXPECT_NE(problem_of("127.0.0.1:8080").find("not an http:// URL"), std::string::npos);
  EXPECT_NE(problem_of("http://127.0.0.1:0").find("bad port"), std::string::npos);
  EXPECT_NE(problem_of("http://127.0.0.1:80x").find("bad port"), std::string::npos);
  EXPECT_NE(problem_of("http://127.0.0.1:").find("bad port"), std::string::npos);
  EXPECT_NE(problem_of("http://:8080").find("no host"), std::string::npos);
  EXPECT_NE(problem_of("http://h:1/?a=1").find("query"), std::string::npos);
  EXPECT_NE(problem_of("http://user:pw@h:1").find("credentials"), std::string::npos);
  EXPECT_NE(problem_of("http://[::1:80").find("]"), std::string::npos);
}

}  // namespace
}  // namespace signalbox
