// RedisRateLimiter against a real Redis (scripts/services/redis.sh): two limiters stand for two
// replicas sharing the budget.

#include "redis/redis_rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "base/ids.h"
#include "base/test_services.h"
#include "redis/test_redis_server.h"

namespace cairn::redis {
namespace {

using auth::RequestClass;

class RedisRateLimiterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string text;
    CAIRN_TEST_SERVICE(text, "REDIS");
    auto uri = RedisUri::Parse(text);
    ASSERT_TRUE(uri.ok());
    uri_ = *uri;
    client_a_ = std::make_unique<RedisClient>(uri_, RedisOptions{});
    client_b_ = std::make_unique<RedisClient>(uri_, RedisOptions{});
    prefix_ = "cairn:test:rl:" + IdGenerator::Default().Hex32() + ":";
  }

  std::unique_ptr<RedisRateLimiter> Limiter(RedisClient& client, double rate, double burst,
                                            metrics::MetricsRegistry* metrics = nullptr) {
    metadata::RateLimitRecord defaults;
    defaults.control_rate = rate;
    defaults.control_burst = burst;
    return std::make_unique<RedisRateLimiter>(client, SystemClock::Get(), defaults, metrics,
                                              prefix_);
  }

  RedisUri uri_;
  std::unique_ptr<RedisClient> client_a_;
  std::unique_ptr<RedisClient> client_b_;
  std::string prefix_;
};

TEST_F(RedisRateLimiterTest, ConcurrentAcquirersOnTwoReplicasNeverExceedTheBucket) {
  // 0.01 tokens/s: over the test's few seconds the bucket refills less than one token.
  auto a = Limiter(*client_a_, 0.01, 50);
  auto b = Limiter(*client_b_, 0.01, 50);
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    RedisRateLimiter* limiter = t % 2 == 0 ? a.get() : b.get();
    threads.emplace_back([&, limiter] {
      for (int i = 0; i < 25; ++i) {
        if (limiter->Acquire("acme", RequestClass::kControl).allowed) ++allowed;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(allowed.load(), 50);
  EXPECT_EQ(a->fallbacks() + b->fallbacks(), 0);
  // Other tenants and the other class have budgets of their own.
  EXPECT_TRUE(a->Acquire("other", RequestClass::kControl).allowed);
  EXPECT_TRUE(a->Acquire("acme", RequestClass::kPredict).allowed);  // unlimited
}

TEST_F(RedisRateLimiterTest, RefusalCarriesRetryAfterLikeTheLocalLimiter) {
  auto a = Limiter(*client_a_, 0.5, 2);  // one token every 2 s
  auto b = Limiter(*client_b_, 0.5, 2);
  EXPECT_TRUE(a->Acquire("t", RequestClass::kControl).allowed);
  EXPECT_TRUE(b->Acquire("t", RequestClass::kControl).allowed);
  auth::RateDecision refused = a->Acquire("t", RequestClass::kControl);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_s, 2);
  EXPECT_FALSE(b->Acquire("t", RequestClass::kControl).allowed);

  ManualClock clock(0);
  metadata::RateLimitRecord defaults;
  defaults.control_rate = 0.5;
  defaults.control_burst = 2;
  auth::LocalRateLimiter local(clock, defaults);
  local.Acquire("t", RequestClass::kControl);
  local.Acquire("t", RequestClass::kControl);
  EXPECT_EQ(local.Acquire("t", RequestClass::kControl).retry_after_s, refused.retry_after_s);
}

TEST_F(RedisRateLimiterTest, BucketRefillsWithRedisTime) {
  auto a = Limiter(*client_a_, 20, 1);
  EXPECT_TRUE(a->Acquire("t", RequestClass::kControl).allowed);
  auth::RateDecision refused = a->Acquire("t", RequestClass::kControl);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_s, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  EXPECT_TRUE(a->Acquire("t", RequestClass::kControl).allowed);
}

TEST_F(RedisRateLimiterTest, NewBudgetStartsAFullBucketOnEveryReplica) {
  auto a = Limiter(*client_a_, 0.01, 1);
  auto b = Limiter(*client_b_, 0.01, 1);
  EXPECT_TRUE(a->Acquire("t", RequestClass::kControl).allowed);
  EXPECT_FALSE(b->Acquire("t", RequestClass::kControl).allowed);
  metadata::RateLimitRecord limit;
  limit.tenant = "t";
  limit.control_rate = 0.01;
  limit.control_burst = 3;
  a->SetLimits({limit});
  b->SetLimits({limit});
  int allowed = 0;
  for (int i = 0; i < 6; ++i) {
    allowed += (i % 2 == 0 ? a : b)->Acquire("t", RequestClass::kControl).allowed ? 1 : 0;
  }
  EXPECT_EQ(allowed, 3);
}

TEST_F(RedisRateLimiterTest, SurvivesScriptFlush) {
  auto a = Limiter(*client_a_, 0.01, 3);
  EXPECT_TRUE(a->Acquire("t", RequestClass::kControl).allowed);
  ASSERT_TRUE(client_b_->Command({"SCRIPT", "FLUSH"}).ok());
  EXPECT_TRUE(a->Acquire("t", RequestClass::kControl).allowed);
  EXPECT_TRUE(a->Acquire("t", RequestClass::kControl).allowed);
  EXPECT_FALSE(a->Acquire("t", RequestClass::kControl).allowed);
  EXPECT_EQ(a->fallbacks(), 0);
}

TEST_F(RedisRateLimiterTest, RedisDownFallsBackToLocalBucketsQuicklyAndCountsIt) {
  RedisUri nowhere = uri_;
  nowhere.port = 1;
  RedisClient down(nowhere, RedisOptions{});
  metrics::MetricsRegistry metrics;
  auto a = Limiter(down, 0.01, 3, &metrics);
  const auto start = std::chrono::steady_clock::now();
  int allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += a->Acquire("t", RequestClass::kControl).allowed;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  EXPECT_EQ(allowed, 3);  // the local bucket still enforces the budget
  EXPECT_EQ(a->fallbacks(), 100);
  EXPECT_NE(metrics.RenderPrometheus().find("cairn_redis_rate_limit_fallbacks_total 100"),
            std::string::npos)
      << metrics.RenderPrometheus();
}

TEST_F(RedisRateLimiterTest, SlowRedisCostsOneTimeoutThenFallsBackAtOnce) {
  TestRedisServer redis;
  ASSERT_TRUE(redis.Start());
  RedisClient client(redis.Uri(), RedisOptions{.command_timeout = std::chrono::milliseconds(100),
                                               .min_backoff = std::chrono::milliseconds(500)});
  RedisClient pauser(redis.Uri(), RedisOptions{});
  auto a = Limiter(client, 0.01, 100);
  EXPECT_TRUE(a->Acquire("t", RequestClass::kControl).allowed);  // connected, script loaded
  ASSERT_TRUE(pauser.Command({"CLIENT", "PAUSE", "1500", "ALL"}).ok());
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(a->Acquire("t", RequestClass::kControl).allowed);
  const auto first = std::chrono::steady_clock::now() - start;
  EXPECT_GE(first, std::chrono::milliseconds(90));
  EXPECT_LT(first, std::chrono::milliseconds(300));  // one timeout, not a retry on top
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) a->Acquire("t", RequestClass::kControl);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  EXPECT_EQ(a->fallbacks(), 51);
}

TEST_F(RedisRateLimiterTest, HostileTenantNamesStayInTheirOwnKey) {
  auto a = Limiter(*client_a_, 0.01, 1);
  const std::string odd("t\r\n*1\r\n$8\r\nFLUSHALL\r\n\0x", 24);
  EXPECT_TRUE(a->Acquire(odd, RequestClass::kControl).allowed);
  EXPECT_FALSE(a->Acquire(odd, RequestClass::kControl).allowed);
  EXPECT_TRUE(a->Acquire("t", RequestClass::kControl).allowed);
  auto exists = client_a_->Command({"EXISTS", prefix_ + "control:" + odd});
  ASSERT_TRUE(exists.ok());
  EXPECT_EQ(exists->integer, 1);
}

}  // namespace
}  // namespace cairn::redis
