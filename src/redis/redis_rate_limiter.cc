#include "redis/redis_rate_limiter.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace cairn::redis {
namespace {

// KEYS[1]: the bucket. ARGV: rate (tokens/s), burst, the budget's identity ("rate:burst"; a
// bucket filled under another one starts full again). Returns {allowed (0/1), wait in ms}.
// The bucket expires once it would be full again anyway, so idle tenants cost no memory.
const RedisScript& TokenBucketScript() {
  static const auto* script = new RedisScript(R"lua(
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts', 'budget')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil or state[3] ~= ARGV[3] then
  tokens = burst
elseif now > ts then
  tokens = math.min(burst, tokens + (now - ts) / 1000000 * rate)
end
if ts == nil or now > ts or state[3] ~= ARGV[3] then ts = now end
local allowed = 0
local wait_ms = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait_ms = math.ceil((1 - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'ts', string.format('%d', ts),
           'budget', ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, wait_ms}
)lua");
  return *script;
}

bool Limits(const metadata::RateLimitRecord& limit) {
  return limit.control_rate > 0 || limit.predict_rate > 0;
}

std::string FormatNumber(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  return buffer;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

RedisRateLimiter::RedisRateLimiter(RedisClient& client, const Clock& clock,
                                   metadata::RateLimitRecord defaults,
                                   metrics::MetricsRegistry* metrics, std::string key_prefix)
    : client_(client),
      key_prefix_(std::move(key_prefix)),
      fallback_(clock, defaults),
      defaults_(std::move(defaults)) {
  if (metrics != nullptr) {
    fallback_counter_ = &metrics->GetCounter(
        "cairn_redis_rate_limit_fallbacks_total",
        "Rate-limit decisions taken by the in-process limiter because Redis did not answer");
  }
}

void RedisRateLimiter::SetLimits(const std::vector<metadata::RateLimitRecord>& limits) {
  fallback_.SetLimits(limits);
  MutexLock lock(mu_);
  limits_.clear();
  for (const auto& limit : limits) limits_[limit.tenant] = limit;
}

RedisRateLimiter::Budget RedisRateLimiter::BudgetOf(std::string_view tenant,
                                                    auth::RequestClass cls) {
  MutexLock lock(mu_);
  auto it = limits_.find(tenant);
  const metadata::RateLimitRecord& limit = it != limits_.end() ? it->second : defaults_;
  if (!Limits(limit)) return {};
  if (cls == auth::RequestClass::kControl) return {limit.control_rate, limit.control_burst};
  return {limit.predict_rate, limit.predict_burst};
}

auth::RateDecision RedisRateLimiter::Acquire(std::string_view tenant, auth::RequestClass cls) {
  const Budget budget = BudgetOf(tenant, cls);
  if (budget.rate <= 0) return {};
  const double burst = std::max(1.0, budget.burst > 0 ? budget.burst : budget.rate);
  const std::string key = key_prefix_ +
                          (cls == auth::RequestClass::kControl ? "control:" : "predict:") +
                          std::string(tenant);
  const std::string rate_text = FormatNumber(budget.rate);
  const std::string burst_text = FormatNumber(burst);
  const std::string identity = rate_text + ":" + burst_text;
  StatusOr<RedisReply> reply =
      client_.Eval(TokenBucketScript(), {key}, {rate_text, burst_text, identity});
  if (reply.ok() && reply->type == RedisReply::Type::kArray && reply->elements.size() == 2 &&
      reply->elements[0].type == RedisReply::Type::kInteger &&
      reply->elements[1].type == RedisReply::Type::kInteger) {
    if (reply->elements[0].integer == 1) return {};
    const int64_t wait_ms = std::max<int64_t>(0, reply->elements[1].integer);
    return {false, std::max<int64_t>(1, (wait_ms + 999) / 1000)};
  }
  fallbacks_.fetch_add(1);
  if (fallback_counter_ != nullptr) fallback_counter_->Increment();
  // One warning per 10 s at most: an outage must not flood the log.
  const int64_t now = NowNs();
  int64_t last = last_warning_ns_.load();
  if (now - last > int64_t{10'000'000'000} && last_warning_ns_.compare_exchange_strong(last, now)) {
    spdlog::warn(
        "rate limits: Redis did not answer ({}); each replica enforces budgets on its own "
        "until it does",
        reply.ok() ? std::string("unexpected reply") : reply.status().ToString());
  }
  return fallback_.Acquire(tenant, cls);
}

}  // namespace cairn::redis
