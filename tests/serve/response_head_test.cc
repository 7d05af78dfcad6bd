// response_head() against Boost.Beast's own serializer: the head it writes followed by the
// body is byte for byte what Beast writes for the same response.

#include "signalbox/serve/response_head.h"

#include <gtest/gtest.h>

#include <sstream>

namespace signalbox::testing {
namespace {

namespace http = boost::beast::http;

std::string beast_bytes(const HttpResponse& response) {
  std::ostringstream out;
  out << response;
  return out.str();
}

void expect_as_beast(const HttpResponse& response) {
  EXPECT_EQ(response_head(response) + response.body(), beast_bytes(response));
}

TEST(ResponseHead, AnAnswerWithItsLengthAndType) {
  expect_as_beast(json_response(http::status::ok, 11, R"({"user_id":7,"signals":{}})"));
  HttpResponse response = json_response(http::status::ok, 11, std::string(70000, 'x'));
  EXPECT_EQ(response_head(response),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 70000\r\n\r\n");
}

TEST(ResponseHead, EveryStatusWithItsReason) {
  for (unsigned code : {100u, 200u, 204u, 400u, 401u, 403u, 404u, 405u, 408u, 413u, 429u, 431u,
                        500u, 503u, 504u, 599u}) {
    SCOPED_TRACE(code);
    HttpResponse response(static_cast<http::status>(code), 11);
    if (code >= 200 && code != 204) response.body() = "{}";  // 1xx and 204 have no body
    response.prepare_payload();
    expect_as_beast(response);
  }
}

TEST(ResponseHead, HttpOneZeroAndConnectionFields) {
  for (unsigned version : {10u, 11u}) {
    for (bool keep_alive : {false, true}) {
      SCOPED_TRACE(version * 10 + keep_alive);
      HttpResponse response = json_response(http::status::not_found, version, R"({"error":"no"})");
      response.keep_alive(keep_alive);
      expect_as_beast(response);
    }
  }
}

TEST(ResponseHead, AHeadAnswerKeepsTheLengthOfItsBody) {
  HttpResponse response = json_response(http::status::ok, 11, "");
  response.content_length(2048);
  expect_as_beast(response);
  EXPECT_NE(response_head(response).find("Content-Length: 2048\r\n"), std::string::npos);
}

TEST(ResponseHead, FieldsInOrderRepeatedAndUnknownAndAReasonOfItsOwn) {
  HttpResponse response =
      json_response(http::status::service_unavailable, 11, R"({"error":"busy"})");
  response.set(http::field::retry_after, "1");
  response.insert(http::field::vary, "Origin");
  response.insert(http::field::vary, "Accept-Encoding");
  response.set("X-Signalbox-Test", "a value: with a colon");
  response.set("X-Empty", "");
  response.reason("Busy Now");
  expect_as_beast(response);
  EXPECT_EQ(response_head(response).substr(0, 23), "HTTP/1.1 503 Busy Now\r\n");
}

TEST(ResponseHead, NoFieldsAtAll) {
  HttpResponse response(http::status::no_content, 11);
  expect_as_beast(response);
  EXPECT_EQ(response_head(response), "HTTP/1.1 204 No Content\r\n\r\n");
}

}  // namespace
}  // namespace signalbox::testing
