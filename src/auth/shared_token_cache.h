#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auth/identity.h"
#include "base/status.h"

namespace cairn::auth {

// Verified API tokens shared by every replica of a server (Redis), in front of the security
// store. Entries are keyed by the SHA-256 of the whole token text (secret included), never the
// text: finding an entry means the presented token was verified against the store by some
// replica. Every change to tokens, principals or role bindings calls InvalidateAll, which makes
// every entry unreachable at once (a generation bump) and tells the other replicas to drop
// their in-process caches, so a revoked token stops working everywhere.
//
// Implementations never block a request for long: errors are answered at once and the caller
// then reads the store. Thread-safe.
class SharedTokenCache {
 public:
  virtual ~SharedTokenCache() = default;

  struct Found {
    // The cached identity, or nullopt on a miss.
    std::optional<Identity> identity;
    // The generation the lookup saw; an insert after a store read passes it back, so an entry
    // read before an invalidation is never served after it.
    std::string generation;
  };
  // UNAVAILABLE when the cache cannot be reached.
  virtual StatusOr<Found> Lookup(std::string_view token_sha256) = 0;
  // Caches `identity` for `ttl` under `generation` (as Lookup returned it).
  virtual Status Insert(std::string_view token_sha256, const Identity& identity,
                        std::string_view generation, std::chrono::milliseconds ttl) = 0;
  // Makes every entry unreachable and asks every replica to drop its local caches.
  virtual Status InvalidateAll() = 0;
};

}  // namespace cairn::auth
