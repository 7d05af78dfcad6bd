#include "signalbox/serve/response_head.h"

#include <cstddef>
#include <cstring>

namespace signalbox {

std::string response_head(const HttpResponse& response) {
  const unsigned version = response.version();
  const unsigned code = response.result_int();
  const auto reason = response.reason();
  std::size_t size = 13 + reason.size() + 2 + 2;  // "HTTP/1.1 200 " reason CRLF ... CRLF
  for (const auto& field : response.base())
    size += field.name_string().size() + 2 + field.value().size() + 2;

  std::string head;
  head.resize(size);
  char* p = head.data();
  auto put = [&p](auto text) {
    if (text.empty()) return;  // an empty field value's data may be null: no memcpy of it
    std::memcpy(p, text.data(), text.size());
    p += text.size();
  };
  put(std::string_view("HTTP/"));
  *p++ = static_cast<char>('0' + version / 10 % 10);
  *p++ = '.';
  *p++ = static_cast<char>('0' + version % 10);
  *p++ = ' ';
  *p++ = static_cast<char>('0' + code / 100 % 10);
  *p++ = static_cast<char>('0' + code / 10 % 10);
  *p++ = static_cast<char>('0' + code % 10);
  *p++ = ' ';
  put(reason);
  put(std::string_view("\r\n"));
  for (const auto& field : response.base()) {
    put(field.name_string());
    put(std::string_view(": "));
    put(field.value());
    put(std::string_view("\r\n"));
  }
  put(std::string_view("\r\n"));
  return head;
}

}  // namespace signalbox
