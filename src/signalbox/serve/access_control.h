#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "signalbox/config/config.h"

namespace signalbox {

// What a request does, as far as tokens are concerned.
enum class Access { kOpen, kIngest, kQuery, kMetrics };

// Why a request may not go on. kMissing and kUnknown are HTTP 401 (gRPC UNAUTHENTICATED),
// kWrongKind is 403 (PERMISSION_DENIED).
enum class Refusal { kMissing, kUnknown, kWrongKind };

struct AccessDenied {
  Refusal refusal;
  std::string message;  // names what is needed, never a token
};

// The bearer tokens of server.auth, shared by the HTTP and gRPC front ends. Each kind of request
// (ingest, query, metrics) needs its own token when one is configured and none when not; a
// token of another kind is refused (an ingest token may not query). Tokens are kept only as
// SHA-256 digests and every check compares against all of them in constant time, so neither
// timing nor a memory dump of the check shows a token. Immutable after construction:
// thread-safe.
class AccessControl {
 public:
  // Nothing guarded.
  AccessControl() = default;
  // Reads the tokens the references name (read_secret). Throws ConfigError naming the key when
  // one cannot be read or is empty.
  explicit AccessControl(const ServerAuthConfig& auth);

  // True when some kind of request needs a token.
  bool any() const { return any_; }
  // True when `access` needs a token.
  bool guards(Access access) const;

  // nullopt when a request needing `access` may go on with the `authorization` it carries
  // (the Authorization header or metadata, e.g. "Bearer abc"; empty when absent).
  std::optional<AccessDenied> check(Access access, std::string_view authorization) const;

 private:
  using Digest = std::array<unsigned char, 32>;
  struct Token {
    Access access;
    std::optional<Digest> digest;
  };
  std::array<Token, 3> tokens_{Token{Access::kIngest, {}}, Token{Access::kQuery, {}},
                               Token{Access::kMetrics, {}}};
  bool any_ = false;
};

// The name of an access kind as messages use it: "ingest", "query", "metrics".
std::string_view access_name(Access access);

}  // namespace signalbox
