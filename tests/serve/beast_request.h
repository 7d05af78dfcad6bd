#pragma once

// The Beast request and answer conversions that http_client.cc and https_client.cc share;
// internal to signalbox_test_http (tests include http_client.h, which has no Beast).

#include <string>
#include <string_view>

#include <boost/beast/http.hpp>

#include "http_client.h"

namespace signalbox::testing {

boost::beast::http::verb beast_verb(Method method);
// A request to 127.0.0.1 with `headers`; a POST carries Content-Type: application/json unless
// `headers` names another.
boost::beast::http::request<boost::beast::http::string_body> make_request(Method method,
                                                                          std::string_view target,
                                                                          std::string body,
                                                                          const Headers& headers);

}  // namespace signalbox::testing
