#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "metadata/security_store.h"

namespace cairn::auth {

// The two budgets a tenant has: the control plane (tracking, registry, deployments, admin) and
// predictions; one cannot exhaust the other.
enum class RequestClass : uint8_t { kControl, kPredict };

struct RateDecision {
  bool allowed = true;
  // When refused: seconds until one request fits the budget again (at least 1, for Retry-After).
  int64_t retry_after_s = 0;
};

// Per-tenant request budgets. The in-process implementation below serves one server; a shared
// one (Redis) will let several replicas share each tenant's budget behind the same interface.
// Thread-safe.
class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // Takes one request from `tenant`'s budget of class `cls`.
  virtual RateDecision Acquire(std::string_view tenant, RequestClass cls) = 0;
  // Replaces the configured budgets: tenants listed get theirs, every other tenant the defaults.
  virtual void SetLimits(const std::vector<metadata::RateLimitRecord>& limits) = 0;
};

// Token buckets in memory, one per (tenant, class), refilled continuously at the rate up to the
// burst. A rate of 0 is unlimited. Buckets live in 16 shards, each with its own lock.
class LocalRateLimiter final : public RateLimiter {
 public:
  // `defaults` (its tenant ignored) applies to tenants without a budget of their own.
  LocalRateLimiter(const Clock& clock, metadata::RateLimitRecord defaults);

  RateDecision Acquire(std::string_view tenant, RequestClass cls) override;
  void SetLimits(const std::vector<metadata::RateLimitRecord>& limits) override;

 private:
  struct Budget {
    double rate = 0;
    double burst = 0;
  };
  struct Bucket {
    double tokens = 0;
    int64_t updated_ns = 0;
    uint64_t generation = 0;  // the limits it was filled under
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    Mutex mu;
    std::unordered_map<std::string, std::array<Bucket, 2>, StringHash, std::equal_to<>> buckets
        GUARDED_BY(mu);
  };
  Budget BudgetOf(std::string_view tenant, RequestClass cls) EXCLUDES(limits_mu_);

  const Clock& clock_;
  Mutex limits_mu_;
  metadata::RateLimitRecord defaults_ GUARDED_BY(limits_mu_);
  std::unordered_map<std::string, metadata::RateLimitRecord, StringHash, std::equal_to<>> limits_
      GUARDED_BY(limits_mu_);
  std::atomic<uint64_t> generation_{1};
  // No budget anywhere (the default): Acquire answers at once, taking no lock.
  std::atomic<bool> unlimited_{true};
  std::array<Shard, 16> shards_;
};

}  // namespace cairn::auth
