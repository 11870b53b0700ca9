// The verified-token cache shared through a real Redis (scripts/services/redis.sh): two
// TokenAuthenticators over one security store stand for two replicas, each with its own
// RedisTokenCache and invalidation subscriber, as `cairn server --redis-uri` wires them.

#include "redis/redis_token_cache.h"

#include <gtest/gtest.h>

#include <thread>

#include "auth/api_token.h"
#include "auth/rate_limiter.h"
#include "auth/security_service.h"
#include "base/ids.h"
#include "base/test_services.h"
#include "metadata/sqlite/sqlite_metadata_backend.h"
#include "redis/redis_subscriber.h"

namespace cairn::redis {
namespace {

struct Replica {
  std::unique_ptr<auth::TokenAuthenticator> tokens;
  std::unique_ptr<RedisTokenCache> cache;
  std::unique_ptr<RedisSubscriber> subscriber;
  std::atomic<int> subscribed{0};
};

class RedisTokenCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string text;
    CAIRN_TEST_SERVICE(text, "REDIS");
    auto uri = RedisUri::Parse(text);
    ASSERT_TRUE(uri.ok());
    uri_ = *uri;
    client_ = std::make_unique<RedisClient>(uri_, RedisOptions{});
    prefix_ = "cairn:test:tok:" + IdGenerator::Default().Hex32() + ":";
    auto stores = metadata::OpenSqliteMetadataStores(":memory:");
    ASSERT_TRUE(stores.ok()) << stores.status().ToString();
    stores_ = std::move(*stores);
    for (int i = 0; i < 2; ++i) StartReplica(replicas_[i], "replica-" + std::to_string(i));
    limiter_ =
        std::make_unique<auth::LocalRateLimiter>(SystemClock::Get(), metadata::RateLimitRecord{});
    security_ = std::make_unique<auth::SecurityService>(
        *stores_.security, replicas_[0].tokens.get(), limiter_.get(), SystemClock::Get());
    ASSERT_TRUE(security_->CreateTenant(root_, "a", "").ok());
  }

  void StartReplica(Replica& replica, const std::string& origin) {
    replica.tokens = std::make_unique<auth::TokenAuthenticator>(
        *stores_.security, SystemClock::Get(), auth::TokenAuthenticator::Options{});
    replica.cache = std::make_unique<RedisTokenCache>(*client_, origin, prefix_);
    replica.tokens->SetSharedCache(replica.cache.get());
    auth::TokenAuthenticator* tokens = replica.tokens.get();
    std::atomic<int>* subscribed = &replica.subscribed;
    auto subscriber = RedisSubscriber::Start(
        uri_, RedisOptions{}, {replica.cache->channel()},
        [tokens, origin](std::string_view, std::string_view from) {
          if (from != origin) tokens->DropLocal();
        },
        [tokens, subscribed] {
          tokens->DropLocal();  // as the server does: invalidations may have been missed
          ++*subscribed;
        });
    ASSERT_TRUE(subscriber.ok());
    replica.subscriber = std::move(*subscriber);
    for (int i = 0; i < 300 && replica.subscribed.load() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_GT(replica.subscribed.load(), 0);
  }

  std::string Token(std::optional<int64_t> expires_in = std::nullopt) {
    auto created =
        security_->CreateToken(root_, auth::TokenRequest{"p", "a", {"viewer"}, expires_in, ""});
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? created->text : "";
  }

  std::string EntryKey(const std::string& token) {
    auto generation = client_->Command({"GET", prefix_ + "generation"});
    std::string g =
        generation.ok() && generation->type == RedisReply::Type::kString ? generation->str : "0";
    return prefix_ + g + ":" + auth::Sha256Hex(token);
  }

  RedisUri uri_;
  std::unique_ptr<RedisClient> client_;
  std::string prefix_;
  metadata::MetadataStores stores_;
  Replica replicas_[2];
  std::unique_ptr<auth::LocalRateLimiter> limiter_;
  std::unique_ptr<auth::SecurityService> security_;
  RequestScope root_ = RequestScope::ForTenant("default", "root");
};

TEST_F(RedisTokenCacheTest, ReplicaUsesWhatAnotherVerifiedKeyedByHashOnly) {
  const std::string token = Token();
  auto first = replicas_[0].tokens->Authenticate(token);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto entry = client_->Command({"GET", EntryKey(token)});
  ASSERT_TRUE(entry.ok());
  ASSERT_EQ(entry->type, RedisReply::Type::kString);
  EXPECT_EQ(entry->str.find(token), std::string::npos);
  EXPECT_EQ(entry->str.find(std::string(auth::ParseTokenText(token)->secret)), std::string::npos);
  auto ttl = client_->Command({"PTTL", EntryKey(token)});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer, 0);
  EXPECT_LE(ttl->integer, 10000);

  // Revoked behind every cache's back (straight in the store, no invalidation): replica 1 still
  // accepts it, which shows it answered from the shared entry, not the store.
  ASSERT_TRUE(stores_.security->RevokeToken(auth::ParseTokenText(token)->id, 1).ok());
  auto second = replicas_[1].tokens->Authenticate(token);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ((*second)->principal, "p");
  EXPECT_EQ((*second)->default_tenant, "a");
  ASSERT_EQ((*second)->grants->size(), 1u);
  EXPECT_EQ((*second)->grants->at(0).role, "viewer");
  // A wrong secret with the same id is never taken for the cached token.
  std::string forged = token;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(replicas_[1].tokens->Authenticate(forged).ok());
}

TEST_F(RedisTokenCacheTest, RevocationOnOneReplicaTakesEffectOnTheOtherAtOnce) {
  const std::string token = Token();
  ASSERT_TRUE(replicas_[0].tokens->Authenticate(token).ok());
  ASSERT_TRUE(replicas_[1].tokens->Authenticate(token).ok());  // now in its local cache too
  ASSERT_TRUE(security_->RevokeToken(root_, auth::ParseTokenText(token)->id).ok());
  EXPECT_FALSE(replicas_[0].tokens->Authenticate(token).ok());
  bool refused = false;
  for (int i = 0; i < 100 && !refused; ++i) {
    refused = !replicas_[1].tokens->Authenticate(token).ok();
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(refused) << "replica 1 still accepts a revoked token after 1 s";
  auto after = replicas_[1].tokens->Authenticate(token);
  EXPECT_EQ(after.status().code(), StatusCode::kUnauthenticated);
}

TEST_F(RedisTokenCacheTest, EntryNeverOutlivesTheTokensExpiry) {
  const std::string token = Token(1);
  ASSERT_TRUE(replicas_[0].tokens->Authenticate(token).ok());
  auto ttl = client_->Command({"PTTL", EntryKey(token)});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer, 0);
  EXPECT_LE(ttl->integer, 1000);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto late = replicas_[1].tokens->Authenticate(token);
  EXPECT_EQ(late.status().code(), StatusCode::kUnauthenticated);
}

TEST_F(RedisTokenCacheTest, CorruptEntriesAndAnOutageFallBackToTheStore) {
  const std::string token = Token();
  ASSERT_TRUE(replicas_[0].tokens->Authenticate(token).ok());
  ASSERT_TRUE(client_->Command({"SET", EntryKey(token), "{not json"}).ok());
  auto found = replicas_[1].cache->Lookup(auth::Sha256Hex(token));
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->identity.has_value());
  EXPECT_TRUE(replicas_[1].tokens->Authenticate(token).ok());
  EXPECT_EQ(replicas_[1].cache->Lookup("not-a-digest").status().code(),
            StatusCode::kInvalidArgument);

  RedisUri nowhere = uri_;
  nowhere.port = 1;
  RedisClient down(nowhere, RedisOptions{});
  RedisTokenCache unreachable(down, "x", prefix_);
  auth::TokenAuthenticator tokens(*stores_.security, SystemClock::Get(), {});
  tokens.SetSharedCache(&unreachable);
  EXPECT_TRUE(tokens.Authenticate(token).ok());
  ASSERT_TRUE(security_->RevokeToken(root_, auth::ParseTokenText(token)->id).ok());
  tokens.DropLocal();
  EXPECT_FALSE(tokens.Authenticate(token).ok());
}

TEST(RedisTokenCacheCodecTest, IdentityRoundTripsAndGarbageIsRefused) {
  auth::Identity identity;
  identity.principal = "p\"\n";
  identity.default_tenant = "a";
  identity.expires_at_ms = 123;
  identity.method = "token";
  identity.grants = std::make_shared<std::vector<RoleGrant>>(
      std::vector<RoleGrant>{{"a", "viewer"}, {"*", "admin"}});
  auto back = RedisTokenCache::Decode(RedisTokenCache::Encode(identity));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->principal, identity.principal);
  EXPECT_EQ(back->expires_at_ms, 123);
  ASSERT_EQ(back->grants->size(), 2u);
  EXPECT_EQ(back->grants->at(1).tenant, "*");
  for (const char* bad : {"", "[]", "{}", "{\"principal\":1}", "null",
                          "{\"principal\":\"p\",\"default_tenant\":\"a\",\"expires_at_ms\":1,"
                          "\"method\":\"m\",\"grants\":[[1,2]]}"}) {
    EXPECT_FALSE(RedisTokenCache::Decode(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace cairn::redis
