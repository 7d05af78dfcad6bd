#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "signalbox/verify/server_url.h"

namespace signalbox {

// One answer to a GET.
struct HttpReply {
  unsigned status = 0;
  std::string body;
};

// A blocking HTTP/1.1 client for GET requests to one server, over one keep-alive connection
// that is opened on first use and again whenever the server has closed it. Not thread-safe.
class HttpGetter {
 public:
  // Each request (connect, send, receive) must finish within `timeout`.
  HttpGetter(ServerUrl url, std::chrono::milliseconds timeout);
  ~HttpGetter();
  HttpGetter(const HttpGetter&) = delete;
  HttpGetter& operator=(const HttpGetter&) = delete;

  // GETs the url's prefix followed by `target` ("/metrics", "/v1/...?as_of=..."), with
  // "Authorization: Bearer <token>" when `token` is not empty. A server answering 503 (busy, or
  // its store unavailable for now) is asked again after a second, up to three times. Throws
  // std::runtime_error naming the server when it cannot be reached or the exchange fails.
  HttpReply get(std::string_view target, const std::string& token);

  // "http://HOST:PORT[/PREFIX]", for messages.
  std::string address() const;

 private:
  struct Connection;
  HttpReply get_once(std::string_view target, const std::string& token);

  ServerUrl url_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace signalbox
