#pragma once

#include <string>
#include <string_view>

#include "auth/shared_token_cache.h"
#include "redis/redis_client.h"

namespace cairn::redis {

// auth::SharedTokenCache in Redis. Entries are `<prefix><generation>:<sha256 of the token>`
// holding the identity as JSON, with a TTL (the caller's, bounded by the token's expiry);
// `<prefix>generation` is a counter that InvalidateAll increments, which orphans every entry at
// once (they then expire by themselves), before it publishes `origin` on
// channel() ("cairn:security:changed:<db>") for the other replicas' subscribers to drop their
// local caches.
// Lookups are one round trip (a Lua script reads the generation and the entry together).
// Thread-safe.
class RedisTokenCache final : public auth::SharedTokenCache {
 public:
  // `client` must outlive the cache. `origin` names this replica in invalidation messages.
  RedisTokenCache(RedisClient& client, std::string origin, std::string prefix = "cairn:tokens:");

  StatusOr<Found> Lookup(std::string_view token_sha256) override;
  Status Insert(std::string_view token_sha256, const auth::Identity& identity,
                std::string_view generation, std::chrono::milliseconds ttl) override;
  Status InvalidateAll() override;

  const std::string& origin() const { return origin_; }
  const std::string& channel() const { return channel_; }

  // The identity as stored, and back (nullopt for anything malformed).
  static std::string Encode(const auth::Identity& identity);
  static std::optional<auth::Identity> Decode(std::string_view json);

 private:
  RedisClient& client_;
  const std::string origin_;
  const std::string prefix_;
  const std::string channel_;
};

}  // namespace cairn::redis
