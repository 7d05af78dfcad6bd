// libFuzzer target for what the HTTP API reads from a client before the engine sees anything:
// the request target (path segments, percent-escapes, the query string of the signals and the
// explain routes) and the JSON body of POST /v1/signals:batchGet. The input's first line is the
// target, the rest the body. Each
// either parses or is refused with a BadRequest whose message names the parameter at fault and
// stays short however long the input.
//
// Run: http_request_fuzz -max_len=65536 -timeout=10 [corpus_dir]

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "signalbox/serve/api_request.h"
#include "signalbox/serve/url.h"

namespace {

// The longest message a refusal may have: the fixed text plus at most 200 quoted bytes, each
// escaped to at most 6 characters (\u00XX).
constexpr std::size_t kMaxMessage = 2000;

void check_refusal(const signalbox::BadRequest& e) {
  std::string_view message = e.what();
  if (message.empty() || message.size() > kMaxMessage) std::abort();
}

void fuzz_target(std::string_view target) {
  signalbox::Target split = signalbox::split_target(target);
  if (split.path.size() + split.query.size() + (target.find('?') != std::string_view::npos) !=
      target.size())
    std::abort();
  const signalbox::PathSegments segments(split.path);
  if (segments.well_formed()) {
    // One segment per '/' after the leading one, plus one; each kept one the decoding of its
    // piece of the path.
    std::string_view path = split.path;
    if (path.starts_with('/')) path.remove_prefix(1);
    if (segments.size() != static_cast<std::size_t>(std::count(path.begin(), path.end(), '/')) + 1)
      std::abort();
    std::string_view rest = path, last;
    for (std::size_t i = 0; i < std::min(segments.size(), signalbox::PathSegments::kStored); ++i) {
      const std::size_t slash = rest.find('/');
      std::optional<std::string> decoded = signalbox::url_decode(rest.substr(0, slash), false);
      if (!decoded || *decoded != segments[i]) std::abort();
      last = segments[i];
      rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    }
    try {
      signalbox::SignalsRequest request = signalbox::parse_signals_request(last, split.query);
      for (const std::string& name : request.names)
        if (name.empty()) std::abort();
      if (request.as_of && (*request.as_of < 0 || *request.as_of > signalbox::kMaxAsOf))
        std::abort();
    } catch (const signalbox::BadRequest& e) {
      check_refusal(e);
    }
    try {
      signalbox::ExplainRequest request = signalbox::parse_explain_request(last, split.query);
      if (request.name.empty() || request.max_events > signalbox::kMaxExplainEvents) std::abort();
      if (request.as_of && (*request.as_of < 0 || *request.as_of > signalbox::kMaxAsOf))
        std::abort();
    } catch (const signalbox::BadRequest& e) {
      check_refusal(e);
    }
  }
}

void fuzz_batch(std::string_view body) {
  constexpr std::size_t kMaxUsers = 1000;
  try {
    signalbox::BatchRequest batch = signalbox::parse_batch_request(body, kMaxUsers);
    if (batch.user_ids.size() > kMaxUsers) std::abort();
    if (batch.as_of && (*batch.as_of < 0 || *batch.as_of > signalbox::kMaxAsOf)) std::abort();
  } catch (const signalbox::BadRequest& e) {
    check_refusal(e);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t newline = input.find('\n');
  fuzz_target(input.substr(0, newline));
  fuzz_batch(newline == std::string_view::npos ? input : input.substr(newline + 1));
  return 0;
}
