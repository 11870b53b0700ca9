#include "auth/jwt/jwt_verifier.h"

#include <gtest/gtest.h>

#include "auth/jwt/jwt_test_signer.h"

namespace cairn::auth {
namespace {

using testing::B64;
using testing::SignToken;

constexpr int64_t kNow = 1'700'000'000;
const std::string kSecret = "0123456789abcdef0123456789abcdef-hmac";

class JwtVerifierTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new testing::PrivateKey(testing::GenerateRsaKey());
    ec_ = new testing::PrivateKey(testing::GenerateEcP256Key());
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete ec_;
  }

  void SetUp() override {
    auto rsa = JwtKey::FromPem(testing::PublicKeyPem(*rsa_), "rsa1");
    auto ec = JwtKey::FromPem(testing::PublicKeyPem(*ec_), "ec1");
    auto hs = JwtKey::FromHmacSecret(kSecret, "hs1");
    ASSERT_TRUE(rsa.ok() && ec.ok() && hs.ok());
    source_ = std::make_shared<StaticKeySource>(JwtKeySet({*rsa, *ec, *hs}));
    options_.key_source = source_;
    options_.issuer = "https://issuer.example";
    options_.audiences = {"cairn"};
  }

  StatusOr<VerifiedJwt> Verify(const std::string& token, int64_t now = kNow) {
    auto verifier = JwtVerifier::Create(options_);
    EXPECT_TRUE(verifier.ok());
    return (*verifier)->Verify(token, now);
  }

  static std::string Claims(const std::string& extra = "", int64_t exp = kNow + 3600) {
    return R"({"iss":"https://issuer.example","aud":"cairn","sub":"alice","exp":)" +
           std::to_string(exp) + extra + "}";
  }
  static std::string Header(std::string_view alg, std::string_view kid,
                            const std::string& extra = "") {
    std::string h = R"({"alg":")" + std::string(alg) + R"(","typ":"JWT")";
    if (!kid.empty()) h += R"(,"kid":")" + std::string(kid) + "\"";
    return h + extra + "}";
  }
  static std::string Rs(const std::string& claims = Claims()) {
    return SignToken("RS256", Header("RS256", "rsa1"), claims, *rsa_);
  }
  static std::string Es(const std::string& claims = Claims()) {
    return SignToken("ES256", Header("ES256", "ec1"), claims, *ec_);
  }
  static std::string Hs(const std::string& claims = Claims()) {
    return SignToken("HS256", Header("HS256", "hs1"), claims, nullptr, kSecret);
  }

  void ExpectRejected(const std::string& token, std::string_view reason_part = "") {
    auto r = Verify(token);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
    EXPECT_NE(r.status().message().find(reason_part), std::string::npos) << r.status().message();
    EXPECT_EQ(r.status().message().find(token), std::string::npos);
  }

  static testing::PrivateKey* rsa_;
  static testing::PrivateKey* ec_;
  std::shared_ptr<StaticKeySource> source_;
  JwtVerifierOptions options_;
};

testing::PrivateKey* JwtVerifierTest::rsa_ = nullptr;
testing::PrivateKey* JwtVerifierTest::ec_ = nullptr;

TEST_F(JwtVerifierTest, AcceptsEachAlgorithm) {
  for (const auto& [token, alg, kid] :
       {std::tuple{Rs(), JwtAlg::kRS256, "rsa1"}, std::tuple{Es(), JwtAlg::kES256, "ec1"},
        std::tuple{Hs(), JwtAlg::kHS256, "hs1"}}) {
    auto r = Verify(token);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->principal, "alice");
    EXPECT_EQ(r->alg, alg);
    EXPECT_EQ(r->kid, kid);
    EXPECT_EQ(r->expires_at, kNow + 3600);
    EXPECT_TRUE(r->tenants.empty());
    EXPECT_TRUE(r->roles.empty());
  }
}

TEST_F(JwtVerifierTest, RejectsAlgNone) {
  const std::string unsigned_token = B64(R"({"alg":"none"})") + "." + B64(Claims()) + ".";
  ExpectRejected(unsigned_token, "alg \"none\" not accepted");
  // With a signature part copied from a valid token.
  const std::string valid = Rs();
  ExpectRejected(unsigned_token + valid.substr(valid.rfind('.') + 1), "not accepted");
  ExpectRejected(B64(R"({"alg":"None","kid":"rsa1"})") + "." + B64(Claims()) + ".");
  ExpectRejected(SignToken("HS256", Header("HS512", "hs1"), Claims(), nullptr, kSecret),
                 "not accepted");
}

TEST_F(JwtVerifierTest, RejectsHs256SignedWithTheRsaPublicKeyPem) {
  const std::string pem = testing::PublicKeyPem(*rsa_);
  ExpectRejected(SignToken("HS256", Header("HS256", "rsa1"), Claims(), nullptr, pem),
                 "does not allow its alg");
  ExpectRejected(SignToken("HS256", Header("HS256", ""), Claims(), nullptr, pem));
  // Even with only the RSA key configured and no kid.
  auto rsa = JwtKey::FromPem(pem);
  options_.key_source = std::make_shared<StaticKeySource>(JwtKeySet({*rsa}));
  ExpectRejected(SignToken("HS256", Header("HS256", ""), Claims(), nullptr, pem), "no key allows");
}

TEST_F(JwtVerifierTest, RejectsRs256AgainstAnEcKey) {
  ExpectRejected(SignToken("RS256", Header("RS256", "ec1"), Claims(), *rsa_),
                 "does not allow its alg");
}

TEST_F(JwtVerifierTest, ChecksExpiryWithLeeway) {
  ExpectRejected(Rs(Claims("", kNow - 61)), "expired");
  ExpectRejected(Rs(Claims("", kNow - 60)), "expired");
  EXPECT_TRUE(Verify(Rs(Claims("", kNow - 59))).ok());
  options_.leeway_s = 0;
  ExpectRejected(Rs(Claims("", kNow)), "expired");
  EXPECT_TRUE(Verify(Rs(Claims("", kNow + 1))).ok());
}

TEST_F(JwtVerifierTest, RequiresExpUnlessTurnedOff) {
  const std::string no_exp = R"({"iss":"https://issuer.example","aud":"cairn","sub":"alice"})";
  ExpectRejected(Rs(no_exp), "no exp");
  options_.require_exp = false;
  auto r = Verify(Rs(no_exp));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->expires_at, 0);
}

TEST_F(JwtVerifierTest, RejectsNotYetValid) {
  ExpectRejected(Rs(Claims(R"(,"nbf":)" + std::to_string(kNow + 61))), "nbf");
  EXPECT_TRUE(Verify(Rs(Claims(R"(,"nbf":)" + std::to_string(kNow + 60)))).ok());
  ExpectRejected(Rs(Claims(R"(,"iat":)" + std::to_string(kNow + 61))), "iat");
  EXPECT_TRUE(Verify(Rs(Claims(R"(,"iat":)" + std::to_string(kNow - 10)))).ok());
}

TEST_F(JwtVerifierTest, RejectsNonNumericDates) {
  ExpectRejected(
      Rs(R"({"iss":"https://issuer.example","aud":"cairn","sub":"a","exp":"9999999999"})"), "exp");
  ExpectRejected(Rs(Claims(R"(,"nbf":null)")), "nbf");
  ExpectRejected(Rs(Claims(R"(,"iat":true)")), "iat");
  ExpectRejected(Rs(Claims(R"(,"nbf":1e300)")), "nbf");
  EXPECT_TRUE(Verify(Rs(Claims(R"(,"iat":1699999999.5)"))).ok());
}

TEST_F(JwtVerifierTest, ChecksIssuer) {
  ExpectRejected(Rs(R"({"iss":"https://evil.example","aud":"cairn","sub":"a","exp":)" +
                    std::to_string(kNow + 10) + "}"),
                 "issuer");
  ExpectRejected(Rs(R"({"aud":"cairn","sub":"a","exp":)" + std::to_string(kNow + 10) + "}"),
                 "issuer");
  options_.issuer.reset();
  EXPECT_TRUE(
      Verify(Rs(R"({"aud":"cairn","sub":"a","exp":)" + std::to_string(kNow + 10) + "}")).ok());
}

TEST_F(JwtVerifierTest, ChecksAudienceStringOrArray) {
  const std::string exp = std::to_string(kNow + 10);
  const std::string base = R"({"iss":"https://issuer.example","sub":"a","exp":)" + exp;
  ExpectRejected(Rs(base + R"(,"aud":"other"})"), "audience");
  ExpectRejected(Rs(base + "}"), "no aud");
  EXPECT_TRUE(Verify(Rs(base + R"(,"aud":["other","cairn"]})")).ok());
  ExpectRejected(Rs(base + R"(,"aud":["other","x"]})"), "audience");
  ExpectRejected(Rs(base + R"(,"aud":["cairn",1]})"), "aud");
  ExpectRejected(Rs(base + R"(,"aud":[]})"), "audience");
  options_.audiences = {"x", "y"};
  EXPECT_TRUE(Verify(Rs(base + R"(,"aud":["other","y"]})")).ok());
  options_.audiences.clear();
  EXPECT_TRUE(Verify(Rs(base + R"(,"aud":"anything"})")).ok());
}

TEST_F(JwtVerifierTest, RejectsFlippedBits) {
  for (const std::string& token : {Rs(), Es(), Hs()}) {
    const size_t dot2 = token.rfind('.');
    std::string sig_flip = token;
    // Flip a high bit of a character well inside the signature (stays in the alphabet: A<->Q).
    const size_t i = dot2 + 5;
    sig_flip[i] = sig_flip[i] == 'A' ? 'Q' : 'A';
    ExpectRejected(sig_flip, "signature does not verify");
    std::string payload_flip = token;
    const size_t j = token.find('.') + 3;
    payload_flip[j] = payload_flip[j] == 'A' ? 'Q' : 'A';
    EXPECT_FALSE(Verify(payload_flip).ok());
  }
}

TEST_F(JwtVerifierTest, RejectsEveryTruncation) {
  for (const std::string& token : {Rs(), Es(), Hs()}) {
    for (size_t n = 0; n < token.size(); ++n) {
      auto r = Verify(token.substr(0, n));
      ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes";
      EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
    }
  }
}

TEST_F(JwtVerifierTest, RejectsOversizedTokenAndExtraParts) {
  const std::string big(R"(,"pad":")" + std::string(7000, 'x') + "\"");
  ExpectRejected(Rs(Claims(big)), "max_token_bytes");
  options_.max_token_bytes = 16384;
  EXPECT_TRUE(Verify(Rs(Claims(big))).ok());
  ExpectRejected(Rs() + ".", "three");
  ExpectRejected(Rs() + ".x", "three");
  ExpectRejected("..", "");
}

TEST_F(JwtVerifierTest, RejectsDuplicateClaimsAndHeaderKeys) {
  ExpectRejected(Rs(Claims(R"(,"sub":"root")")), "duplicate");
  ExpectRejected(Rs(Claims(R"(,"exp":99999999999)", kNow - 1000)), "duplicate");
  ExpectRejected(Rs(Claims(R"(,"realm_access":{"roles":["a"],"roles":["admin"]})")), "duplicate");
  ExpectRejected(
      SignToken("RS256", R"({"alg":"RS256","kid":"rsa1","alg":"RS256"})", Claims(), *rsa_),
      "duplicate");
  ExpectRejected(SignToken("RS256", R"({"alg":"RS256","kid":"rsa1","kid":"ec1"})", Claims(), *rsa_),
                 "duplicate");
}

TEST_F(JwtVerifierTest, RejectsNonObjectPayloadAndHeader) {
  ExpectRejected(Rs("[\"alice\"]"), "not a JSON object");
  ExpectRejected(Rs("\"alice\""), "not a JSON object");
  ExpectRejected(Rs("{\"sub\":\"alice\""), "not valid JSON");
  ExpectRejected(SignToken("RS256", "[\"RS256\"]", Claims(), *rsa_), "header");
}

TEST_F(JwtVerifierTest, RejectsPaddingAndNonCanonicalBase64) {
  const std::string token = Rs();
  const size_t dot1 = token.find('.');
  const size_t dot2 = token.rfind('.');
  // The RSA-2048 signature is 256 bytes: 342 characters, 4 unused bits, normally padded "==".
  ExpectRejected(token + "==", "padding");
  // Set an unused trailing bit of the signature's last character.
  std::string noncanonical = token;
  char& last = noncanonical.back();
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  last = kAlphabet[kAlphabet.find(last) | 1];
  ExpectRejected(noncanonical, "trailing bits");
  // Standard-alphabet characters and padding in the header.
  std::string header = std::string(token.substr(0, dot1));
  ExpectRejected(header + "=" + token.substr(dot1), "base64");
  std::string plus = token;
  plus[dot2 + 3] = '+';
  ExpectRejected(plus, "base64");
  // In the payload the signature check fails first: the payload is never decoded.
  plus = token;
  plus[dot2 - 1] = '+';
  ExpectRejected(plus, "signature");
}

TEST_F(JwtVerifierTest, RejectsEs256SignatureInDerForm) {
  const std::string input = B64(Header("ES256", "ec1")) + "." + B64(Claims());
  ExpectRejected(input + "." + B64(testing::EcdsaSha256Sign(*ec_, input, /*der=*/true)),
                 "signature does not verify");
  // Right length, wrong bytes.
  ExpectRejected(input + "." + B64(std::string(64, '\0')), "signature does not verify");
}

TEST_F(JwtVerifierTest, RejectsCritHeader) {
  ExpectRejected(
      SignToken("RS256", Header("RS256", "rsa1", R"(,"crit":["exp"],"exp":1)"), Claims(), *rsa_),
      "crit");
  ExpectRejected(SignToken("RS256", Header("RS256", "rsa1", R"(,"crit":[])"), Claims(), *rsa_),
                 "crit");
}

TEST_F(JwtVerifierTest, RequiresNonEmptyStringPrincipal) {
  const std::string exp = std::to_string(kNow + 10);
  const std::string base = R"({"iss":"https://issuer.example","aud":"cairn","exp":)" + exp;
  ExpectRejected(Rs(base + "}"), "principal");
  ExpectRejected(Rs(base + R"(,"sub":""})"), "principal");
  ExpectRejected(Rs(base + R"(,"sub":42})"), "principal");
  options_.principal_claim = "email";
  auto r = Verify(Rs(base + R"(,"sub":"x","email":"a@b.c"})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->principal, "a@b.c");
}

TEST_F(JwtVerifierTest, ReadsTenantsAndRolesInEveryShape) {
  auto r = Verify(Rs(Claims(R"(,"tenant":"acme","roles":"admin")")));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->tenants, std::vector<std::string>{"acme"});
  EXPECT_EQ(r->roles, std::vector<std::string>{"admin"});

  r = Verify(Rs(Claims(R"(,"tenant":["a","b"],"roles":["r1","r2"])")));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tenants, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r->roles, (std::vector<std::string>{"r1", "r2"}));

  ExpectRejected(Rs(Claims(R"(,"tenant":7)")), "tenant");
  ExpectRejected(Rs(Claims(R"(,"roles":["a",1])")), "roles");
  ExpectRejected(Rs(Claims(R"(,"roles":{"a":1})")), "roles");
  ExpectRejected(Rs(Claims(R"(,"tenant":"")")), "tenant");

  options_.tenants_claim = "org.tenants";
  options_.roles_claim = "realm_access.roles";
  r = Verify(Rs(Claims(R"(,"org":{"tenants":["t1"]},"realm_access":{"roles":["viewer"]})")));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->tenants, std::vector<std::string>{"t1"});
  EXPECT_EQ(r->roles, std::vector<std::string>{"viewer"});
  // A path through a non-object is absent; absent claims take the defaults.
  options_.default_roles = {"reader"};
  options_.default_tenants = {"default"};
  r = Verify(Rs(Claims(R"(,"realm_access":"x")")));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->roles, std::vector<std::string>{"reader"});
  EXPECT_EQ(r->tenants, std::vector<std::string>{"default"});
  // A top-level member named with dots wins over the path (namespaced claims).
  options_.roles_claim = "https://cairn.example/roles";
  r = Verify(Rs(Claims(R"(,"https://cairn.example/roles":["ns"])")));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->roles, std::vector<std::string>{"ns"});
}

TEST_F(JwtVerifierTest, TokenWithoutKidNeedsExactlyOneCandidateKey) {
  EXPECT_TRUE(Verify(SignToken("ES256", Header("ES256", ""), Claims(), *ec_)).ok());
  auto ec2 = JwtKey::FromPem(testing::PublicKeyPem(testing::GenerateEcP256Key()), "ec2");
  auto ec1 = JwtKey::FromPem(testing::PublicKeyPem(*ec_), "ec1");
  options_.key_source = std::make_shared<StaticKeySource>(JwtKeySet({*ec1, *ec2}));
  ExpectRejected(SignToken("ES256", Header("ES256", ""), Claims(), *ec_), "several keys");
}

TEST_F(JwtVerifierTest, RejectsBadOptions) {
  EXPECT_FALSE(JwtVerifier::Create({}).ok());
  options_.leeway_s = -1;
  EXPECT_FALSE(JwtVerifier::Create(options_).ok());
  options_.leeway_s = 0;
  options_.principal_claim = "";
  EXPECT_FALSE(JwtVerifier::Create(options_).ok());
}

}  // namespace
}  // namespace cairn::auth
