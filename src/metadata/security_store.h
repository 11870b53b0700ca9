#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cairn::metadata {

// A tenant: the unit of isolation every other store scopes its rows by. Names follow the
// workspace rules (1..63 of [a-z0-9_-], lower case). "default" always exists once bootstrapped.
struct TenantRecord {
  std::string name;
  std::string description;
  int64_t created_at_ms = 0;
};

// Someone or something that calls the server: a person (from a JWT or a token) or a service.
struct PrincipalRecord {
  std::string name;           // 1..256 printable characters, unique
  std::string kind = "user";  // "user" or "service"
  bool disabled = false;      // a disabled principal's credentials are all refused
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

// `principal` holds `role` in `tenant`. tenant "*" means every tenant (server administrators).
struct RoleBinding {
  std::string principal;
  std::string tenant;
  std::string role;  // "viewer", "editor", "deployer", "predictor", "admin"
  std::string created_by;
  int64_t created_at_ms = 0;
};

// An API token. The secret is never stored: only its SHA-256 (hex). The token grants `roles`
// in `tenant` to `principal` until it expires or is revoked.
struct ApiTokenRecord {
  std::string id;           // public, unique; part of the token text
  std::string secret_hash;  // hex SHA-256 of the secret part
  std::string principal;
  std::string tenant;  // or "*"
  std::vector<std::string> roles;
  std::string description;
  std::string created_by;
  int64_t created_at_ms = 0;
  int64_t expires_at_ms = 0;  // 0: never
  int64_t revoked_at_ms = 0;  // 0: not revoked
};

// A tenant's request budgets: token buckets refilled at `*_rate` per second up to `*_burst`.
// A rate of 0 means unlimited for that class.
struct RateLimitRecord {
  std::string tenant;
  double control_rate = 0;
  double control_burst = 0;
  double predict_rate = 0;
  double predict_burst = 0;
  int64_t updated_at_ms = 0;
};

// Who may call, in which tenant, with which roles, and how fast: the security domain of the
// metadata. Unlike the other domain stores it is not scoped by a caller's tenant (it is the
// table of tenants); only administrators reach it through the API.
//
// Contract (see metadata_stores.h for the shared rules): NOT_FOUND for a missing entity,
// ALREADY_EXISTS for a taken name or id; INVALID_ARGUMENT when a binding or token names a tenant
// that does not exist (except "*") or a principal that does not exist. Thread-safe; every write
// atomic and durable once it returns OK.
class SecurityStore {
 public:
  virtual ~SecurityStore() = default;

  // INVALID_ARGUMENT for the name "*", which means every tenant and is never stored.
  virtual Status CreateTenant(const TenantRecord& tenant) = 0;
  virtual StatusOr<TenantRecord> GetTenant(std::string_view name) = 0;
  // Sorted by name.
  virtual StatusOr<std::vector<TenantRecord>> ListTenants() = 0;

  // Creates the principal, or updates kind/disabled/updated_at of an existing one (created_at
  // is kept).
  virtual Status PutPrincipal(const PrincipalRecord& principal) = 0;
  virtual StatusOr<PrincipalRecord> GetPrincipal(std::string_view name) = 0;
  // Sorted by name.
  virtual StatusOr<std::vector<PrincipalRecord>> ListPrincipals() = 0;

  // Idempotent: adding an existing (principal, tenant, role) keeps the first record.
  virtual Status AddRoleBinding(const RoleBinding& binding) = 0;
  // NOT_FOUND when the binding does not exist.
  virtual Status RemoveRoleBinding(std::string_view principal, std::string_view tenant,
                                   std::string_view role) = 0;
  // Filtered by principal and/or tenant when given (the stored value matched exactly: a "*"
  // binding is listed under tenant "*" only); sorted by (principal, tenant, role).
  virtual StatusOr<std::vector<RoleBinding>> ListRoleBindings(
      std::optional<std::string_view> principal, std::optional<std::string_view> tenant) = 0;

  virtual Status CreateToken(const ApiTokenRecord& token) = 0;
  virtual StatusOr<ApiTokenRecord> GetToken(std::string_view id) = 0;
  // Filtered by tenant and/or principal when given (matched exactly, as ListRoleBindings);
  // newest first (created_at descending, then id). Revoked tokens are included.
  virtual StatusOr<std::vector<ApiTokenRecord>> ListTokens(
      std::optional<std::string_view> tenant, std::optional<std::string_view> principal) = 0;
  // Sets revoked_at (the first revocation's time is kept) and returns the token.
  virtual StatusOr<ApiTokenRecord> RevokeToken(std::string_view id, int64_t revoked_at_ms) = 0;

  // Creates or replaces the tenant's budgets. INVALID_ARGUMENT when the tenant does not exist
  // (budgets are per tenant: "*" names none).
  virtual Status PutRateLimit(const RateLimitRecord& limit) = 0;
  // NOT_FOUND when the tenant has none.
  virtual Status DeleteRateLimit(std::string_view tenant) = 0;
  // Sorted by tenant.
  virtual StatusOr<std::vector<RateLimitRecord>> ListRateLimits() = 0;
};

}  // namespace cairn::metadata
