#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/api_token.h"
#include "auth/rate_limiter.h"
#include "base/clock.h"
#include "base/request_scope.h"
#include "metadata/security_store.h"

namespace cairn::auth {

struct TokenRequest {
  std::string principal;
  std::string tenant;  // "" : the caller's tenant; "*" : every tenant (server administrators)
  std::vector<std::string> roles;
  // Seconds until it expires; nullopt: the default (90 days); 0: never.
  std::optional<int64_t> expires_in_s;
  std::string description;
};

struct CreatedToken {
  std::string text;  // shown once, never stored
  metadata::ApiTokenRecord record;
};

// Tenants, principals, role bindings, API tokens and rate limits: the checks and effects of
// managing them, shared by the /api/v1 handlers and `cairn admin bootstrap`. The route already
// checked the caller's permission in its own tenant; calls that name another tenant check that
// the caller administers that one too (with authentication off every caller may, as for every
// other route). Every change drops the token caches and reloads the rate limits, so it applies
// at once. Thread-safe.
class SecurityService {
 public:
  SecurityService(metadata::SecurityStore& store, TokenAuthenticator* tokens, RateLimiter* limiter,
                  const Clock& clock);

  static constexpr int64_t kDefaultTokenLifetimeS = 90 * 24 * 3600;

  StatusOr<CreatedToken> CreateToken(const RequestScope& caller, TokenRequest request);
  // The tokens of `tenant` (default: the caller's; "*" for all, server administrators only).
  StatusOr<std::vector<metadata::ApiTokenRecord>> ListTokens(const RequestScope& caller,
                                                             std::optional<std::string> tenant,
                                                             std::optional<std::string> principal);
  StatusOr<metadata::ApiTokenRecord> RevokeToken(const RequestScope& caller, std::string_view id);

  Status CreateTenant(const RequestScope& caller, std::string_view name,
                      std::string_view description);
  StatusOr<std::vector<metadata::TenantRecord>> ListTenants();

  Status PutPrincipal(const RequestScope& caller, std::string_view name, std::string_view kind,
                      std::optional<bool> disabled);
  StatusOr<std::vector<metadata::PrincipalRecord>> ListPrincipals();

  Status AddRoleBinding(const RequestScope& caller, std::string_view principal,
                        std::string_view tenant, std::string_view role);
  Status RemoveRoleBinding(const RequestScope& caller, std::string_view principal,
                           std::string_view tenant, std::string_view role);
  StatusOr<std::vector<metadata::RoleBinding>> ListRoleBindings(
      const RequestScope& caller, std::optional<std::string> principal,
      std::optional<std::string> tenant);

  Status PutRateLimit(metadata::RateLimitRecord limit);
  Status DeleteRateLimit(std::string_view tenant);
  StatusOr<std::vector<metadata::RateLimitRecord>> ListRateLimits();
  // Loads the stored budgets into the limiter (at start-up, and after each change).
  Status ReloadRateLimits();

  // A fresh install's first administrator: the "default" tenant, the principal, its admin role
  // in every tenant, and an API token for it (no expiry). FAILED_PRECONDITION when an
  // administrator binding already exists, unless `force` (then only a new token is issued).
  StatusOr<CreatedToken> Bootstrap(std::string_view principal, bool force);

  // Whether `caller` administers `tenant` ("*": the server).
  static bool Administers(const RequestScope& caller, std::string_view tenant);

 private:
  Status EnsurePrincipal(std::string_view name, std::string_view kind);
  Status EnsureTenantExists(std::string_view tenant);
  void Changed();

  metadata::SecurityStore& store_;
  TokenAuthenticator* tokens_;
  RateLimiter* limiter_;
  const Clock& clock_;
};

// Checks a tenant or principal name as the API accepts it (INVALID_ARGUMENT naming `field`).
Status ValidateTenantName(std::string_view name, std::string_view field);
Status ValidatePrincipalName(std::string_view name, std::string_view field);

}  // namespace cairn::auth
