#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace signalbox {

// One command in the Redis protocol (RESP): an array of bulk strings, "*<n>\r\n" then
// "$<length>\r\n<bytes>\r\n" for each argument, to hand to hiredis's
// redisAppendFormattedCommand. Written here rather than by hiredis's redisAppendCommandArgv,
// whose formatting goes through sdscatfmt a character at a time: about 7 000 instructions for
// the script that reads a light user, a twentieth of that query's whole cost
// (docs/performance.md). Plain value type; not synchronised.
class RespCommand {
 public:
  // A command of `args` arguments, each added by arg() in order, of about `bytes` bytes in
  // all (room is made for them at once; 0: unknown).
  explicit RespCommand(std::size_t args, std::size_t bytes = 0);

  void arg(std::string_view value);

  // The command's bytes, once every argument was added.
  std::string_view text() const { return text_; }

 private:
  std::string text_;
};

}  // namespace signalbox
