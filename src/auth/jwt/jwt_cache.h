#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/jwt/jwt_verifier.h"
#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"

namespace cairn::auth {

struct VerifiedJwtCacheOptions {
  // Entries in all; each shard holds up to max_entries / shards (rounded up).
  size_t max_entries = 10000;
  // An entry lives until the token's exp or this long after insertion, whichever is first.
  // Bounds how long a token keeps working after its key is removed from the key source.
  int64_t max_ttl_s = 300;
  size_t shards = 16;
};

// Verified tokens by their exact bytes, so that a bearer presenting the same token again skips
// the signature check.
//
// Only verified tokens go in (nothing negative is cached), so an attacker cannot fill it
// without valid tokens. Lookups compare the whole token, not just its hash. When a shard is
// full, an insert first drops the shard's expired entries, then one entry chosen at random.
//
// Thread-safe; each shard has its own mutex.
class VerifiedJwtCache {
 public:
  explicit VerifiedJwtCache(VerifiedJwtCacheOptions options = {});

  // The entry for exactly `token`, if there is one valid at `now_unix_s` (an expired one is
  // dropped); null otherwise.
  std::shared_ptr<const VerifiedJwt> Lookup(std::string_view token, int64_t now_unix_s) const;

  // Caches `jwt` as the verification of `token`, valid until min(jwt->expires_at (when not 0),
  // now_unix_s + max_ttl_s). Replaces an entry for the same token.
  void Insert(std::string_view token, std::shared_ptr<const VerifiedJwt> jwt, int64_t now_unix_s);

  size_t SizeForTest() const;

 private:
  struct Entry {
    std::string token;
    std::shared_ptr<const VerifiedJwt> jwt;
    int64_t valid_until = 0;  // usable while now < valid_until
  };
  struct Shard {
    mutable Mutex mu;
    // Keyed by the token's hash; the entry holds the token for the full compare.
    std::unordered_map<uint64_t, Entry> entries GUARDED_BY(mu);
    uint64_t evict_seed GUARDED_BY(mu) = 0x9e3779b97f4a7c15ull;
  };
  static void EvictOne(Shard& shard, int64_t now_unix_s) REQUIRES(shard.mu);
  Shard& ShardFor(uint64_t hash) const { return shards_[(hash >> 32) % shards_.size()]; }

  const VerifiedJwtCacheOptions options_;
  const size_t per_shard_;
  mutable std::vector<Shard> shards_;
};

// A JwtVerifier in front of which sits a VerifiedJwtCache: a cache hit costs a hash and a
// compare; a miss verifies and, on success, caches. Failures are not cached.
//
// Thread-safe.
class CachingJwtVerifier {
 public:
  CachingJwtVerifier(std::unique_ptr<JwtVerifier> verifier, VerifiedJwtCacheOptions options = {})
      : verifier_(std::move(verifier)), cache_(options) {}

  // As JwtVerifier::Verify. The result is shared with the cache: never modify it.
  StatusOr<std::shared_ptr<const VerifiedJwt>> Verify(std::string_view token,
                                                      int64_t now_unix_s) const;

  const JwtVerifier& verifier() const { return *verifier_; }
  const VerifiedJwtCache& cache() const { return cache_; }

 private:
  const std::unique_ptr<JwtVerifier> verifier_;
  mutable VerifiedJwtCache cache_;
};

}  // namespace cairn::auth
