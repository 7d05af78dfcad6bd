#pragma once

// A small blocking HTTP/1.1 client for the end-to-end tests: one keep-alive connection,
// reopened when the server closed it. Not thread-safe: one client per thread.
//
// Built once in the signalbox_test_http library (http_client.cc, over Beast), so that the
// many test files using it do not each compile Beast's templates.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "json.h"

namespace signalbox::testing {

enum class Method { kGet, kHead, kPost, kPut, kDelete };

struct HttpAnswer {
  unsigned status = 0;
  std::string body;
  std::string content_type;
  std::string allow;
  std::string www_authenticate;
  std::string retry_after;
  std::optional<std::size_t> content_length;
  bool keep_alive = false;

  Value json() const { return parse_json(body); }
  // The "error" message of a JSON error answer, or "" when there is none.
  std::string error() const {
    try {
      Value v = json();
      const Value* e = v.find("error");
      return e && e->is_string() ? e->string() : "";
    } catch (const std::exception&) {
      return "";
    }
  }
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port);
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;

  HttpAnswer get(std::string_view target) { return send(Method::kGet, target, ""); }
  HttpAnswer post(std::string_view target, std::string body) {
    return send(Method::kPost, target, std::move(body));
  }
  // A POST carries Content-Type: application/json unless `headers` names another.
  HttpAnswer send(Method method, std::string_view target, std::string body,
                  const Headers& headers = {});

  // Writes `bytes` as they are and reads one answer.
  HttpAnswer send_raw(std::string_view bytes);
  // Writes `bytes` as they are, without reading.
  void write_raw(std::string_view bytes);
  // Reads one answer (after write_raw).
  HttpAnswer read(bool head_request);

  // True when the server closed the connection within `timeout`: a read sees the end of the
  // stream (or a reset).
  bool closed_by_server(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void close();

 private:
  struct Connection;
  Connection& connected();

  std::uint16_t port_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace signalbox::testing
