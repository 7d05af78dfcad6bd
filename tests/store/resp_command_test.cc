// RespCommand writes a command, with or without leading arguments apart, as hiredis's own
// formatter does (redisFormatCommandArgv, the reference here): the same bytes for empty,
// binary and long arguments.

#include "signalbox/store/redis/resp_command.h"

#include <gtest/gtest.h>

#include <hiredis/hiredis.h>

#include <random>
#include <string>
#include <vector>

namespace signalbox::testing {
namespace {

std::string hiredis_form(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  char* formatted = nullptr;
  const long long n = redisFormatCommandArgv(&formatted, static_cast<int>(args.size()), argv.data(),
                                             lengths.data());
  std::string out(formatted, static_cast<std::size_t>(n));
  redisFreeCommand(formatted);
  return out;
}

std::string ours(const std::vector<std::string>& args) {
  return std::string(RespCommand({}, args).text());
}

TEST(RespCommand, WritesWhatHiredisWrites) {
  EXPECT_EQ(ours({"PING"}), "*1\r\n$4\r\nPING\r\n");
  EXPECT_EQ(ours({}), hiredis_form({}));
  EXPECT_EQ(ours({"SET", "", std::string("a\0\r\nb", 5)}),
            hiredis_form({"SET", "", std::string("a\0\r\nb", 5)}));
  std::mt19937_64 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::vector<std::string> args(rng() % 12);
    for (std::string& a : args) {
      a.resize(rng() % 3 == 0 ? rng() % 70000 : rng() % 40);
      for (char& c : a) c = static_cast<char>(rng());
    }
    ASSERT_EQ(ours(args), hiredis_form(args)) << "round " << round;
    // Three leading arguments apart, as a script's command has them.
    std::vector<std::string> whole = {"EVALSHA", "0123abcd", std::to_string(args.size())};
    whole.insert(whole.end(), args.begin(), args.end());
    ASSERT_EQ(RespCommand({whole[0], whole[1], whole[2]}, args).text(), hiredis_form(whole))
        << "round " << round;
  }
}

}  // namespace
}  // namespace signalbox::testing
