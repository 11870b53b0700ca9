#pragma once

#include <memory>

#include "metadata/security_store.h"
#include "sql/sql.h"

namespace cairn::metadata {

// SecurityStore on the SQLite metadata database (see sqlite_metadata_backend.h), on the schema
// of migration 7. Each write checks what it depends on (tenant, principal, id) and writes in the
// same transaction, so checks and writes never interleave with another writer's. Thread-safe;
// concurrency is the Database's.
class SqlSecurityStore final : public SecurityStore {
 public:
  explicit SqlSecurityStore(std::shared_ptr<sql::Database> db) : db_(std::move(db)) {}

  Status CreateTenant(const TenantRecord& tenant) override;
  StatusOr<TenantRecord> GetTenant(std::string_view name) override;
  StatusOr<std::vector<TenantRecord>> ListTenants() override;

  Status PutPrincipal(const PrincipalRecord& principal) override;
  StatusOr<PrincipalRecord> GetPrincipal(std::string_view name) override;
  StatusOr<std::vector<PrincipalRecord>> ListPrincipals() override;

  Status AddRoleBinding(const RoleBinding& binding) override;
  Status RemoveRoleBinding(std::string_view principal, std::string_view tenant,
                           std::string_view role) override;
  StatusOr<std::vector<RoleBinding>> ListRoleBindings(
      std::optional<std::string_view> principal, std::optional<std::string_view> tenant) override;

  Status CreateToken(const ApiTokenRecord& token) override;
  StatusOr<ApiTokenRecord> GetToken(std::string_view id) override;
  StatusOr<std::vector<ApiTokenRecord>> ListTokens(
      std::optional<std::string_view> tenant, std::optional<std::string_view> principal) override;
  StatusOr<ApiTokenRecord> RevokeToken(std::string_view id, int64_t revoked_at_ms) override;

  Status PutRateLimit(const RateLimitRecord& limit) override;
  Status DeleteRateLimit(std::string_view tenant) override;
  StatusOr<std::vector<RateLimitRecord>> ListRateLimits() override;

 private:
  const std::shared_ptr<sql::Database> db_;
};

}  // namespace cairn::metadata
