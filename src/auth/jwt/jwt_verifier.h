#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jwt/jwt_keys.h"
#include "auth/jwt/key_source.h"
#include "base/status.h"

namespace cairn::auth {

struct JwtVerifierOptions {
  // Required. Shared so that several verifiers (say, with different audiences) can use one
  // JWKS cache.
  std::shared_ptr<KeySource> key_source;
  // When set, "iss" must be present and equal to it.
  std::optional<std::string> issuer;
  // When not empty, "aud" (a string or an array of strings) must be present and contain one of
  // these. When empty, "aud" is not checked (but must be a string or array of strings if
  // present).
  std::vector<std::string> audiences;
  // Clock skew tolerated for exp, nbf and iat, in seconds.
  int64_t leeway_s = 60;
  // Reject tokens without "exp".
  bool require_exp = true;
  // Longer tokens are rejected before any decoding.
  size_t max_token_bytes = 8192;
  // Claim names. Each is first looked up as a top-level member of that exact name; failing
  // that, a name with dots is a path into nested objects ("realm_access.roles").
  std::string principal_claim = "sub";   // must be a non-empty string
  std::string tenants_claim = "tenant";  // string or array of strings
  std::string roles_claim = "roles";     // string or array of strings
  // Used when the tenants or roles claim is absent (or null). A present claim of another shape
  // than a string or an array of non-empty strings fails verification.
  std::vector<std::string> default_tenants;
  std::vector<std::string> default_roles;
};

// What a verified token says about its bearer.
struct VerifiedJwt {
  std::string principal;
  std::vector<std::string> tenants;
  std::vector<std::string> roles;
  int64_t expires_at = 0;  // "exp" in Unix seconds; 0 when the token has none
  std::string kid;         // the header's kid; empty when it has none
  JwtAlg alg = JwtAlg::kRS256;
};

// Verifies JWS compact-serialized JWTs (RFC 7519) signed HS256, RS256 or ES256.
//
// A token verifies when: it is at most max_token_bytes; it has exactly three dot-separated
// parts in strict base64url (no padding, canonical); header and payload are JSON objects
// without duplicate member names at any depth; the header's "alg" is HS256, RS256 or ES256,
// it has no "crit", and the key source has a key for its "kid" and "alg" (see JwtKeySet::Find;
// an unknown kid may make the source refresh once); the signature verifies with that key
// (ES256: the 64-byte JOSE r||s form only; HS256: compared in constant time); "exp", "nbf" and
// "iat" are numbers when present, exp (required unless require_exp is false) is after
// now - leeway, nbf and iat are at most now + leeway; "iss" and "aud" match the options; and the
// principal claim is a non-empty string.
//
// Every failure is UNAUTHENTICATED, with a reason meant for the server's log, not for the
// client. Reasons never contain the token, and untrusted strings in them (kid) are truncated to
// printable ASCII.
//
// Thread-safe: Verify is const and may be called from many threads at once.
class JwtVerifier {
 public:
  // INVALID_ARGUMENT when key_source is null, leeway_s is negative, max_token_bytes is 0 or a
  // claim name is empty.
  static StatusOr<std::unique_ptr<JwtVerifier>> Create(JwtVerifierOptions options);

  // `now_unix_s`: the current time in Unix seconds (the caller's clock, so tests can pin it).
  StatusOr<VerifiedJwt> Verify(std::string_view token, int64_t now_unix_s) const;

  const JwtVerifierOptions& options() const { return options_; }

 private:
  explicit JwtVerifier(JwtVerifierOptions options) : options_(std::move(options)) {}

  JwtVerifierOptions options_;
};

}  // namespace cairn::auth
