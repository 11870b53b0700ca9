// What sharing through Redis costs per request, against the in-process equivalents: a rate-limit
// decision (LocalRateLimiter vs RedisRateLimiter, one EVALSHA), and an API token verified on a
// replica whose local cache misses (the security store's read vs the shared cache's lookup).
// Needs CAIRN_TEST_REDIS_URI (scripts/services/redis.sh). Prints ns per call; asserts nothing.
//
//   build/release/src/redis/redis_bench [iterations]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "auth/api_token.h"
#include "auth/rate_limiter.h"
#include "auth/security_service.h"
#include "base/clock.h"
#include "base/ids.h"
#include "metadata/sqlite/sqlite_metadata_backend.h"
#include "redis/redis_rate_limiter.h"
#include "redis/redis_token_cache.h"

namespace cairn::redis {
namespace {

template <typename F>
double NsPerCall(int iterations, F call) {
  for (int i = 0; i < 100; ++i) call();
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) call();
  auto elapsed = std::chrono::steady_clock::now() - start;
  return std::chrono::duration<double, std::nano>(elapsed).count() / iterations;
}

int Main(int iterations) {
  const char* text = std::getenv("CAIRN_TEST_REDIS_URI");
  if (text == nullptr) {
    std::fprintf(stderr, "set CAIRN_TEST_REDIS_URI (scripts/services/redis.sh start DIR)\n");
    return 2;
  }
  auto uri = RedisUri::Parse(text);
  if (!uri.ok()) return 2;
  RedisClient client(*uri, RedisOptions{});
  metadata::RateLimitRecord defaults;
  defaults.control_rate = 1e9;
  defaults.control_burst = 1e9;
  auth::LocalRateLimiter local(SystemClock::Get(), defaults);
  RedisRateLimiter shared(client, SystemClock::Get(), defaults, nullptr,
                          "cairn:bench:" + IdGenerator::Default().Hex32() + ":");
  std::printf("rate limit, in-process:        %9.0f ns\n", NsPerCall(iterations, [&] {
                local.Acquire("team-a", auth::RequestClass::kControl);
              }));
  std::printf("rate limit, Redis:             %9.0f ns\n", NsPerCall(iterations, [&] {
                shared.Acquire("team-a", auth::RequestClass::kControl);
              }));
  if (shared.fallbacks() != 0) std::printf("  (%lld fell back)\n", (long long)shared.fallbacks());

  auto stores = metadata::OpenSqliteMetadataStores(":memory:");
  if (!stores.ok()) return 1;
  auth::TokenAuthenticator tokens(*stores->security, SystemClock::Get(), {});
  auth::SecurityService security(*stores->security, &tokens, nullptr, SystemClock::Get());
  RequestScope root = RequestScope::ForTenant("default", "root");
  if (!security.CreateTenant(root, "team-a", "").ok()) return 1;
  auto token = security.CreateToken(root, auth::TokenRequest{"bench", "team-a", {"viewer"}});
  if (!token.ok()) return 1;
  RedisTokenCache cache(client, "bench", "cairn:bench:" + IdGenerator::Default().Hex32() + ":");
  auth::TokenAuthenticator with_cache(*stores->security, SystemClock::Get(), {});
  with_cache.SetSharedCache(&cache);
  if (!with_cache.Authenticate(token->text).ok()) return 1;  // shared now
  std::printf("token, local miss, store read: %9.0f ns\n", NsPerCall(iterations, [&] {
                tokens.DropLocal();
                if (!tokens.Authenticate(token->text).ok()) std::exit(1);
              }));
  std::printf("token, local miss, Redis hit:  %9.0f ns\n", NsPerCall(iterations, [&] {
                with_cache.DropLocal();
                if (!with_cache.Authenticate(token->text).ok()) std::exit(1);
              }));
  return 0;
}

}  // namespace
}  // namespace cairn::redis

int main(int argc, char** argv) {
  return cairn::redis::Main(argc > 1 ? std::atoi(argv[1]) : 20000);
}
