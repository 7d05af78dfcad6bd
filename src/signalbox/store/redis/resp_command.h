#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace signalbox {

// One command in the Redis protocol (RESP): an array of bulk strings, "*<n>\r\n" then
// "$<length>\r\n<bytes>\r\n" for each argument, to hand to hiredis's
// redisAppendFormattedCommand. Written here rather than by hiredis's redisAppendCommandArgv,
// whose formatting goes through sdscatfmt a character at a time: about 7 000 instructions for
// the script that reads a light user, a twentieth of that query's whole cost
// (docs/performance.md). Plain value type; not synchronised.
class RespCommand {
 public:
  // The command of the arguments `head`, then `rest`, room made for all of them at once.
  RespCommand(std::initializer_list<std::string_view> head, const std::vector<std::string>& rest);

  // The command's bytes.
  std::string_view text() const { return text_; }

 private:
  void arg(std::string_view value);

  std::string text_;
};

}  // namespace signalbox
