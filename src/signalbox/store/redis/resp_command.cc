#include "signalbox/store/redis/resp_command.h"

#include <charconv>

namespace signalbox {

namespace {

// `prefix`, the decimal digits of `n`, then CRLF.
void append_header(std::string& out, char prefix, std::size_t n) {
  char digits[24];
  digits[0] = prefix;
  char* end = std::to_chars(digits + 1, digits + sizeof(digits) - 2, n).ptr;
  *end++ = '\r';
  *end++ = '\n';
  out.append(digits, static_cast<std::size_t>(end - digits));
}

}  // namespace

RespCommand::RespCommand(std::size_t args, std::size_t bytes) {
  // Each argument adds its header ("$", up to 20 digits, CRLF) and a CRLF.
  if (bytes > 0) text_.reserve(bytes + 16 * (args + 1));
  append_header(text_, '*', args);
}

void RespCommand::arg(std::string_view value) {
  append_header(text_, '$', value.size());
  text_.append(value);
  text_.append("\r\n", 2);
}

}  // namespace signalbox
