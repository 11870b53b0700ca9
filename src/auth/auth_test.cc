#include <gtest/gtest.h>

#include <set>

#include "auth/api_token.h"
#include "auth/auth_middleware.h"
#include "auth/rate_limiter.h"
#include "auth/roles.h"
#include "auth/security_service.h"
#include "base/clock.h"
#include "base/status_testing.h"
#include "metadata/sqlite/sqlite_metadata_backend.h"

namespace cairn::auth {
namespace {

using http::Permission;

TEST(RolesTest, EachRoleGrantsExactlyItsPermissions) {
  struct Row {
    std::string_view role;
    std::set<Permission> grants;
  };
  const Row rows[] = {
      {"viewer", {Permission::kRead}},
      {"editor", {Permission::kRead, Permission::kWrite}},
      {"deployer", {Permission::kRead, Permission::kDeploy}},
      {"predictor", {Permission::kPredict}},
      {"admin",
       {Permission::kRead, Permission::kWrite, Permission::kDeploy, Permission::kPredict,
        Permission::kAdmin}},
  };
  for (const Row& row : rows) {
    for (Permission p : {Permission::kRead, Permission::kWrite, Permission::kDeploy,
                         Permission::kPredict, Permission::kAdmin, Permission::kServerRead,
                         Permission::kServerAdmin, Permission::kUnset}) {
      EXPECT_EQ(RoleGrants(row.role, p), row.grants.count(p) == 1)
          << row.role << " " << http::PermissionName(p);
    }
  }
  EXPECT_FALSE(RoleGrants("owner", Permission::kRead));
  EXPECT_FALSE(IsKnownRole("Admin"));
}

TEST(RolesTest, GrantsApplyInTheirTenantOrEverywhereThroughStar) {
  std::vector<RoleGrant> grants = {{"team-a", "editor"}, {"*", "viewer"}};
  EXPECT_TRUE(Allows(grants, "team-a", Permission::kWrite));
  EXPECT_FALSE(Allows(grants, "team-b", Permission::kWrite));
  EXPECT_TRUE(Allows(grants, "team-b", Permission::kRead));
  EXPECT_TRUE(Allows(grants, "any", Permission::kServerRead));
  EXPECT_FALSE(Allows(grants, "any", Permission::kServerAdmin));
  EXPECT_EQ(RolesIn(grants, "team-a"), (std::vector<std::string>{"viewer", "editor"}));
  EXPECT_EQ(RolesIn(grants, "team-b"), (std::vector<std::string>{"viewer"}));

  std::vector<RoleGrant> tenant_admin = {{"team-a", "admin"}};
  EXPECT_TRUE(Allows(tenant_admin, "team-a", Permission::kAdmin));
  EXPECT_FALSE(Allows(tenant_admin, "team-b", Permission::kRead));
  EXPECT_FALSE(Allows(tenant_admin, "team-a", Permission::kServerAdmin));
  EXPECT_FALSE(Allows(tenant_admin, "team-a", Permission::kServerRead));
  EXPECT_FALSE(Allows(tenant_admin, "team-a", Permission::kUnset));
  EXPECT_TRUE(HoldsAnyRoleIn(tenant_admin, "team-a"));
  EXPECT_FALSE(HoldsAnyRoleIn(tenant_admin, "team-b"));

  std::vector<RoleGrant> server_admin = {{"*", "admin"}};
  EXPECT_TRUE(Allows(server_admin, "whatever", Permission::kServerAdmin));
  EXPECT_TRUE(Allows(server_admin, "whatever", Permission::kPredict));
}

TEST(ApiTokenTest, GeneratedTokensParseAndHashTheirSecret) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK_AND_ASSIGN(NewToken token, GenerateToken());
    EXPECT_TRUE(seen.insert(token.text).second);
    auto parts = ParseTokenText(token.text);
    ASSERT_TRUE(parts.has_value()) << token.text;
    EXPECT_EQ(parts->id, token.id);
    EXPECT_EQ(Sha256Hex(parts->secret), token.secret_hash);
    EXPECT_EQ(token.text.find(token.secret_hash), std::string::npos);
  }
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ApiTokenTest, MalformedTokenTextIsRejected) {
  ASSERT_OK_AND_ASSIGN(NewToken token, GenerateToken());
  std::string good = token.text;
  EXPECT_FALSE(ParseTokenText("").has_value());
  EXPECT_FALSE(ParseTokenText("cairn_").has_value());
  EXPECT_FALSE(ParseTokenText(good.substr(0, good.size() - 1)).has_value());
  EXPECT_FALSE(ParseTokenText(good + "A").has_value());
  std::string upper_id = good;
  upper_id[6] = 'A';
  EXPECT_FALSE(ParseTokenText(upper_id).has_value());
  std::string bad_secret = good;
  bad_secret.back() = '=';
  EXPECT_FALSE(ParseTokenText(bad_secret).has_value());
  std::string no_separator = good;
  no_separator[6 + 16] = '-';
  EXPECT_FALSE(ParseTokenText(no_separator).has_value());
  EXPECT_FALSE(ParseTokenText("Cairn" + good.substr(5)).has_value());
}

TEST(RateLimiterTest, BucketEmptiesThenRefillsAtTheRate) {
  ManualClock clock(1'000'000);
  LocalRateLimiter limiter(clock, metadata::RateLimitRecord{});
  limiter.SetLimits({metadata::RateLimitRecord{"a", 2, 4, 0, 0, 0}});
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(limiter.Acquire("a", RequestClass::kControl).allowed);
  RateDecision refused = limiter.Acquire("a", RequestClass::kControl);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_s, 1);
  clock.AdvanceMillis(500);  // one token back at 2/s
  EXPECT_TRUE(limiter.Acquire("a", RequestClass::kControl).allowed);
  EXPECT_FALSE(limiter.Acquire("a", RequestClass::kControl).allowed);
  clock.AdvanceMillis(60'000);  // capped at the burst
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(limiter.Acquire("a", RequestClass::kControl).allowed);
  EXPECT_FALSE(limiter.Acquire("a", RequestClass::kControl).allowed);
}

TEST(RateLimiterTest, TenantsAndClassesHaveSeparateBudgets) {
  ManualClock clock(1'000'000);
  LocalRateLimiter limiter(clock, metadata::RateLimitRecord{"", 1, 1, 0, 0, 0});
  EXPECT_TRUE(limiter.Acquire("a", RequestClass::kControl).allowed);
  EXPECT_FALSE(limiter.Acquire("a", RequestClass::kControl).allowed);
  // Another tenant has its own bucket; predictions are unlimited by default.
  EXPECT_TRUE(limiter.Acquire("b", RequestClass::kControl).allowed);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_TRUE(limiter.Acquire("a", RequestClass::kPredict).allowed);
  }
  // A slow rate answers a Retry-After of several seconds.
  limiter.SetLimits({metadata::RateLimitRecord{"c", 0.1, 1, 0, 0, 0}});
  EXPECT_TRUE(limiter.Acquire("c", RequestClass::kControl).allowed);
  EXPECT_EQ(limiter.Acquire("c", RequestClass::kControl).retry_after_s, 10);
  // New limits apply at once, with a full bucket.
  limiter.SetLimits({metadata::RateLimitRecord{"a", 0, 0, 0, 0, 0}});
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(limiter.Acquire("a", RequestClass::kControl).allowed);
  }
}

class AuthMiddlewareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto stores = metadata::OpenSqliteMetadataStores(":memory:");
    ASSERT_TRUE(stores.ok()) << stores.status().ToString();
    stores_ = std::move(*stores);
    tokens_ = std::make_unique<TokenAuthenticator>(*stores_.security, clock_,
                                                   TokenAuthenticator::Options{});
    limiter_ = std::make_unique<LocalRateLimiter>(clock_, metadata::RateLimitRecord{});
    security_ =
        std::make_unique<SecurityService>(*stores_.security, tokens_.get(), limiter_.get(), clock_);
    for (const char* tenant : {"a", "b"}) ASSERT_OK(security_->CreateTenant(root_, tenant, ""));
    middleware_ = std::make_unique<AuthMiddleware>(AuthOptions{.tokens = true}, tokens_.get(),
                                                   nullptr, limiter_.get(), nullptr);
  }

  std::string Token(std::string principal, std::string tenant, std::vector<std::string> roles,
                    std::optional<int64_t> expires_in = std::nullopt) {
    auto created = security_->CreateToken(
        root_, TokenRequest{std::move(principal), std::move(tenant), std::move(roles), expires_in});
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? created->text : "";
  }

  // The status OnRequest answers (200 when it lets the request through).
  int Run(Permission permission, const std::string& authorization,
          const std::string& workspace = "", http::Request* out = nullptr) {
    http::Request request;
    request.permission = permission;
    request.route_pattern = "/x";
    if (!authorization.empty()) request.headers.Add("Authorization", authorization);
    if (!workspace.empty()) request.headers.Add("X-MLflow-Workspace", workspace);
    std::optional<http::Response> answer = middleware_->OnRequest(request);
    if (out != nullptr) *out = request;
    if (answer && answer->status == 401) {
      EXPECT_TRUE(answer->headers.Get("WWW-Authenticate").has_value());
    }
    return answer ? answer->status : 200;
  }

  ManualClock clock_{1'700'000'000'000};
  RequestScope root_ = RequestScope::ForTenant("default", "root");
  metadata::MetadataStores stores_;
  std::unique_ptr<TokenAuthenticator> tokens_;
  std::unique_ptr<LocalRateLimiter> limiter_;
  std::unique_ptr<SecurityService> security_;
  std::unique_ptr<AuthMiddleware> middleware_;
};

std::string Basic(std::string_view user, std::string_view password) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string in = std::string(user) + ":" + std::string(password);
  std::string out;
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (in.size() - i == 1) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += std::string{kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], '=', '='};
  } else if (in.size() - i == 2) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += std::string{kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63],
                       kAlphabet[(v >> 6) & 63], '='};
  }
  return "Basic " + out;
}

TEST_F(AuthMiddlewareTest, TokensAuthenticateAndRolesDecide) {
  std::string viewer = Token("v", "a", {"viewer"});
  http::Request seen;
  EXPECT_EQ(Run(Permission::kRead, "Bearer " + viewer, "", &seen), 200);
  EXPECT_EQ(seen.scope.principal, "v");
  EXPECT_EQ(seen.scope.tenant, "a");
  EXPECT_EQ(seen.scope.roles, std::vector<std::string>{"viewer"});
  EXPECT_EQ(Run(Permission::kWrite, "Bearer " + viewer), 403);
  EXPECT_EQ(Run(Permission::kRead, "Bearer " + viewer, "B"), 403);  // another tenant
  EXPECT_EQ(Run(Permission::kAuthenticated, "Bearer " + viewer, "b"), 200);
  EXPECT_EQ(Run(Permission::kPublic, ""), 200);
  EXPECT_EQ(Run(Permission::kRead, ""), 401);
  EXPECT_EQ(Run(Permission::kRead, "Bearer " + viewer + "x"), 401);
  EXPECT_EQ(Run(Permission::kRead, "Token " + viewer), 401);
  EXPECT_EQ(Run(Permission::kRead, "Bearer"), 401);
  // An unrouted request passes to its 404 without credentials.
  EXPECT_EQ(Run(Permission::kUnset, ""), 200);
  // A malformed workspace is a 400 before anything else.
  EXPECT_EQ(Run(Permission::kRead, "Bearer " + viewer, "bad name"), 400);
}

TEST_F(AuthMiddlewareTest, BasicAuthNeedsTheTokensPrincipal) {
  std::string editor = Token("ed", "a", {"editor"});
  EXPECT_EQ(Run(Permission::kWrite, Basic("ed", editor)), 200);
  EXPECT_EQ(Run(Permission::kWrite, Basic("someone", editor)), 401);
  EXPECT_EQ(Run(Permission::kWrite, Basic("ed", "password")), 401);
  EXPECT_EQ(Run(Permission::kWrite, "Basic !!!!"), 401);
}

TEST_F(AuthMiddlewareTest, RevokedExpiredAndDisabledCredentialsAreRefusedAtOnce) {
  std::string token = Token("p", "a", {"viewer"}, 60);
  EXPECT_EQ(Run(Permission::kRead, "Bearer " + token), 200);
  clock_.AdvanceMillis(61'000);
  EXPECT_EQ(Run(Permission::kRead, "Bearer " + token), 401);

  std::string other = Token("q", "a", {"viewer"});
  EXPECT_EQ(Run(Permission::kRead, "Bearer " + other), 200);
  std::string id(ParseTokenText(other)->id);
  ASSERT_OK(security_->RevokeToken(root_, id).status());
  EXPECT_EQ(Run(Permission::kRead, "Bearer " + other), 401);

  std::string third = Token("r", "a", {"viewer"});
  EXPECT_EQ(Run(Permission::kRead, "Bearer " + third), 200);
  ASSERT_OK(security_->PutPrincipal(root_, "r", "", true));
  EXPECT_EQ(Run(Permission::kRead, "Bearer " + third), 401);
}

TEST_F(AuthMiddlewareTest, StoredBindingsAddTenantsAndServerRoles) {
  std::string token = Token("multi", "a", {"viewer"});
  EXPECT_EQ(Run(Permission::kWrite, "Bearer " + token, "b"), 403);
  ASSERT_OK(security_->AddRoleBinding(root_, "multi", "b", "editor"));
  EXPECT_EQ(Run(Permission::kWrite, "Bearer " + token, "b"), 200);
  EXPECT_EQ(Run(Permission::kServerAdmin, "Bearer " + token), 403);
  ASSERT_OK(security_->AddRoleBinding(root_, "multi", "*", "admin"));
  EXPECT_EQ(Run(Permission::kServerAdmin, "Bearer " + token), 200);
  EXPECT_EQ(Run(Permission::kPredict, "Bearer " + token, "b"), 200);
}

TEST_F(AuthMiddlewareTest, RateLimitsAnswer429WithRetryAfterPerTenant) {
  std::string a = Token("a-app", "a", {"admin"});
  std::string b = Token("b-app", "b", {"admin"});
  ASSERT_OK(security_->PutRateLimit(metadata::RateLimitRecord{"a", 1, 2, 0, 0, 0}));
  EXPECT_EQ(Run(Permission::kRead, "Bearer " + a), 200);
  EXPECT_EQ(Run(Permission::kRead, "Bearer " + a), 200);
  http::Request request;
  request.permission = Permission::kRead;
  request.route_pattern = "/x";
  request.headers.Add("Authorization", "Bearer " + a);
  std::optional<http::Response> refused = middleware_->OnRequest(request);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 429);
  EXPECT_EQ(refused->headers.Get("Retry-After"), "1");
  EXPECT_EQ(Run(Permission::kPredict, "Bearer " + a), 200);  // predictions: their own budget
  EXPECT_EQ(Run(Permission::kRead, "Bearer " + b), 200);     // another tenant: unaffected
  clock_.AdvanceMillis(1000);
  EXPECT_EQ(Run(Permission::kRead, "Bearer " + a), 200);
}

TEST_F(AuthMiddlewareTest, WithAuthenticationOffTheWorkspaceHeaderPicksTheTenant) {
  AuthMiddleware off(AuthOptions{}, nullptr, nullptr, nullptr, nullptr);
  http::Request request;
  request.permission = Permission::kAdmin;
  request.headers.Add("X-MLflow-Workspace", "Team-B");
  EXPECT_FALSE(off.OnRequest(request).has_value());
  EXPECT_EQ(request.scope.tenant, "team-b");
  EXPECT_EQ(request.scope.principal, "anonymous");
  EXPECT_EQ(request.scope.grants, nullptr);
}

}  // namespace
}  // namespace cairn::auth
