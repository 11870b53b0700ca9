#include "auth/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace cairn::auth {

namespace {

bool Limits(const metadata::RateLimitRecord& limit) {
  return limit.control_rate > 0 || limit.predict_rate > 0;
}

}  // namespace

LocalRateLimiter::LocalRateLimiter(const Clock& clock, metadata::RateLimitRecord defaults)
    : clock_(clock), defaults_(std::move(defaults)) {
  unlimited_ = !Limits(defaults_);
}

void LocalRateLimiter::SetLimits(const std::vector<metadata::RateLimitRecord>& limits) {
  MutexLock lock(limits_mu_);
  limits_.clear();
  bool unlimited = !Limits(defaults_);
  for (const auto& limit : limits) {
    limits_[limit.tenant] = limit;
    unlimited = unlimited && !Limits(limit);
  }
  unlimited_ = unlimited;
  generation_.fetch_add(1);
}

LocalRateLimiter::Budget LocalRateLimiter::BudgetOf(std::string_view tenant, RequestClass cls) {
  MutexLock lock(limits_mu_);
  auto it = limits_.find(tenant);
  const metadata::RateLimitRecord& limit = it != limits_.end() ? it->second : defaults_;
  if (cls == RequestClass::kControl) return {limit.control_rate, limit.control_burst};
  return {limit.predict_rate, limit.predict_burst};
}

RateDecision LocalRateLimiter::Acquire(std::string_view tenant, RequestClass cls) {
  if (unlimited_.load(std::memory_order_relaxed)) return {};
  const Budget budget = BudgetOf(tenant, cls);
  if (budget.rate <= 0) return {};
  const double burst = std::max(1.0, budget.burst > 0 ? budget.burst : budget.rate);
  const int64_t now = clock_.MonotonicNanos();
  const uint64_t generation = generation_.load();
  Shard& shard = shards_[std::hash<std::string_view>{}(tenant) % shards_.size()];
  MutexLock lock(shard.mu);
  auto it = shard.buckets.find(tenant);
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= 100000) shard.buckets.clear();  // bounded: tenants are few
    it = shard.buckets.emplace(std::string(tenant), std::array<Bucket, 2>{}).first;
  }
  Bucket& bucket = it->second[static_cast<size_t>(cls)];
  if (bucket.generation != generation) {
    // New limits (or a new bucket): start full under them.
    bucket.tokens = burst;
    bucket.updated_ns = now;
    bucket.generation = generation;
  } else {
    const double elapsed_s = static_cast<double>(now - bucket.updated_ns) / 1e9;
    bucket.tokens = std::min(burst, bucket.tokens + elapsed_s * budget.rate);
    bucket.updated_ns = now;
  }
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return {};
  }
  const double wait_s = (1.0 - bucket.tokens) / budget.rate;
  return {false, std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait_s)))};
}

}  // namespace cairn::auth
