#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/identity.h"
#include "auth/shared_token_cache.h"
#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "metadata/security_store.h"

namespace cairn::auth {

// An API token's text is "cairn_<id>_<secret>": <id> is 16 lower-case hex digits, public (shown
// in listings, used to revoke), <secret> 43 characters of unpadded base64url (32 random bytes).
// The store keeps only SHA-256(secret).
struct TokenParts {
  std::string_view id;
  std::string_view secret;
};
inline constexpr std::string_view kTokenPrefix = "cairn_";

// Splits a token's text; nullopt when it does not have the shape above.
std::optional<TokenParts> ParseTokenText(std::string_view text);

// A fresh token: its text (shown once) and the record to store (id, secret hash).
struct NewToken {
  std::string text;
  std::string id;
  std::string secret_hash;
};
StatusOr<NewToken> GenerateToken();

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// Verifies API tokens against the security store. Verified tokens and principals' role
// bindings are cached for `cache_ttl` so a request pays a hash and a map lookup, not a store
// read; Invalidate drops everything at once (the security service calls it after every change it
// makes, so revocations and role changes apply at once in this process; other processes see
// them within the TTL, or at once when they share a SharedTokenCache, which relays the
// invalidation to every replica's DropLocal). With a shared cache, a local miss asks it before
// the store, and a token verified against the store is shared for at most `cache_ttl` (never
// past its expiry).
class TokenAuthenticator {
 public:
  struct Options {
    std::chrono::milliseconds cache_ttl{10000};
    size_t max_cached = 100000;
  };
  TokenAuthenticator(metadata::SecurityStore& store, Clock& clock, Options options);

  // UNAUTHENTICATED (with a reason for logs, never shown to the caller) when the text is not a
  // token, unknown, revoked, expired, or its principal is disabled; UNAVAILABLE when the store
  // cannot be read.
  StatusOr<std::shared_ptr<const Identity>> Authenticate(std::string_view text) EXCLUDES(mu_);

  // The principal's stored role bindings (cached like tokens).
  StatusOr<std::shared_ptr<const std::vector<RoleGrant>>> BindingsOf(std::string_view principal)
      EXCLUDES(mu_);

  // Drops this process's caches and, with a shared cache, every replica's.
  void Invalidate() EXCLUDES(mu_);
  // Drops this process's caches only (what another replica's invalidation asks for).
  void DropLocal() EXCLUDES(mu_);

  // Consults `shared` (nullable; must outlive this) on local misses. Call before serving.
  void SetSharedCache(SharedTokenCache* shared) { shared_ = shared; }

 private:
  struct CachedToken {
    metadata::ApiTokenRecord record;
    std::shared_ptr<const Identity> identity;  // null when the principal is disabled
    int64_t fetched_ms = 0;
  };
  struct CachedBindings {
    std::shared_ptr<const std::vector<RoleGrant>> grants;
    bool disabled = false;
    int64_t fetched_ms = 0;
  };
  StatusOr<CachedBindings> LoadBindings(std::string_view principal);
  StatusOr<CachedBindings> Bindings(std::string_view principal) EXCLUDES(mu_);

  metadata::SecurityStore& store_;
  Clock& clock_;
  const Options options_;
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  Mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const CachedToken>, StringHash, std::equal_to<>>
      tokens_ GUARDED_BY(mu_);
  std::unordered_map<std::string, CachedBindings> bindings_ GUARDED_BY(mu_);
  // Bumped by every drop: what was read from the store before it is not cached after it.
  uint64_t generation_ GUARDED_BY(mu_) = 0;
  SharedTokenCache* shared_ = nullptr;
};

}  // namespace cairn::auth
