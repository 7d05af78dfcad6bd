#include "signalbox/serve/access_control.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <fmt/format.h>

#include "signalbox/common/error.h"
#include "signalbox/common/secret.h"

namespace signalbox {

namespace {

std::array<unsigned char, 32> digest_of(std::string_view text) {
  std::array<unsigned char, 32> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  return digest;
}

// The token of an "Authorization: Bearer <token>" value; nullopt for any other form.
std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    char c = authorization[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return std::nullopt;
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

}  // namespace

std::string_view access_name(Access access) {
  switch (access) {
    case Access::kIngest:
      return "ingest";
    case Access::kQuery:
      return "query";
    case Access::kMetrics:
      return "metrics";
    case Access::kOpen:
      break;
  }
  return "open";
}

AccessControl::AccessControl(const ServerAuthConfig& auth) {
  const std::string* refs[] = {&auth.ingest, &auth.query, &auth.metrics};
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    if (refs[i]->empty()) continue;
    std::string key = fmt::format("server.auth.{}", access_name(tokens_[i].access));
    std::string secret = read_secret(*refs[i], key);
    if (secret.empty()) throw ConfigError(fmt::format("{}: the token is empty", key));
    tokens_[i].digest = digest_of(secret);
    any_ = true;
  }
}

bool AccessControl::guards(Access access) const {
  for (const Token& token : tokens_)
    if (token.access == access) return token.digest.has_value();
  return false;
}

std::optional<AccessDenied> AccessControl::check(Access access,
                                                 std::string_view authorization) const {
  if (!guards(access)) return std::nullopt;
  std::string_view name = access_name(access);
  std::optional<std::string_view> token = bearer_token(authorization);
  if (!token) {
    return AccessDenied{Refusal::kMissing,
                        fmt::format("authorization: {} requests need a bearer token "
                                    "(Authorization: Bearer TOKEN)",
                                    name)};
  }
  // Every token is compared, whichever matches, so the time taken says nothing.
  std::array<unsigned char, 32> given = digest_of(*token);
  bool allowed = false;
  const Token* other = nullptr;
  for (const Token& t : tokens_) {
    if (!t.digest) continue;
    bool same = CRYPTO_memcmp(t.digest->data(), given.data(), given.size()) == 0;
    if (same && t.access == access) allowed = true;
    if (same && t.access != access && !other) other = &t;
  }
  if (allowed) return std::nullopt;
  if (other) {
    return AccessDenied{
        Refusal::kWrongKind,
        fmt::format("authorization: this is a {} token; it may not {}", access_name(other->access),
                    access == Access::kIngest  ? "ingest"
                    : access == Access::kQuery ? "query"
                                               : "read metrics")};
  }
  return AccessDenied{Refusal::kUnknown, "authorization: the bearer token is not valid"};
}

}  // namespace signalbox
