// What authentication adds to a request: AuthMiddleware::OnRequest with authentication off, with
// an API token, and with a JWT (RS256), each credential already verified once (cached), as on
// the prediction path. The security store is the real SQLite one. Prints ns per request;
// asserts nothing.
//
//   build/release/src/auth/auth_bench [iterations]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "auth/api_token.h"
#include "auth/auth_middleware.h"
#include "auth/jwt/jwt_test_signer.h"
#include "auth/jwt/jwt_verifier.h"
#include "auth/jwt/key_source.h"
#include "auth/jwt_identity.h"
#include "auth/security_service.h"
#include "base/clock.h"
#include "metadata/sqlite/sqlite_metadata_backend.h"

namespace cairn::auth {
namespace {

double NsPerRequest(AuthMiddleware& middleware, const std::string& authorization, int iterations) {
  http::Request request;
  request.method = http::Method::kPost;
  request.permission = http::Permission::kPredict;
  request.route_pattern = "/v2/models/{name}/infer";
  if (!authorization.empty()) request.headers.Add("Authorization", authorization);
  request.headers.Add("Content-Type", "application/json");
  request.headers.Add("X-MLflow-Workspace", "team-a");
  // Warm the caches, then time.
  for (int i = 0; i < 1000; ++i) {
    request.scope = RequestScope{};
    if (middleware.OnRequest(request)) {
      std::fprintf(stderr, "refused\n");
      std::exit(1);
    }
  }
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) {
    request.scope = RequestScope{};
    if (middleware.OnRequest(request)) std::exit(1);
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  return std::chrono::duration<double, std::nano>(elapsed).count() / iterations;
}

int Main(int iterations) {
  auto stores = metadata::OpenSqliteMetadataStores(":memory:");
  if (!stores.ok()) return 1;
  metadata::SecurityStore& store = *stores->security;
  TokenAuthenticator tokens(store, SystemClock::Get(), {});
  SecurityService security(store, &tokens, nullptr, SystemClock::Get());
  RequestScope root = RequestScope::ForTenant("default", "root");
  if (!security.CreateTenant(root, "team-a", "").ok()) return 1;
  auto token = security.CreateToken(
      root, TokenRequest{.principal = "app", .tenant = "team-a", .roles = {"predictor"}});
  if (!token.ok()) return 1;

  testing::PrivateKey key = testing::GenerateRsaKey();
  auto jwt_key = JwtKey::FromPem(testing::PublicKeyPem(key), "k1");
  if (!jwt_key.ok()) return 1;
  std::vector<JwtKey> keys;
  keys.push_back(std::move(*jwt_key));
  JwtVerifierOptions options;
  options.key_source = std::make_shared<StaticKeySource>(JwtKeySet(std::move(keys)));
  options.issuer = "https://idp.example";
  auto verifier = JwtVerifier::Create(std::move(options));
  if (!verifier.ok()) return 1;
  auto cached = std::make_shared<CachingJwtVerifier>(std::move(*verifier));
  const int64_t exp = SystemClock::Get().NowMillis() / 1000 + 3600;
  std::string jwt = testing::SignToken(
      "RS256", R"({"alg":"RS256","typ":"JWT","kid":"k1"})",
      R"({"sub":"app","iss":"https://idp.example","tenant":"team-a","roles":["predictor"],"exp":)" +
          std::to_string(exp) + "}",
      key);

  AuthMiddleware off(AuthOptions{}, nullptr, nullptr, nullptr, nullptr);
  AuthMiddleware on(AuthOptions{.tokens = true, .jwt = true}, &tokens,
                    MakeJwtBearerVerifier(cached, tokens, SystemClock::Get()), nullptr, nullptr);
  double none_ns = NsPerRequest(off, "", iterations);
  double token_ns = NsPerRequest(on, "Bearer " + token->text, iterations);
  double jwt_ns = NsPerRequest(on, "Bearer " + jwt, iterations);
  std::printf("auth per request (AuthMiddleware::OnRequest, %d iterations, one thread)\n",
              iterations);
  std::printf("  none               %8.0f ns\n", none_ns);
  std::printf("  API token (cached) %8.0f ns   (+%.2f us)\n", token_ns,
              (token_ns - none_ns) / 1000);
  std::printf("  JWT RS256 (cached) %8.0f ns   (+%.2f us)\n", jwt_ns, (jwt_ns - none_ns) / 1000);
  return 0;
}

}  // namespace
}  // namespace cairn::auth

int main(int argc, char** argv) {
  return cairn::auth::Main(argc > 1 ? std::atoi(argv[1]) : 200000);
}
