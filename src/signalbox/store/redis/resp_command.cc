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

RespCommand::RespCommand(std::initializer_list<std::string_view> head,
                         const std::vector<std::string>& rest) {
  // The array's header and each argument's ("*" or "$", up to 20 digits, CRLF), each argument's
  // closing CRLF, and the bytes.
  const std::size_t args = head.size() + rest.size();
  std::size_t bytes = 24 * (args + 1);
  for (std::string_view a : head) bytes += a.size();
  for (const std::string& a : rest) bytes += a.size();
  text_.reserve(bytes);
  append_header(text_, '*', args);
  for (std::string_view a : head) arg(a);
  for (const std::string& a : rest) arg(a);
}

void RespCommand::arg(std::string_view value) {
  append_header(text_, '$', value.size());
  text_.append(value);
  text_.append("\r\n", 2);
}

}  // namespace signalbox
