#pragma once

#include <atomic>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/rate_limiter.h"
#include "base/clock.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "metrics/metrics_registry.h"
#include "redis/redis_client.h"

namespace cairn::redis {

// Per-tenant token buckets kept in Redis, so every replica draws from the same budget. Same
// buckets and answers as auth::LocalRateLimiter (refilled continuously at the rate up to the
// burst; Retry-After the whole seconds until one request fits), taken atomically by one Lua
// script that reads Redis's own clock (TIME), so the replicas' clocks do not matter. A bucket
// starts full, and starts full again when its tenant's budget changes.
//
// When Redis cannot answer (down, slow beyond the client's command timeout, in backoff), the
// request is decided by an in-process LocalRateLimiter with the same budgets instead, so each
// replica then enforces the whole budget on its own (N replicas admit up to N times it) rather
// than refusing or holding requests; each such decision is counted in
// cairn_redis_rate_limit_fallbacks_total. Thread-safe.
class RedisRateLimiter final : public auth::RateLimiter {
 public:
  // `defaults` (its tenant ignored) applies to tenants without a budget of their own. Keys are
  // `key_prefix` + "control:" or "predict:" + tenant. `client`, `clock` and `metrics` (nullable)
  // must outlive the limiter.
  RedisRateLimiter(RedisClient& client, const Clock& clock, metadata::RateLimitRecord defaults,
                   metrics::MetricsRegistry* metrics, std::string key_prefix = "cairn:ratelimit:");

  auth::RateDecision Acquire(std::string_view tenant, auth::RequestClass cls) override;
  void SetLimits(const std::vector<metadata::RateLimitRecord>& limits) override;

  // Decisions taken by the local fallback since start.
  int64_t fallbacks() const { return fallbacks_.load(); }

 private:
  struct Budget {
    double rate = 0;
    double burst = 0;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  Budget BudgetOf(std::string_view tenant, auth::RequestClass cls) EXCLUDES(mu_);

  RedisClient& client_;
  const std::string key_prefix_;
  auth::LocalRateLimiter fallback_;
  metrics::Counter* fallback_counter_ = nullptr;
  std::atomic<int64_t> fallbacks_{0};
  std::atomic<int64_t> last_warning_ns_{0};
  Mutex mu_;
  metadata::RateLimitRecord defaults_ GUARDED_BY(mu_);
  std::unordered_map<std::string, metadata::RateLimitRecord, StringHash, std::equal_to<>> limits_
      GUARDED_BY(mu_);
};

}  // namespace cairn::redis
