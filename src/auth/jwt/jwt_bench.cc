// The cost of a verified-token cache hit and of a full verification per algorithm, on ~600-byte
// tokens. Prints; asserts nothing.
//
//   jwt_bench [iterations_scale=1]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "auth/jwt/jwt_cache.h"
#include "auth/jwt/jwt_test_signer.h"
#include "auth/jwt/jwt_verifier.h"

namespace {

using namespace cairn::auth;
using Clock = std::chrono::steady_clock;
constexpr int64_t kNow = 1'700'000'000;

// About 600 bytes once signed with RS256 (more of it is signature) or less with the others.
std::string Claims(int i) {
  return R"({"iss":"https://issuer.example","aud":"cairn","sub":"user-)" + std::to_string(i) +
         R"(@example.com","exp":)" + std::to_string(kNow + 3600) + R"(,"iat":)" +
         std::to_string(kNow) +
         R"(,"tenant":["acme"],"realm_access":{"roles":["viewer","editor"]},"scope":"openid profile email",)"
         R"("session_state":"0b7c3f0e-8a1d-4c39-9d7e-4f0d3c2b1a09"})";
}

template <typename F>
double NanosPerOp(int iterations, F&& f) {
  f(0);  // warm up
  const auto start = Clock::now();
  for (int i = 0; i < iterations; ++i) f(i);
  return std::chrono::duration<double, std::nano>(Clock::now() - start).count() / iterations;
}

}  // namespace

int main(int argc, char** argv) {
  const int scale = argc > 1 ? std::atoi(argv[1]) : 1;
  if (scale <= 0) return 2;
  auto rsa = testing::GenerateRsaKey();
  auto ec = testing::GenerateEcP256Key();
  const std::string secret(32, 'k');
  auto rsa_key = JwtKey::FromPem(testing::PublicKeyPem(rsa), "rsa1");
  auto ec_key = JwtKey::FromPem(testing::PublicKeyPem(ec), "ec1");
  auto hs_key = JwtKey::FromHmacSecret(secret, "hs1");
  if (!rsa_key.ok() || !ec_key.ok() || !hs_key.ok()) return 1;
  JwtVerifierOptions options;
  options.key_source = std::make_shared<StaticKeySource>(JwtKeySet({*rsa_key, *ec_key, *hs_key}));
  options.issuer = "https://issuer.example";
  options.audiences = {"cairn"};
  options.roles_claim = "realm_access.roles";
  auto verifier = JwtVerifier::Create(options);
  if (!verifier.ok()) return 1;

  struct Alg {
    const char* name;
    const char* kid;
    int iterations;
  };
  for (const Alg& alg :
       {Alg{"RS256", "rsa1", 5000}, Alg{"ES256", "ec1", 5000}, Alg{"HS256", "hs1", 100000}}) {
    const std::string header =
        std::string(R"({"alg":")") + alg.name + R"(","typ":"JWT","kid":")" + alg.kid + "\"}";
    const std::string t = testing::SignToken(
        alg.name, header, Claims(0), std::string_view(alg.name) == "ES256" ? ec : rsa, secret);
    bool ok = true;
    const double ns =
        NanosPerOp(alg.iterations * scale, [&](int) { ok &= (*verifier)->Verify(t, kNow).ok(); });
    std::printf("verify %s: %.2f us/op (token %zu bytes)%s\n", alg.name, ns / 1000, t.size(),
                ok ? "" : " FAILED");
  }

  // Cache hits over 1000 distinct RS256 tokens (~600 bytes each), so lookups do not all touch
  // the same cache line.
  VerifiedJwtCache cache;
  std::vector<std::string> tokens;
  const std::string header = R"({"alg":"RS256","typ":"JWT","kid":"rsa1"})";
  for (int i = 0; i < 1000; ++i) {
    tokens.push_back(testing::SignToken("RS256", header, Claims(i), rsa));
    auto v = (*verifier)->Verify(tokens.back(), kNow);
    if (!v.ok()) return 1;
    cache.Insert(tokens.back(), std::make_shared<const VerifiedJwt>(*v), kNow);
  }
  size_t hits = 0;
  const double lookup_ns = NanosPerOp(2'000'000 * scale, [&](int i) {
    hits += cache.Lookup(tokens[i % tokens.size()], kNow) != nullptr;
  });
  std::printf("cache lookup (hit): %.0f ns/op (token %zu bytes, %zu hits)\n", lookup_ns,
              tokens[0].size(), hits);
  const std::string absent = tokens[0].substr(0, tokens[0].size() - 2) + "xx";
  const double miss_ns =
      NanosPerOp(2'000'000 * scale, [&](int) { hits += cache.Lookup(absent, kNow) != nullptr; });
  std::printf("cache lookup (miss): %.0f ns/op\n", miss_ns);

  CachingJwtVerifier caching(std::move(verifier).value());
  for (const auto& t : tokens) (void)caching.Verify(t, kNow);
  const double caching_ns = NanosPerOp(2'000'000 * scale, [&](int i) {
    hits += caching.Verify(tokens[i % tokens.size()], kNow).ok();
  });
  std::printf("CachingJwtVerifier::Verify (hit): %.0f ns/op\n", caching_ns);
  return 0;
}
