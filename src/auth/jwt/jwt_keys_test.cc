#include "auth/jwt/jwt_keys.h"

#include <gtest/gtest.h>

#include "auth/jwt/jwt_test_signer.h"

namespace cairn::auth {
namespace {

using testing::B64;

const std::string kSecret(32, 's');

TEST(JwtKeyTest, TypeDecidesTheOneAllowedAlgorithm) {
  auto rsa = JwtKey::FromPem(testing::PublicKeyPem(testing::GenerateRsaKey()));
  ASSERT_TRUE(rsa.ok()) << rsa.status().ToString();
  EXPECT_EQ(rsa->type(), JwtKeyType::kRsa);
  EXPECT_EQ(rsa->allowed_algs(), std::vector<JwtAlg>{JwtAlg::kRS256});
  auto ec = JwtKey::FromPem(testing::PublicKeyPem(testing::GenerateEcP256Key()));
  ASSERT_TRUE(ec.ok()) << ec.status().ToString();
  EXPECT_EQ(ec->allowed_algs(), std::vector<JwtAlg>{JwtAlg::kES256});
  auto hmac = JwtKey::FromHmacSecret(kSecret, "h");
  ASSERT_TRUE(hmac.ok());
  EXPECT_EQ(hmac->allowed_algs(), std::vector<JwtAlg>{JwtAlg::kHS256});
  EXPECT_EQ(hmac->kid(), "h");
}

TEST(JwtKeyTest, NarrowingNeverWidens) {
  auto rsa = JwtKey::FromPem(testing::PublicKeyPem(testing::GenerateRsaKey()));
  ASSERT_TRUE(rsa.ok());
  EXPECT_FALSE(rsa->NarrowTo({JwtAlg::kHS256}).ok());
  EXPECT_FALSE(rsa->Allows(JwtAlg::kHS256));
  EXPECT_TRUE(rsa->NarrowTo({JwtAlg::kHS256, JwtAlg::kRS256}).ok());
  EXPECT_EQ(rsa->allowed_algs(), std::vector<JwtAlg>{JwtAlg::kRS256});
}

TEST(JwtKeyTest, LoadsPkcs1AndCertificatePem) {
  auto key = testing::GenerateRsaKey();
  auto pkcs1 = JwtKey::FromPem(testing::RsaPublicKeyPkcs1Pem(key));
  ASSERT_TRUE(pkcs1.ok()) << pkcs1.status().ToString();
  EXPECT_EQ(pkcs1->type(), JwtKeyType::kRsa);
  auto cert = JwtKey::FromPem(testing::SelfSignedCertificatePem(key));
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  EXPECT_EQ(cert->type(), JwtKeyType::kRsa);
  auto ec_cert = JwtKey::FromPem(testing::SelfSignedCertificatePem(testing::GenerateEcP256Key()));
  ASSERT_TRUE(ec_cert.ok()) << ec_cert.status().ToString();
  EXPECT_EQ(ec_cert->type(), JwtKeyType::kEcP256);
}

TEST(JwtKeyTest, RejectsWeakOrUnsupportedKeys) {
  EXPECT_FALSE(JwtKey::FromPem(testing::PublicKeyPem(testing::GenerateRsaKey(1024))).ok());
  EXPECT_FALSE(JwtKey::FromHmacSecret(std::string(31, 's')).ok());
  EXPECT_FALSE(
      JwtKey::FromPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").ok());
  EXPECT_FALSE(JwtKey::FromPem("no pem here").ok());
  EXPECT_FALSE(JwtKey::FromPem("-----BEGIN PUBLIC KEY-----\n!!\n-----END PUBLIC KEY-----\n").ok());
}

TEST(JwksTest, ParsesKeysAndSkipsWithReasons) {
  const std::string k = B64(kSecret);
  const std::string jwks = R"({"keys":[
    {"kty":"oct","kid":"a","k":")" +
                           k + R"("},
    {"kty":"oct","kid":"b","k":")" +
                           k + R"(","use":"enc"},
    {"kty":"OKP","kid":"c","crv":"Ed25519","x":"AA"},
    {"kty":"oct","kid":"d","k":")" +
                           k + R"(","alg":"RS256"},
    {"kty":"oct","kid":"e","k":")" +
                           k + R"(","alg":"HS256","use":"sig"},
    {"kty":"oct","kid":"a","k":")" +
                           k + R"("},
    {"kty":"oct","kid":"f","k":"c2hvcnQ"},
    {"kty":"EC","kid":"g","crv":"P-384","x":"AA","y":"AA"},
    {"kty":"oct","kid":"h","k":")" +
                           k + R"(","key_ops":["sign"]}
  ]})";
  auto parsed = ParseJwks(jwks);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->keys.size(), 2u);
  EXPECT_EQ(parsed->keys[0].kid(), "a");
  EXPECT_EQ(parsed->keys[1].kid(), "e");
  EXPECT_EQ(parsed->skipped.size(), 7u);
}

TEST(JwksTest, LoadsRsaAndEcPublicKeysIgnoringPrivateMembers) {
  std::string rsa = testing::PublicJwk(testing::GenerateRsaKey(), "r");
  rsa.insert(1, R"("d":"AQAB","p":"AQAB",)");
  const std::string jwks =
      R"({"keys":[)" + rsa + "," + testing::PublicJwk(testing::GenerateEcP256Key(), "e") + "]}";
  auto parsed = ParseJwks(jwks);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->keys.size(), 2u);
  EXPECT_EQ(parsed->keys[0].type(), JwtKeyType::kRsa);
  EXPECT_EQ(parsed->keys[1].type(), JwtKeyType::kEcP256);
}

TEST(JwksTest, SkipsEcPointOffTheCurve) {
  std::string ec = testing::PublicJwk(testing::GenerateEcP256Key(), "e");
  const size_t y = ec.find("\"y\":\"") + 5;
  ec[y] = ec[y] == 'A' ? 'B' : 'A';
  auto parsed = ParseJwks(R"({"keys":[)" + ec + "]}");
  EXPECT_FALSE(parsed.ok());
}

TEST(JwksTest, RejectsDocumentsWithoutUsableKeys) {
  EXPECT_FALSE(ParseJwks("{}").ok());
  EXPECT_FALSE(ParseJwks(R"({"keys":[]})").ok());
  EXPECT_FALSE(ParseJwks(R"({"keys":[{"kty":"oct","k":"AA"}]})").ok());
  EXPECT_FALSE(ParseJwks(R"({"keys":[],"keys":[]})").ok());
  EXPECT_FALSE(ParseJwks("not json").ok());
}

TEST(JwtKeySetTest, FindsByKidAndAlg) {
  auto rsa = JwtKey::FromPem(testing::PublicKeyPem(testing::GenerateRsaKey()), "r");
  auto hmac = JwtKey::FromHmacSecret(kSecret, "h");
  ASSERT_TRUE(rsa.ok() && hmac.ok());
  JwtKeySet set({*rsa, *hmac});
  EXPECT_EQ(set.Find("r", JwtAlg::kRS256).key, &set.keys()[0]);
  EXPECT_EQ(set.Find("r", JwtAlg::kHS256).error, JwtKeySet::LookupError::kAlgMismatch);
  EXPECT_EQ(set.Find("x", JwtAlg::kRS256).error, JwtKeySet::LookupError::kUnknownKid);
  // Without a kid: the one key that allows the alg.
  EXPECT_EQ(set.Find(std::nullopt, JwtAlg::kHS256).key, &set.keys()[1]);
  EXPECT_EQ(set.Find(std::nullopt, JwtAlg::kES256).error, JwtKeySet::LookupError::kNoKey);
  auto hmac2 = JwtKey::FromHmacSecret(kSecret + "2", "h2");
  JwtKeySet two({*hmac, *hmac2});
  EXPECT_EQ(two.Find(std::nullopt, JwtAlg::kHS256).error, JwtKeySet::LookupError::kAmbiguous);
}

TEST(JwtKeySetTest, KidlessKeyServesAnyUnknownKid) {
  auto hmac = JwtKey::FromHmacSecret(kSecret);
  ASSERT_TRUE(hmac.ok());
  JwtKeySet set({*hmac});
  EXPECT_NE(set.Find("whatever", JwtAlg::kHS256).key, nullptr);
  EXPECT_EQ(set.Find("whatever", JwtAlg::kRS256).error, JwtKeySet::LookupError::kUnknownKid);
}

}  // namespace
}  // namespace cairn::auth
