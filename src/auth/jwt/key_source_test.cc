#include "auth/jwt/key_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "auth/jwt/jwt_test_signer.h"
#include "auth/jwt/jwt_verifier.h"

namespace cairn::auth {
namespace {

constexpr int64_t kNow = 1'700'000'000;

std::string Claims() { return R"({"sub":"alice","exp":)" + std::to_string(kNow + 3600) + "}"; }

std::string Token(const testing::PrivateKey& key, std::string_view kid) {
  return testing::SignToken("RS256", R"({"alg":"RS256","kid":")" + std::string(kid) + "\"}",
                            Claims(), key);
}

// A JWKS endpoint whose document the test swaps, counting fetches.
struct FakeJwks {
  std::string document;
  Status error;
  std::atomic<int> fetches{0};

  JwksFetchFn Fn() {
    return [this](const std::string& url) -> StatusOr<std::string> {
      EXPECT_EQ(url, "https://idp.example/jwks");
      ++fetches;
      if (!error.ok()) return error;
      return document;
    };
  }
};

class JwksUrlKeySourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key1_ = testing::GenerateRsaKey();
    key2_ = testing::GenerateRsaKey();
    jwks_.document = R"({"keys":[)" + testing::PublicJwk(key1_, "k1") + "]}";
    auto source = JwksUrlKeySource::Create(
        {.url = "https://idp.example/jwks", .fetch = jwks_.Fn(), .clock = &clock_});
    ASSERT_TRUE(source.ok());
    source_ = std::shared_ptr<JwksUrlKeySource>(std::move(source).value());
    auto verifier = JwtVerifier::Create({.key_source = source_});
    ASSERT_TRUE(verifier.ok());
    verifier_ = std::move(verifier).value();
  }

  testing::PrivateKey key1_, key2_;
  FakeJwks jwks_;
  ManualClock clock_{0};
  std::shared_ptr<JwksUrlKeySource> source_;
  std::unique_ptr<JwtVerifier> verifier_;
};

TEST_F(JwksUrlKeySourceTest, FetchesOnceAndCaches) {
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(verifier_->Verify(Token(key1_, "k1"), kNow).ok());
  EXPECT_EQ(jwks_.fetches, 1);
}

TEST_F(JwksUrlKeySourceTest, UnknownKidRefreshesAtMostOncePerInterval) {
  ASSERT_TRUE(verifier_->Verify(Token(key1_, "k1"), kNow).ok());
  // An unknown kid: one refresh, then failure.
  auto r = verifier_->Verify(Token(key2_, "k2"), kNow);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(jwks_.fetches, 2);
  // Another unknown kid within the interval: no fetch. A flood of them: still none.
  clock_.AdvanceMillis(10'000);
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(verifier_->Verify(Token(key2_, "random" + std::to_string(i)), kNow).ok());
  }
  EXPECT_EQ(jwks_.fetches, 2);
  // The IdP rotates in k2; after the interval the next unknown kid refreshes and verifies.
  jwks_.document = R"({"keys":[)" + testing::PublicJwk(key1_, "k1") + "," +
                   testing::PublicJwk(key2_, "k2") + "]}";
  EXPECT_FALSE(verifier_->Verify(Token(key2_, "k2"), kNow).ok());
  clock_.AdvanceMillis(20'000);
  EXPECT_TRUE(verifier_->Verify(Token(key2_, "k2"), kNow).ok());
  EXPECT_EQ(jwks_.fetches, 3);
}

TEST_F(JwksUrlKeySourceTest, RefreshesPeriodicallyOnUse) {
  ASSERT_TRUE(verifier_->Verify(Token(key1_, "k1"), kNow).ok());
  clock_.AdvanceMillis(9 * 60 * 1000);
  ASSERT_TRUE(verifier_->Verify(Token(key1_, "k1"), kNow).ok());
  EXPECT_EQ(jwks_.fetches, 1);
  // k1 is retired; after 10 minutes the next use fetches and k1 stops verifying.
  jwks_.document = R"({"keys":[)" + testing::PublicJwk(key2_, "k2") + "]}";
  clock_.AdvanceMillis(60 * 1000);
  EXPECT_TRUE(verifier_->Verify(Token(key2_, "k2"), kNow).ok());
  EXPECT_EQ(jwks_.fetches, 2);
  // k1 is now an unknown kid: one refresh finds it still gone.
  EXPECT_FALSE(verifier_->Verify(Token(key1_, "k1"), kNow).ok());
  EXPECT_EQ(jwks_.fetches, 3);
}

TEST_F(JwksUrlKeySourceTest, FailedRefreshKeepsTheOldSet) {
  ASSERT_TRUE(verifier_->Verify(Token(key1_, "k1"), kNow).ok());
  jwks_.error = Status(StatusCode::kUnavailable, "connection refused");
  clock_.AdvanceMillis(11 * 60 * 1000);
  EXPECT_TRUE(verifier_->Verify(Token(key1_, "k1"), kNow).ok());
  EXPECT_EQ(jwks_.fetches, 2);
  // A garbage document is a failure too.
  jwks_.error = Status::Ok();
  jwks_.document = "<html>";
  clock_.AdvanceMillis(31'000);
  EXPECT_TRUE(verifier_->Verify(Token(key1_, "k1"), kNow).ok());
  EXPECT_EQ(jwks_.fetches, 3);
}

TEST_F(JwksUrlKeySourceTest, WithoutAnySetFailsAndRetriesOnlyAfterTheInterval) {
  jwks_.error = Status(StatusCode::kUnavailable, "connection refused");
  auto r = verifier_->Verify(Token(key1_, "k1"), kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("connection refused"), std::string::npos);
  EXPECT_FALSE(verifier_->Verify(Token(key1_, "k1"), kNow).ok());
  EXPECT_EQ(jwks_.fetches, 1);
  jwks_.error = Status::Ok();
  clock_.AdvanceMillis(30'000);
  EXPECT_TRUE(verifier_->Verify(Token(key1_, "k1"), kNow).ok());
  EXPECT_EQ(jwks_.fetches, 2);
}

TEST_F(JwksUrlKeySourceTest, ConcurrentUnknownKidsCauseOneFetch) {
  ASSERT_TRUE(verifier_->Verify(Token(key1_, "k1"), kNow).ok());
  const std::string bad = Token(key2_, "k2");
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) EXPECT_FALSE(verifier_->Verify(bad, kNow).ok());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(jwks_.fetches, 2);
}

TEST(JwksUrlKeySourceCreateTest, RejectsBadOptions) {
  EXPECT_FALSE(
      JwksUrlKeySource::Create(
          {.url = "", .fetch = [](const std::string&) { return StatusOr<std::string>(""); }})
          .ok());
  EXPECT_FALSE(JwksUrlKeySource::Create({.url = "https://x"}).ok());
}

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("cairn-jwt-test-" + std::to_string(::getpid()) + "-" +
             std::to_string(reinterpret_cast<uintptr_t>(this)));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& data) {
    const std::string p = (path_ / name).string();
    std::ofstream(p, std::ios::binary) << data;
    return p;
  }

 private:
  std::filesystem::path path_;
};

TEST(StaticKeySourceTest, LoadsEachFileKind) {
  TempDir dir;
  auto rsa = testing::GenerateRsaKey();
  auto pem = StaticKeySource::FromPemFile(dir.Write("k.pem", testing::PublicKeyPem(rsa)), "r");
  ASSERT_TRUE(pem.ok()) << pem.status().ToString();
  auto keys = (*pem)->Keys();
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ((*keys)->keys().at(0).kid(), "r");

  auto secret = StaticKeySource::FromHmacSecretFile(dir.Write("s", std::string(40, 'x') + "\n"));
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ((*(*secret)->Keys())->keys().at(0).hmac_secret(), std::string(40, 'x') + "\n");

  std::vector<std::string> skipped;
  auto jwks = StaticKeySource::FromJwksFile(
      dir.Write("jwks.json", R"({"keys":[)" + testing::PublicJwk(rsa, "a") +
                                 R"(,{"kty":"OKP","crv":"Ed25519","x":"AA"}]})"),
      &skipped);
  ASSERT_TRUE(jwks.ok()) << jwks.status().ToString();
  EXPECT_EQ(skipped.size(), 1u);

  EXPECT_EQ(StaticKeySource::FromPemFile(dir.Write("x", "")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(StaticKeySource::FromPemFile("/nonexistent/k.pem").status().code(),
            StatusCode::kNotFound);
  EXPECT_FALSE(StaticKeySource::FromHmacSecretFile(dir.Write("short", "abc")).ok());
}

}  // namespace
}  // namespace cairn::auth
