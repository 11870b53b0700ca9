// RedisClient and RedisSubscriber against a real Redis (scripts/services/redis.sh).

#include "redis/redis_client.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "base/mutex.h"
#include "base/test_services.h"
#include "redis/redis_rate_limiter.h"
#include "redis/redis_subscriber.h"
#include "redis/test_redis_server.h"

namespace cairn::redis {
namespace {

class RedisClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string text;
    CAIRN_TEST_SERVICE(text, "REDIS");
    auto uri = RedisUri::Parse(text);
    ASSERT_TRUE(uri.ok()) << uri.status().ToString();
    uri_ = *uri;
    client_ = std::make_unique<RedisClient>(uri_, RedisOptions{});
  }
  RedisUri uri_;
  std::unique_ptr<RedisClient> client_;
};

TEST_F(RedisClientTest, RunsCommandsWithBinaryArguments) {
  const std::string key = "cairn:test:client:binary";
  const std::string value("a\0b\r\nc", 6);
  ASSERT_TRUE(client_->Command({"SET", key, value}).ok());
  auto got = client_->Command({"GET", key});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->type, RedisReply::Type::kString);
  EXPECT_EQ(got->str, value);
  auto wrong = client_->Command({"LPUSH", key, "x"});
  EXPECT_EQ(wrong.status().code(), StatusCode::kInternal);
  ASSERT_TRUE(client_->Command({"DEL", key}).ok());
}

TEST_F(RedisClientTest, EvalLoadsTheScriptAgainAfterScriptFlush) {
  RedisScript script("return tonumber(ARGV[1]) + 1");
  auto first = client_->Eval(script, {}, {"41"});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->integer, 42);
  ASSERT_TRUE(client_->Command({"SCRIPT", "FLUSH"}).ok());
  auto exists = client_->Command({"SCRIPT", "EXISTS", script.sha1});
  ASSERT_TRUE(exists.ok());
  EXPECT_EQ(exists->elements.at(0).integer, 0);
  auto again = client_->Eval(script, {}, {"1"});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->integer, 2);
}

TEST_F(RedisClientTest, UnreachableRedisFailsFastAndBacksOff) {
  RedisUri nowhere = uri_;
  nowhere.port = 1;  // nothing listens there
  RedisClient client(nowhere, RedisOptions{.min_backoff = std::chrono::milliseconds(500)});
  auto first = client.Command({"PING"});
  EXPECT_EQ(first.status().code(), StatusCode::kUnavailable);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(client.Command({"PING"}).status().code(), StatusCode::kUnavailable);
  }
  // In backoff: no connection attempt, so 1000 calls take next to nothing.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(200));
}

TEST_F(RedisClientTest, SubscriberReceivesMessagesAndStopsPromptly) {
  Mutex mu;
  std::vector<std::string> got;
  std::atomic<int> subscribed{0};
  auto subscriber = RedisSubscriber::Start(
      uri_, RedisOptions{}, {"cairn:test:sub:a", "cairn:test:sub:b"},
      [&](std::string_view channel, std::string_view payload) {
        MutexLock lock(mu);
        got.push_back(std::string(channel) + "=" + std::string(payload));
      },
      [&] { ++subscribed; });
  ASSERT_TRUE(subscriber.ok());
  for (int i = 0; i < 200 && subscribed.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(subscribed.load(), 1);
  ASSERT_TRUE(client_->Command({"PUBLISH", "cairn:test:sub:a", "one"}).ok());
  ASSERT_TRUE(client_->Command({"PUBLISH", "cairn:test:sub:b", std::string("t\0o", 3)}).ok());
  ASSERT_TRUE(client_->Command({"PUBLISH", "cairn:test:sub:other", "x"}).ok());
  for (int i = 0; i < 200; ++i) {
    {
      MutexLock lock(mu);
      if (got.size() >= 2) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  {
    MutexLock lock(mu);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0], "cairn:test:sub:a=one");
    EXPECT_EQ(got[1], "cairn:test:sub:b=" + std::string("t\0o", 3));
  }
  const auto start = std::chrono::steady_clock::now();
  subscriber->reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
}

TEST_F(RedisClientTest, SubscriberResubscribesAfterItsConnectionIsKilled) {
  const std::string name = "cairn-test-resub-" + std::to_string(::getpid());
  std::atomic<int> subscribed{0};
  std::atomic<int> messages{0};
  auto subscriber = RedisSubscriber::Start(
      uri_, RedisOptions{.min_backoff = std::chrono::milliseconds(20), .client_name = name},
      {"cairn:test:resub"}, [&](std::string_view, std::string_view) { ++messages; },
      [&] { ++subscribed; });
  ASSERT_TRUE(subscriber.ok());
  for (int i = 0; i < 200 && subscribed.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(subscribed.load(), 1);
  // What a Redis restart does to the connection: the server closes it.
  auto killed = KillClientsNamedForTest(*client_, name);
  ASSERT_TRUE(killed.ok()) << killed.status().ToString();
  ASSERT_EQ(*killed, 1);
  for (int i = 0; i < 300 && subscribed.load() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(subscribed.load(), 2);
  ASSERT_TRUE(client_->Command({"PUBLISH", "cairn:test:resub", "after"}).ok());
  for (int i = 0; i < 200 && messages.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(messages.load(), 1);
}

TEST_F(RedisClientTest, PasswordIsSentAndAWrongOneIsAClearError) {
  TestRedisServer redis;
  ASSERT_TRUE(redis.Start());
  RedisClient good(redis.Uri(), RedisOptions{});
  ASSERT_TRUE(good.Command({"SET", "k", "in db 1"}).ok());
  RedisUri wrong = redis.Uri();
  wrong.password = "guess";
  RedisClient bad(wrong, RedisOptions{});
  Status refused = bad.Ping();
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.message().find("AUTH"), std::string::npos) << refused.ToString();
  EXPECT_EQ(refused.message().find("guess"), std::string::npos) << refused.ToString();
}

TEST_F(RedisClientTest, ClientSubscriberAndLimiterComeBackAfterARedisRestart) {
  TestRedisServer redis;
  ASSERT_TRUE(redis.Start());
  const RedisOptions options{.min_backoff = std::chrono::milliseconds(20),
                             .max_backoff = std::chrono::milliseconds(100)};
  RedisClient client(redis.Uri(), options);
  std::atomic<int> subscribed{0};
  std::atomic<int> messages{0};
  auto subscriber = RedisSubscriber::Start(
      redis.Uri(), options, {"cairn:test:restart"},
      [&](std::string_view, std::string_view) { ++messages; }, [&] { ++subscribed; });
  ASSERT_TRUE(subscriber.ok());
  metadata::RateLimitRecord defaults;
  defaults.control_rate = 0.01;
  defaults.control_burst = 2;
  RedisRateLimiter limiter(client, SystemClock::Get(), defaults, nullptr);
  for (int i = 0; i < 300 && subscribed.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(subscribed.load(), 1);
  EXPECT_TRUE(limiter.Acquire("t", auth::RequestClass::kControl).allowed);

  redis.Stop();
  EXPECT_EQ(client.Command({"PING"}).status().code(), StatusCode::kUnavailable);
  limiter.Acquire("t", auth::RequestClass::kControl);  // decided locally
  EXPECT_GE(limiter.fallbacks(), 1);
  for (int i = 0; i < 100 && (*subscriber)->subscribed(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE((*subscriber)->subscribed());

  ASSERT_TRUE(redis.Start());  // empty: nothing was persisted, no script is loaded
  for (int i = 0; i < 300 && subscribed.load() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(subscribed.load(), 2);
  bool back = false;
  for (int i = 0; i < 100 && !back; ++i) {
    back = client.Command({"PUBLISH", "cairn:test:restart", "x"}).ok();
    if (!back) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(back);
  for (int i = 0; i < 200 && messages.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(messages.load(), 1);
  // The limiter's script is loaded again (NOSCRIPT, then EVAL) and buckets live in Redis again.
  const int64_t fallbacks = limiter.fallbacks();
  EXPECT_TRUE(limiter.Acquire("t", auth::RequestClass::kControl).allowed);
  EXPECT_TRUE(limiter.Acquire("t", auth::RequestClass::kControl).allowed);
  EXPECT_FALSE(limiter.Acquire("t", auth::RequestClass::kControl).allowed);
  EXPECT_EQ(limiter.fallbacks(), fallbacks);
}

}  // namespace
}  // namespace cairn::redis
