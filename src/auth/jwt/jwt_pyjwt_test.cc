// Cairn's verifier against tokens made by PyJWT (testdata/make_tokens.py): it must accept
// exactly the tokens PyJWT accepts, except where the data file records a deliberate difference.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "auth/jwt/jwt_encoding.h"
#include "auth/jwt/jwt_verifier.h"

namespace cairn::auth {
namespace {

boost::json::object LoadCases() {
  std::ifstream in(std::string(CAIRN_JWT_TESTDATA) + "/pyjwt_cases.json");
  std::stringstream text;
  text << in.rdbuf();
  return boost::json::parse(text.str()).as_object();
}

std::vector<std::string> Strings(const boost::json::value* v) {
  std::vector<std::string> out;
  if (v == nullptr) return out;
  for (const auto& s : v->as_array()) out.emplace_back(s.as_string());
  return out;
}

void CheckAll(const boost::json::object& data, std::shared_ptr<KeySource> source) {
  JwtVerifierOptions options;
  options.key_source = std::move(source);
  options.issuer = std::string(data.at("issuer").as_string());
  options.audiences = {std::string(data.at("audience").as_string())};
  options.leeway_s = data.at("leeway_s").as_int64();
  auto verifier = JwtVerifier::Create(options);
  ASSERT_TRUE(verifier.ok());
  const int64_t now = data.at("now").as_int64();
  int checked = 0;
  for (const auto& v : data.at("cases").as_array()) {
    const boost::json::object& c = v.as_object();
    const std::string name(c.at("name").as_string());
    auto r = (*verifier)->Verify(std::string(c.at("token").as_string()), now);
    const bool want = c.at("cairn_valid").as_bool();
    EXPECT_EQ(r.ok(), want) << name << ": " << r.status().ToString();
    if (r.ok() && want) {
      EXPECT_EQ(r->principal, c.at("principal").as_string()) << name;
      EXPECT_EQ(r->tenants, Strings(c.if_contains("tenants"))) << name;
      EXPECT_EQ(r->roles, Strings(c.if_contains("roles"))) << name;
      EXPECT_EQ(JwtAlgName(r->alg), c.at("alg").as_string()) << name;
    }
    ++checked;
  }
  EXPECT_GE(checked, 30);
}

TEST(PyJwtCrossCheckTest, JwksKeys) {
  const boost::json::object data = LoadCases();
  auto parsed = ParseJwks(boost::json::serialize(data.at("jwks")));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->keys.size(), 3u);
  EXPECT_TRUE(parsed->skipped.empty());
  CheckAll(data, std::make_shared<StaticKeySource>(JwtKeySet(std::move(parsed->keys))));
}

TEST(PyJwtCrossCheckTest, PemKeysAndSecretWithoutKids) {
  const boost::json::object data = LoadCases();
  auto rsa = JwtKey::FromPem(std::string(data.at("rsa_public_pem").as_string()));
  auto ec = JwtKey::FromPem(std::string(data.at("ec_public_pem").as_string()));
  auto secret = internal::Base64UrlDecode(data.at("hmac_secret_b64url").as_string(), "secret");
  ASSERT_TRUE(rsa.ok() && ec.ok() && secret.ok());
  auto hs = JwtKey::FromHmacSecret(*secret);
  ASSERT_TRUE(hs.ok());
  CheckAll(data, std::make_shared<StaticKeySource>(JwtKeySet({*rsa, *ec, *hs})));
}

}  // namespace
}  // namespace cairn::auth
