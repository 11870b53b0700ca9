#include "auth/jwt/jwt_cache.h"

#include <algorithm>
#include <functional>

namespace cairn::auth {
namespace {

uint64_t HashToken(std::string_view token) { return std::hash<std::string_view>{}(token); }

}  // namespace

VerifiedJwtCache::VerifiedJwtCache(VerifiedJwtCacheOptions options)
    : options_(options),
      per_shard_(
          std::max<size_t>(1, (options.max_entries + std::max<size_t>(1, options.shards) - 1) /
                                  std::max<size_t>(1, options.shards))),
      shards_(std::max<size_t>(1, options.shards)) {}

std::shared_ptr<const VerifiedJwt> VerifiedJwtCache::Lookup(std::string_view token,
                                                            int64_t now_unix_s) const {
  const uint64_t hash = HashToken(token);
  Shard& shard = ShardFor(hash);
  MutexLock lock(shard.mu);
  auto it = shard.entries.find(hash);
  if (it == shard.entries.end() || it->second.token != token) return nullptr;
  if (now_unix_s >= it->second.valid_until) {
    shard.entries.erase(it);
    return nullptr;
  }
  return it->second.jwt;
}

void VerifiedJwtCache::Insert(std::string_view token, std::shared_ptr<const VerifiedJwt> jwt,
                              int64_t now_unix_s) {
  if (options_.max_entries == 0 || jwt == nullptr) return;
  int64_t valid_until = now_unix_s + options_.max_ttl_s;
  if (jwt->expires_at != 0) valid_until = std::min(valid_until, jwt->expires_at);
  if (valid_until <= now_unix_s) return;
  const uint64_t hash = HashToken(token);
  Shard& shard = ShardFor(hash);
  MutexLock lock(shard.mu);
  auto it = shard.entries.find(hash);
  if (it == shard.entries.end() && shard.entries.size() >= per_shard_) {
    EvictOne(shard, now_unix_s);
  }
  // A different token with the same hash is simply replaced.
  Entry& entry = shard.entries[hash];
  entry.token.assign(token);
  entry.jwt = std::move(jwt);
  entry.valid_until = valid_until;
}

void VerifiedJwtCache::EvictOne(Shard& shard, int64_t now_unix_s) {
  const size_t before = shard.entries.size();
  std::erase_if(shard.entries, [&](const auto& kv) { return now_unix_s >= kv.second.valid_until; });
  if (shard.entries.size() < before) return;
  // Random replacement: a random bucket, then the first non-empty one from there. Cheap, and
  // with no recency bookkeeping on the lookup path.
  shard.evict_seed ^= shard.evict_seed << 13;
  shard.evict_seed ^= shard.evict_seed >> 7;
  shard.evict_seed ^= shard.evict_seed << 17;
  const size_t buckets = shard.entries.bucket_count();
  for (size_t i = 0; i < buckets; ++i) {
    const size_t b = (shard.evict_seed + i) % buckets;
    if (shard.entries.bucket_size(b) > 0) {
      shard.entries.erase(shard.entries.begin(b)->first);
      return;
    }
  }
}

size_t VerifiedJwtCache::SizeForTest() const {
  size_t n = 0;
  for (Shard& shard : shards_) {
    MutexLock lock(shard.mu);
    n += shard.entries.size();
  }
  return n;
}

StatusOr<std::shared_ptr<const VerifiedJwt>> CachingJwtVerifier::Verify(std::string_view token,
                                                                        int64_t now_unix_s) const {
  // An oversized token is not even hashed; the verifier rejects it.
  if (token.size() <= verifier_->options().max_token_bytes) {
    if (std::shared_ptr<const VerifiedJwt> hit = cache_.Lookup(token, now_unix_s)) return hit;
  }
  ASSIGN_OR_RETURN(VerifiedJwt verified, verifier_->Verify(token, now_unix_s));
  auto shared = std::make_shared<const VerifiedJwt>(std::move(verified));
  cache_.Insert(token, shared, now_unix_s);
  return shared;
}

}  // namespace cairn::auth
