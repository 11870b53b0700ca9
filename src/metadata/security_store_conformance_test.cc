// The SecurityStore conformance suite: every backend must pass it (backends in
// metadata_store_test_backends.h).

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "metadata/metadata_store_test_backends.h"
#include "metadata/security_store.h"

namespace cairn::metadata {
namespace {

using testing_util::BackendName;

// Every field, so a test compares whole records.
auto Fields(const ApiTokenRecord& t) {
  return std::tie(t.id, t.secret_hash, t.principal, t.tenant, t.roles, t.description, t.created_by,
                  t.created_at_ms, t.expires_at_ms, t.revoked_at_ms);
}

std::vector<std::string> Names(const std::vector<TenantRecord>& tenants) {
  std::vector<std::string> out;
  for (const TenantRecord& t : tenants) out.push_back(t.name);
  return out;
}

// "principal/tenant/role" per binding, in the order listed.
std::vector<std::string> Keys(const std::vector<RoleBinding>& bindings) {
  std::vector<std::string> out;
  for (const RoleBinding& b : bindings) out.push_back(b.principal + "/" + b.tenant + "/" + b.role);
  return out;
}

std::vector<std::string> Ids(const std::vector<ApiTokenRecord>& tokens) {
  std::vector<std::string> out;
  for (const ApiTokenRecord& t : tokens) out.push_back(t.id);
  return out;
}

PrincipalRecord Principal(std::string name, int64_t at = 100) {
  return PrincipalRecord{.name = std::move(name), .created_at_ms = at, .updated_at_ms = at};
}

RoleBinding Binding(std::string principal, std::string tenant, std::string role, int64_t at = 100) {
  return RoleBinding{.principal = std::move(principal),
                     .tenant = std::move(tenant),
                     .role = std::move(role),
                     .created_by = "root",
                     .created_at_ms = at};
}

ApiTokenRecord Token(std::string id, std::string principal, std::string tenant,
                     int64_t created = 1000) {
  return ApiTokenRecord{.id = std::move(id),
                        .secret_hash = std::string(64, 'a'),
                        .principal = std::move(principal),
                        .tenant = std::move(tenant),
                        .roles = {"viewer", "predictor"},
                        .description = "ci",
                        .created_by = "root",
                        .created_at_ms = created,
                        .expires_at_ms = created + 3600000};
}

class SecurityStoreConformanceTest : public testing_util::StoreConformanceTest {
 protected:
  // Tenants acme and globex; principals alice, bob and ci (a service).
  void Seed() {
    ASSERT_OK(security().CreateTenant({.name = "acme", .created_at_ms = 1}));
    ASSERT_OK(security().CreateTenant({.name = "globex", .created_at_ms = 2}));
    ASSERT_OK(security().PutPrincipal(Principal("alice")));
    ASSERT_OK(security().PutPrincipal(Principal("bob")));
    PrincipalRecord ci = Principal("ci");
    ci.kind = "service";
    ASSERT_OK(security().PutPrincipal(ci));
  }
};

TEST_P(SecurityStoreConformanceTest, TenantsAreUniqueAndListedByName) {
  ASSERT_OK(
      security().CreateTenant({.name = "globex", .description = "second", .created_at_ms = 20}));
  ASSERT_OK(security().CreateTenant({.name = "acme", .description = "first", .created_at_ms = 10}));
  ASSERT_OK(security().CreateTenant({.name = "default", .created_at_ms = 30}));
  ASSERT_OK_AND_ASSIGN(TenantRecord acme, security().GetTenant("acme"));
  EXPECT_EQ(acme.description, "first");
  EXPECT_EQ(acme.created_at_ms, 10);
  ASSERT_OK_AND_ASSIGN(auto all, security().ListTenants());
  EXPECT_EQ(Names(all), (std::vector<std::string>{"acme", "default", "globex"}));

  EXPECT_EQ(security().CreateTenant({.name = "acme", .description = "again"}).code(),
            StatusCode::kAlreadyExists);
  ASSERT_OK_AND_ASSIGN(TenantRecord kept, security().GetTenant("acme"));
  EXPECT_EQ(kept.description, "first");
  EXPECT_EQ(security().GetTenant("initech").status().code(), StatusCode::kNotFound);
}

TEST_P(SecurityStoreConformanceTest, StarIsNeverATenant) {
  EXPECT_EQ(security().CreateTenant({.name = "*"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(security().GetTenant("*").status().code(), StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto all, security().ListTenants());
  EXPECT_TRUE(all.empty());
}

TEST_P(SecurityStoreConformanceTest, PutPrincipalCreatesThenUpdatesKeepingCreatedAt) {
  ASSERT_OK(security().PutPrincipal(Principal("zed", 100)));
  ASSERT_OK(security().PutPrincipal(Principal("amy", 150)));
  ASSERT_OK_AND_ASSIGN(PrincipalRecord created, security().GetPrincipal("zed"));
  EXPECT_EQ(created.kind, "user");
  EXPECT_FALSE(created.disabled);
  EXPECT_EQ(created.created_at_ms, 100);
  EXPECT_EQ(created.updated_at_ms, 100);

  PrincipalRecord update{.name = "zed",
                         .kind = "service",
                         .disabled = true,
                         .created_at_ms = 999,  // ignored: the first creation time stays
                         .updated_at_ms = 500};
  ASSERT_OK(security().PutPrincipal(update));
  ASSERT_OK_AND_ASSIGN(PrincipalRecord updated, security().GetPrincipal("zed"));
  EXPECT_EQ(updated.kind, "service");
  EXPECT_TRUE(updated.disabled);
  EXPECT_EQ(updated.created_at_ms, 100);
  EXPECT_EQ(updated.updated_at_ms, 500);

  update.disabled = false;
  update.updated_at_ms = 600;
  ASSERT_OK(security().PutPrincipal(update));
  ASSERT_OK_AND_ASSIGN(PrincipalRecord enabled, security().GetPrincipal("zed"));
  EXPECT_FALSE(enabled.disabled);

  ASSERT_OK_AND_ASSIGN(auto all, security().ListPrincipals());
  ASSERT_EQ(all.size(), 2U);
  EXPECT_EQ(all[0].name, "amy");
  EXPECT_EQ(all[1].name, "zed");
  EXPECT_EQ(security().GetPrincipal("nobody").status().code(), StatusCode::kNotFound);
}

TEST_P(SecurityStoreConformanceTest, RoleBindingsAreIdempotentSortedAndFiltered) {
  Seed();
  ASSERT_OK(security().AddRoleBinding(Binding("bob", "globex", "viewer")));
  ASSERT_OK(security().AddRoleBinding(Binding("alice", "globex", "editor")));
  ASSERT_OK(security().AddRoleBinding(Binding("alice", "acme", "viewer")));
  ASSERT_OK(security().AddRoleBinding(Binding("alice", "acme", "admin")));
  ASSERT_OK(security().AddRoleBinding(Binding("bob", "*", "admin")));
  // Adding it again keeps the first record.
  RoleBinding again = Binding("alice", "acme", "admin", 900);
  again.created_by = "someone-else";
  ASSERT_OK(security().AddRoleBinding(again));

  ASSERT_OK_AND_ASSIGN(auto all, security().ListRoleBindings(std::nullopt, std::nullopt));
  EXPECT_EQ(Keys(all),
            (std::vector<std::string>{"alice/acme/admin", "alice/acme/viewer",
                                      "alice/globex/editor", "bob/*/admin", "bob/globex/viewer"}));
  EXPECT_EQ(all[0].created_by, "root");
  EXPECT_EQ(all[0].created_at_ms, 100);

  ASSERT_OK_AND_ASSIGN(auto alice, security().ListRoleBindings("alice", std::nullopt));
  EXPECT_EQ(Keys(alice), (std::vector<std::string>{"alice/acme/admin", "alice/acme/viewer",
                                                   "alice/globex/editor"}));
  // A tenant filter matches the stored tenant exactly: "*" bindings are not listed under acme.
  ASSERT_OK_AND_ASSIGN(auto globex, security().ListRoleBindings(std::nullopt, "globex"));
  EXPECT_EQ(Keys(globex), (std::vector<std::string>{"alice/globex/editor", "bob/globex/viewer"}));
  ASSERT_OK_AND_ASSIGN(auto star, security().ListRoleBindings(std::nullopt, "*"));
  EXPECT_EQ(Keys(star), std::vector<std::string>{"bob/*/admin"});
  ASSERT_OK_AND_ASSIGN(auto both, security().ListRoleBindings("bob", "globex"));
  EXPECT_EQ(Keys(both), std::vector<std::string>{"bob/globex/viewer"});
  ASSERT_OK_AND_ASSIGN(auto none, security().ListRoleBindings("ci", std::nullopt));
  EXPECT_TRUE(none.empty());
}

TEST_P(SecurityStoreConformanceTest, RoleBindingNeedsAStoredTenantAndPrincipal) {
  Seed();
  EXPECT_EQ(security().AddRoleBinding(Binding("alice", "initech", "viewer")).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(security().AddRoleBinding(Binding("mallory", "acme", "viewer")).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(security().AddRoleBinding(Binding("mallory", "*", "admin")).code(),
            StatusCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(auto all, security().ListRoleBindings(std::nullopt, std::nullopt));
  EXPECT_TRUE(all.empty());
}

TEST_P(SecurityStoreConformanceTest, RemoveRoleBindingRemovesOnlyThatBinding) {
  Seed();
  ASSERT_OK(security().AddRoleBinding(Binding("alice", "acme", "viewer")));
  ASSERT_OK(security().AddRoleBinding(Binding("alice", "acme", "editor")));
  ASSERT_OK(security().AddRoleBinding(Binding("alice", "*", "viewer")));
  EXPECT_EQ(security().RemoveRoleBinding("alice", "globex", "viewer").code(),
            StatusCode::kNotFound);
  EXPECT_EQ(security().RemoveRoleBinding("nobody", "acme", "viewer").code(), StatusCode::kNotFound);
  ASSERT_OK(security().RemoveRoleBinding("alice", "acme", "viewer"));
  EXPECT_EQ(security().RemoveRoleBinding("alice", "acme", "viewer").code(), StatusCode::kNotFound);
  ASSERT_OK(security().RemoveRoleBinding("alice", "*", "viewer"));
  ASSERT_OK_AND_ASSIGN(auto left, security().ListRoleBindings(std::nullopt, std::nullopt));
  EXPECT_EQ(Keys(left), std::vector<std::string>{"alice/acme/editor"});
  // Removed bindings can be added again.
  EXPECT_OK(security().AddRoleBinding(Binding("alice", "acme", "viewer")));
}

TEST_P(SecurityStoreConformanceTest, TokensRoundTripEveryField) {
  Seed();
  ApiTokenRecord token = Token("tok-1", "ci", "acme");
  token.revoked_at_ms = 0;
  ASSERT_OK(security().CreateToken(token));
  ASSERT_OK_AND_ASSIGN(ApiTokenRecord got, security().GetToken("tok-1"));
  EXPECT_EQ(Fields(got), Fields(token));

  ApiTokenRecord no_roles = Token("tok-2", "alice", "*");
  no_roles.roles.clear();
  no_roles.expires_at_ms = 0;
  ASSERT_OK(security().CreateToken(no_roles));
  ASSERT_OK_AND_ASSIGN(ApiTokenRecord empty, security().GetToken("tok-2"));
  EXPECT_TRUE(empty.roles.empty());
  EXPECT_EQ(empty.tenant, "*");
  EXPECT_EQ(empty.expires_at_ms, 0);

  // Roles are opaque text to the store: order, duplicates and any characters survive.
  ApiTokenRecord odd = Token("tok-3", "bob", "globex");
  odd.roles = {"admin", "quote\"and\\backslash", "caf\xc3\xa9", "", "admin"};
  odd.description = "with \"json\" [1,2]";
  ASSERT_OK(security().CreateToken(odd));
  ASSERT_OK_AND_ASSIGN(ApiTokenRecord odd_got, security().GetToken("tok-3"));
  EXPECT_EQ(Fields(odd_got), Fields(odd));
  EXPECT_EQ(security().GetToken("tok-404").status().code(), StatusCode::kNotFound);
}

TEST_P(SecurityStoreConformanceTest, CreateTokenChecksIdTenantAndPrincipal) {
  Seed();
  ASSERT_OK(security().CreateToken(Token("tok-1", "alice", "acme")));
  ApiTokenRecord duplicate = Token("tok-1", "bob", "globex");
  EXPECT_EQ(security().CreateToken(duplicate).code(), StatusCode::kAlreadyExists);
  ASSERT_OK_AND_ASSIGN(ApiTokenRecord kept, security().GetToken("tok-1"));
  EXPECT_EQ(kept.principal, "alice");

  EXPECT_EQ(security().CreateToken(Token("tok-2", "alice", "initech")).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(security().CreateToken(Token("tok-3", "mallory", "acme")).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(security().CreateToken(Token("tok-4", "mallory", "*")).code(),
            StatusCode::kInvalidArgument);
  EXPECT_OK(security().CreateToken(Token("tok-5", "bob", "*")));
  ASSERT_OK_AND_ASSIGN(auto all, security().ListTokens(std::nullopt, std::nullopt));
  EXPECT_EQ(Ids(all), (std::vector<std::string>{"tok-1", "tok-5"}));
}

TEST_P(SecurityStoreConformanceTest, ListTokensNewestFirstFilteredWithRevoked) {
  Seed();
  ASSERT_OK(security().CreateToken(Token("tok-a", "alice", "acme", 3000)));
  ASSERT_OK(security().CreateToken(Token("tok-b", "alice", "globex", 1000)));
  ASSERT_OK(security().CreateToken(Token("tok-c", "bob", "acme", 2000)));
  ASSERT_OK(security().CreateToken(Token("tok-d", "ci", "*", 4000)));
  ASSERT_OK(security().CreateToken(Token("tok-e", "alice", "acme", 500)));
  ASSERT_OK(security().RevokeToken("tok-c", 2500).status());

  ASSERT_OK_AND_ASSIGN(auto all, security().ListTokens(std::nullopt, std::nullopt));
  EXPECT_EQ(Ids(all), (std::vector<std::string>{"tok-d", "tok-a", "tok-c", "tok-b", "tok-e"}));
  ASSERT_OK_AND_ASSIGN(auto acme, security().ListTokens("acme", std::nullopt));
  EXPECT_EQ(Ids(acme), (std::vector<std::string>{"tok-a", "tok-c", "tok-e"}));
  EXPECT_EQ(acme[1].revoked_at_ms, 2500);
  ASSERT_OK_AND_ASSIGN(auto alice, security().ListTokens(std::nullopt, "alice"));
  EXPECT_EQ(Ids(alice), (std::vector<std::string>{"tok-a", "tok-b", "tok-e"}));
  ASSERT_OK_AND_ASSIGN(auto alice_acme, security().ListTokens("acme", "alice"));
  EXPECT_EQ(Ids(alice_acme), (std::vector<std::string>{"tok-a", "tok-e"}));
  ASSERT_OK_AND_ASSIGN(auto star, security().ListTokens("*", std::nullopt));
  EXPECT_EQ(Ids(star), std::vector<std::string>{"tok-d"});
  ASSERT_OK_AND_ASSIGN(auto none, security().ListTokens("initech", std::nullopt));
  EXPECT_TRUE(none.empty());
  ASSERT_EQ(all[0].roles, (std::vector<std::string>{"viewer", "predictor"}));
}

TEST_P(SecurityStoreConformanceTest, RevokeTokenKeepsTheFirstRevocationTime) {
  Seed();
  ASSERT_OK(security().CreateToken(Token("tok-1", "alice", "acme")));
  ASSERT_OK_AND_ASSIGN(ApiTokenRecord first, security().RevokeToken("tok-1", 5000));
  EXPECT_EQ(first.revoked_at_ms, 5000);
  EXPECT_EQ(first.principal, "alice");
  EXPECT_EQ(first.roles, (std::vector<std::string>{"viewer", "predictor"}));
  ASSERT_OK_AND_ASSIGN(ApiTokenRecord second, security().RevokeToken("tok-1", 9000));
  EXPECT_EQ(second.revoked_at_ms, 5000);
  ASSERT_OK_AND_ASSIGN(ApiTokenRecord got, security().GetToken("tok-1"));
  EXPECT_EQ(got.revoked_at_ms, 5000);
  EXPECT_EQ(security().RevokeToken("tok-404", 1).status().code(), StatusCode::kNotFound);
}

TEST_P(SecurityStoreConformanceTest, RateLimitsAreReplacedListedAndDeleted) {
  Seed();
  ASSERT_OK(security().PutRateLimit({.tenant = "globex",
                                     .control_rate = 5,
                                     .control_burst = 10,
                                     .predict_rate = 0,
                                     .predict_burst = 0,
                                     .updated_at_ms = 1}));
  ASSERT_OK(security().PutRateLimit({.tenant = "acme",
                                     .control_rate = 1.5,
                                     .control_burst = 3,
                                     .predict_rate = 100,
                                     .predict_burst = 250.25,
                                     .updated_at_ms = 2}));
  // Replaced whole: every field takes the new value.
  ASSERT_OK(security().PutRateLimit({.tenant = "globex",
                                     .control_rate = 0,
                                     .control_burst = 0,
                                     .predict_rate = 7,
                                     .predict_burst = 14,
                                     .updated_at_ms = 3}));
  ASSERT_OK_AND_ASSIGN(auto limits, security().ListRateLimits());
  ASSERT_EQ(limits.size(), 2U);
  EXPECT_EQ(limits[0].tenant, "acme");
  EXPECT_DOUBLE_EQ(limits[0].control_rate, 1.5);
  EXPECT_DOUBLE_EQ(limits[0].control_burst, 3);
  EXPECT_DOUBLE_EQ(limits[0].predict_rate, 100);
  EXPECT_DOUBLE_EQ(limits[0].predict_burst, 250.25);
  EXPECT_EQ(limits[0].updated_at_ms, 2);
  EXPECT_EQ(limits[1].tenant, "globex");
  EXPECT_DOUBLE_EQ(limits[1].control_rate, 0);
  EXPECT_DOUBLE_EQ(limits[1].control_burst, 0);
  EXPECT_DOUBLE_EQ(limits[1].predict_rate, 7);
  EXPECT_DOUBLE_EQ(limits[1].predict_burst, 14);
  EXPECT_EQ(limits[1].updated_at_ms, 3);

  ASSERT_OK(security().DeleteRateLimit("globex"));
  EXPECT_EQ(security().DeleteRateLimit("globex").code(), StatusCode::kNotFound);
  EXPECT_EQ(security().DeleteRateLimit("initech").code(), StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto left, security().ListRateLimits());
  ASSERT_EQ(left.size(), 1U);
  EXPECT_EQ(left[0].tenant, "acme");
}

TEST_P(SecurityStoreConformanceTest, RateLimitNeedsAStoredTenant) {
  Seed();
  EXPECT_EQ(security().PutRateLimit({.tenant = "initech", .control_rate = 1}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(security().PutRateLimit({.tenant = "*", .control_rate = 1}).code(),
            StatusCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(auto limits, security().ListRateLimits());
  EXPECT_TRUE(limits.empty());
}

TEST_P(SecurityStoreConformanceTest, EverythingSurvivesReopen) {
  Seed();
  ASSERT_OK(security().AddRoleBinding(Binding("alice", "acme", "admin")));
  ASSERT_OK(security().AddRoleBinding(Binding("bob", "*", "viewer")));
  ApiTokenRecord token = Token("tok-1", "ci", "acme");
  ASSERT_OK(security().CreateToken(token));
  ASSERT_OK(security().RevokeToken("tok-1", 7000).status());
  ASSERT_OK(security().PutRateLimit({.tenant = "acme", .predict_rate = 9, .updated_at_ms = 4}));
  Reopen();

  ASSERT_OK_AND_ASSIGN(auto tenants, security().ListTenants());
  EXPECT_EQ(Names(tenants), (std::vector<std::string>{"acme", "globex"}));
  ASSERT_OK_AND_ASSIGN(PrincipalRecord ci, security().GetPrincipal("ci"));
  EXPECT_EQ(ci.kind, "service");
  ASSERT_OK_AND_ASSIGN(auto bindings, security().ListRoleBindings(std::nullopt, std::nullopt));
  EXPECT_EQ(Keys(bindings), (std::vector<std::string>{"alice/acme/admin", "bob/*/viewer"}));
  ASSERT_OK_AND_ASSIGN(ApiTokenRecord got, security().GetToken("tok-1"));
  token.revoked_at_ms = 7000;
  EXPECT_EQ(Fields(got), Fields(token));
  ASSERT_OK_AND_ASSIGN(auto limits, security().ListRateLimits());
  ASSERT_EQ(limits.size(), 1U);
  EXPECT_DOUBLE_EQ(limits[0].predict_rate, 9);
  // The uniqueness rules hold across the reopen too.
  EXPECT_EQ(security().CreateTenant({.name = "acme"}).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(security().CreateToken(token).code(), StatusCode::kAlreadyExists);
}

TEST_P(SecurityStoreConformanceTest, ConcurrentWritersAllLand) {
  Seed();
  constexpr int kThreads = 8;
  constexpr int kEach = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      const std::string principal = "worker-" + std::to_string(i);
      if (!security().PutPrincipal(Principal(principal)).ok()) ++failures;
      for (int j = 0; j < kEach; ++j) {
        const std::string n = std::to_string(j);
        if (!security().AddRoleBinding(Binding(principal, j % 2 ? "acme" : "*", "role-" + n)).ok())
          ++failures;
        if (!security().CreateToken(Token(principal + "-tok-" + n, principal, "globex", j)).ok())
          ++failures;
        // Every thread also races on the same binding: it lands once.
        if (!security().AddRoleBinding(Binding("alice", "acme", "viewer")).ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_OK_AND_ASSIGN(auto principals, security().ListPrincipals());
  EXPECT_EQ(principals.size(), 3U + kThreads);
  ASSERT_OK_AND_ASSIGN(auto bindings, security().ListRoleBindings(std::nullopt, std::nullopt));
  EXPECT_EQ(bindings.size(), static_cast<size_t>(kThreads * kEach + 1));
  ASSERT_OK_AND_ASSIGN(auto tokens, security().ListTokens("globex", std::nullopt));
  EXPECT_EQ(tokens.size(), static_cast<size_t>(kThreads * kEach));
  ASSERT_OK_AND_ASSIGN(auto one_worker, security().ListTokens(std::nullopt, "worker-3"));
  EXPECT_EQ(one_worker.size(), static_cast<size_t>(kEach));
}

INSTANTIATE_TEST_SUITE_P(Backends, SecurityStoreConformanceTest,
                         testing::ValuesIn(testing_util::kConformanceBackends), BackendName);

}  // namespace
}  // namespace cairn::metadata
