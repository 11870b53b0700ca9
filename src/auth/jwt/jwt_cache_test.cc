#include "auth/jwt/jwt_cache.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "auth/jwt/jwt_test_signer.h"

namespace cairn::auth {
namespace {

constexpr int64_t kNow = 1'700'000'000;

std::shared_ptr<const VerifiedJwt> Jwt(int64_t exp, std::string principal = "alice") {
  auto jwt = std::make_shared<VerifiedJwt>();
  jwt->principal = std::move(principal);
  jwt->expires_at = exp;
  return jwt;
}

TEST(VerifiedJwtCacheTest, HitsOnlyTheSameTokenWhileValid) {
  VerifiedJwtCache cache;
  cache.Insert("a.b.c", Jwt(kNow + 100), kNow);
  EXPECT_NE(cache.Lookup("a.b.c", kNow), nullptr);
  EXPECT_EQ(cache.Lookup("a.b.d", kNow), nullptr);
  EXPECT_NE(cache.Lookup("a.b.c", kNow + 99), nullptr);
  EXPECT_EQ(cache.Lookup("a.b.c", kNow + 100), nullptr);  // at exp
  EXPECT_EQ(cache.SizeForTest(), 0u);                     // the expired entry was dropped
}

TEST(VerifiedJwtCacheTest, TtlCapsLongLivedTokens) {
  VerifiedJwtCache cache({.max_ttl_s = 300});
  cache.Insert("t", Jwt(kNow + 86400), kNow);
  cache.Insert("no-exp", Jwt(0), kNow);
  EXPECT_NE(cache.Lookup("t", kNow + 299), nullptr);
  EXPECT_EQ(cache.Lookup("t", kNow + 300), nullptr);
  EXPECT_EQ(cache.Lookup("no-exp", kNow + 300), nullptr);
  cache.Insert("expired", Jwt(kNow - 1), kNow);
  EXPECT_EQ(cache.SizeForTest(), 0u);
}

TEST(VerifiedJwtCacheTest, StaysWithinItsBound) {
  VerifiedJwtCache cache({.max_entries = 64, .shards = 4});
  for (int i = 0; i < 1000; ++i) cache.Insert("token-" + std::to_string(i), Jwt(kNow + 100), kNow);
  EXPECT_LE(cache.SizeForTest(), 64u);
  EXPECT_GE(cache.SizeForTest(), 48u);
  EXPECT_NE(cache.Lookup("token-999", kNow), nullptr);  // the newest survives its insert
}

TEST(VerifiedJwtCacheTest, FullShardDropsExpiredEntriesFirst) {
  VerifiedJwtCache cache({.max_entries = 8, .shards = 1});
  for (int i = 0; i < 8; ++i) cache.Insert("old-" + std::to_string(i), Jwt(kNow + 10), kNow);
  cache.Insert("live", Jwt(kNow + 1000), kNow);
  for (int i = 0; i < 7; ++i) cache.Insert("new-" + std::to_string(i), Jwt(kNow + 1000), kNow + 20);
  EXPECT_NE(cache.Lookup("live", kNow + 20), nullptr);
}

TEST(VerifiedJwtCacheTest, ConcurrentUse) {
  VerifiedJwtCache cache({.max_entries = 100});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) {
        const std::string token = "t" + std::to_string((i * 7 + t) % 300);
        if (auto hit = cache.Lookup(token, kNow)) {
          EXPECT_EQ(hit->principal, token);
        } else {
          cache.Insert(token, Jwt(kNow + 100, token), kNow);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(cache.SizeForTest(), 112u);  // 16 shards of ceil(100 / 16) = 7
}

class CountingSource : public KeySource {
 public:
  explicit CountingSource(JwtKeySet keys) : inner_(std::move(keys)) {}
  StatusOr<std::shared_ptr<const JwtKeySet>> Keys() override {
    ++calls;
    return inner_.Keys();
  }
  StatusOr<std::shared_ptr<const JwtKeySet>> KeysAfterUnknownKid(
      std::string_view kid, const std::shared_ptr<const JwtKeySet>& seen) override {
    return inner_.KeysAfterUnknownKid(kid, seen);
  }
  std::atomic<int> calls{0};

 private:
  StaticKeySource inner_;
};

TEST(CachingJwtVerifierTest, VerifiesOnceThenHitsAndNeverCachesFailures) {
  const std::string secret(32, 'k');
  auto key = JwtKey::FromHmacSecret(secret);
  ASSERT_TRUE(key.ok());
  auto source = std::make_shared<CountingSource>(JwtKeySet({*key}));
  auto verifier = JwtVerifier::Create({.key_source = source});
  ASSERT_TRUE(verifier.ok());
  CachingJwtVerifier caching(std::move(verifier).value());

  const std::string token = testing::SignToken(
      "HS256", R"({"alg":"HS256"})", R"({"sub":"alice","exp":)" + std::to_string(kNow + 60) + "}",
      nullptr, secret);
  for (int i = 0; i < 3; ++i) {
    auto r = caching.Verify(token, kNow);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ((*r)->principal, "alice");
  }
  EXPECT_EQ(source->calls, 1);
  // Past exp the entry is gone and the verifier rejects the token.
  EXPECT_FALSE(caching.Verify(token, kNow + 200).ok());

  std::string bad = token;
  bad.back() = bad.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(caching.Verify(bad, kNow).ok());
  EXPECT_FALSE(caching.Verify(bad, kNow).ok());
  EXPECT_EQ(source->calls, 4);
}

}  // namespace
}  // namespace cairn::auth
