#include "metadata/sql/sql_security_store.h"

#include <boost/json.hpp>
#include <string>

namespace cairn::metadata {
namespace {

using sql::Connection;
using sql::Statement;

// A binding or token for every tenant.
constexpr std::string_view kAllTenants = "*";

std::string Sql(std::string_view a, std::string_view b, std::string_view c = "") {
  std::string out(a);
  out += b;
  out += c;
  return out;
}

// Optional filters bind as NULL when absent: "(CAST(? AS TEXT) IS NULL OR column = ?)".
std::optional<std::string> Filter(std::optional<std::string_view> value) {
  if (!value) return std::nullopt;
  return std::string(*value);
}

// Runs `s` to the end, appending what `read` makes of each row (a T or a StatusOr<T>).
template <typename T, typename ReadFn>
Status Collect(Statement& s, std::vector<T>& out, ReadFn read) {
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Status::Ok();
    ASSIGN_OR_RETURN(T value, read(s));
    out.push_back(std::move(value));
  }
}

constexpr std::string_view kTenantColumns = "name, description, created_at";

StatusOr<TenantRecord> ReadTenant(const Statement& s) {
  return TenantRecord{.name = s.Text(0), .description = s.Text(1), .created_at_ms = s.Int(2)};
}

constexpr std::string_view kPrincipalColumns = "name, kind, disabled, created_at, updated_at";

StatusOr<PrincipalRecord> ReadPrincipal(const Statement& s) {
  return PrincipalRecord{.name = s.Text(0),
                         .kind = s.Text(1),
                         .disabled = s.Int(2) != 0,
                         .created_at_ms = s.Int(3),
                         .updated_at_ms = s.Int(4)};
}

constexpr std::string_view kBindingColumns = "principal, tenant, role, created_by, created_at";

StatusOr<RoleBinding> ReadBinding(const Statement& s) {
  return RoleBinding{.principal = s.Text(0),
                     .tenant = s.Text(1),
                     .role = s.Text(2),
                     .created_by = s.Text(3),
                     .created_at_ms = s.Int(4)};
}

constexpr std::string_view kTokenColumns =
    "token_id, secret_hash, principal, tenant, roles, description, created_by, created_at, "
    "expires_at, revoked_at";

std::string RolesToJson(const std::vector<std::string>& roles) {
  boost::json::array array;
  array.reserve(roles.size());
  for (const std::string& role : roles) array.emplace_back(role);
  return boost::json::serialize(array);
}

StatusOr<std::vector<std::string>> RolesFromJson(std::string_view text, std::string_view id) {
  boost::json::error_code ec;
  boost::json::value parsed = boost::json::parse(text, ec);
  if (ec || !parsed.is_array()) {
    return Internal("API token '" + std::string(id) +
                    "' has unreadable roles: " + std::string(text.substr(0, 200)));
  }
  std::vector<std::string> roles;
  for (const boost::json::value& role : parsed.get_array()) {
    if (!role.is_string()) {
      return Internal("API token '" + std::string(id) + "' has a role that is not a string");
    }
    roles.emplace_back(role.get_string());
  }
  return roles;
}

StatusOr<ApiTokenRecord> ReadToken(const Statement& s) {
  ApiTokenRecord t;
  t.id = s.Text(0);
  t.secret_hash = s.Text(1);
  t.principal = s.Text(2);
  t.tenant = s.Text(3);
  ASSIGN_OR_RETURN(t.roles, RolesFromJson(s.TextView(4), t.id));
  t.description = s.Text(5);
  t.created_by = s.Text(6);
  t.created_at_ms = s.Int(7);
  t.expires_at_ms = s.Int(8);
  t.revoked_at_ms = s.Int(9);
  return t;
}

constexpr std::string_view kRateLimitColumns =
    "tenant, control_rate, control_burst, predict_rate, predict_burst, updated_at";

StatusOr<RateLimitRecord> ReadRateLimit(const Statement& s) {
  return RateLimitRecord{.tenant = s.Text(0),
                         .control_rate = s.Double(1),
                         .control_burst = s.Double(2),
                         .predict_rate = s.Double(3),
                         .predict_burst = s.Double(4),
                         .updated_at_ms = s.Int(5)};
}

StatusOr<bool> Exists(Connection& db, std::string_view sql, std::string_view key) {
  ASSIGN_OR_RETURN(Statement s, db.Prepare(sql));
  return s.Bind(key).Step();
}

// INVALID_ARGUMENT unless `tenant` is a stored tenant, or "*" where `all_allowed`.
Status CheckTenant(Connection& db, std::string_view tenant, bool all_allowed) {
  if (all_allowed && tenant == kAllTenants) return Status::Ok();
  ASSIGN_OR_RETURN(bool found, Exists(db, "SELECT 1 FROM tenants WHERE name = ?", tenant));
  if (!found) return InvalidArgument("Tenant '" + std::string(tenant) + "' does not exist");
  return Status::Ok();
}

Status CheckPrincipal(Connection& db, std::string_view principal) {
  ASSIGN_OR_RETURN(bool found, Exists(db, "SELECT 1 FROM principals WHERE name = ?", principal));
  if (!found) return InvalidArgument("Principal '" + std::string(principal) + "' does not exist");
  return Status::Ok();
}

Status NoSuchToken(std::string_view id) {
  return NotFound("API token '" + std::string(id) + "' not found");
}

}  // namespace

Status SqlSecurityStore::CreateTenant(const TenantRecord& t) {
  if (t.name == kAllTenants) {
    return InvalidArgument("'*' means every tenant and cannot name one");
  }
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(bool taken, Exists(db, "SELECT 1 FROM tenants WHERE name = ?", t.name));
    if (taken) return AlreadyExists("Tenant '" + t.name + "' already exists");
    ASSIGN_OR_RETURN(Statement s, db.Prepare(Sql("INSERT INTO tenants (", kTenantColumns,
                                                 ") VALUES (?, ?, ?)")));
    return s.Bind(t.name, t.description, t.created_at_ms).Run();
  });
}

StatusOr<TenantRecord> SqlSecurityStore::GetTenant(std::string_view name) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<TenantRecord> {
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare(Sql("SELECT ", kTenantColumns, " FROM tenants WHERE name = ?")));
    ASSIGN_OR_RETURN(bool row, s.Bind(name).Step());
    if (!row) return NotFound("Tenant '" + std::string(name) + "' not found");
    return ReadTenant(s);
  });
}

StatusOr<std::vector<TenantRecord>> SqlSecurityStore::ListTenants() {
  return db_->ReadValue([&](Connection& db) -> StatusOr<std::vector<TenantRecord>> {
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare(Sql("SELECT ", kTenantColumns, " FROM tenants ORDER BY name")));
    std::vector<TenantRecord> out;
    RETURN_IF_ERROR(Collect(s, out, ReadTenant));
    return out;
  });
}

Status SqlSecurityStore::PutPrincipal(const PrincipalRecord& p) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare(Sql("INSERT INTO principals (", kPrincipalColumns,
                                    ") VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                                    "kind = excluded.kind, disabled = excluded.disabled, "
                                    "updated_at = excluded.updated_at")));
    return s
        .Bind(p.name, p.kind, static_cast<int64_t>(p.disabled ? 1 : 0), p.created_at_ms,
              p.updated_at_ms)
        .Run();
  });
}

StatusOr<PrincipalRecord> SqlSecurityStore::GetPrincipal(std::string_view name) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<PrincipalRecord> {
    ASSIGN_OR_RETURN(Statement s, db.Prepare(Sql("SELECT ", kPrincipalColumns,
                                                 " FROM principals WHERE name = ?")));
    ASSIGN_OR_RETURN(bool row, s.Bind(name).Step());
    if (!row) return NotFound("Principal '" + std::string(name) + "' not found");
    return ReadPrincipal(s);
  });
}

StatusOr<std::vector<PrincipalRecord>> SqlSecurityStore::ListPrincipals() {
  return db_->ReadValue([&](Connection& db) -> StatusOr<std::vector<PrincipalRecord>> {
    ASSIGN_OR_RETURN(Statement s, db.Prepare(Sql("SELECT ", kPrincipalColumns,
                                                 " FROM principals ORDER BY name")));
    std::vector<PrincipalRecord> out;
    RETURN_IF_ERROR(Collect(s, out, ReadPrincipal));
    return out;
  });
}

Status SqlSecurityStore::AddRoleBinding(const RoleBinding& b) {
  return db_->Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(CheckPrincipal(db, b.principal));
    RETURN_IF_ERROR(CheckTenant(db, b.tenant, /*all_allowed=*/true));
    // An existing binding keeps its first creator and time.
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare(Sql("INSERT INTO role_bindings (", kBindingColumns,
                                    ") VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")));
    return s.Bind(b.principal, b.tenant, b.role, b.created_by, b.created_at_ms).Run();
  });
}

Status SqlSecurityStore::RemoveRoleBinding(std::string_view principal, std::string_view tenant,
                                           std::string_view role) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement s, db.Prepare("DELETE FROM role_bindings WHERE principal = ? AND "
                                             "tenant = ? AND role = ?"));
    RETURN_IF_ERROR(s.Bind(principal, tenant, role).Run());
    if (db.Changes() == 0) {
      return NotFound("Principal '" + std::string(principal) + "' has no role '" +
                      std::string(role) + "' in tenant '" + std::string(tenant) + "'");
    }
    return Status::Ok();
  });
}

StatusOr<std::vector<RoleBinding>> SqlSecurityStore::ListRoleBindings(
    std::optional<std::string_view> principal, std::optional<std::string_view> tenant) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<std::vector<RoleBinding>> {
    ASSIGN_OR_RETURN(
        Statement s,
        db.Prepare(
            Sql("SELECT ", kBindingColumns,
                " FROM role_bindings WHERE (CAST(? AS TEXT) IS NULL OR principal = ?) AND "
                "(CAST(? AS TEXT) IS NULL OR tenant = ?) ORDER BY principal, tenant, role")));
    const std::optional<std::string> p = Filter(principal);
    const std::optional<std::string> t = Filter(tenant);
    s.Bind(p, p, t, t);
    std::vector<RoleBinding> out;
    RETURN_IF_ERROR(Collect(s, out, ReadBinding));
    return out;
  });
}

Status SqlSecurityStore::CreateToken(const ApiTokenRecord& t) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(bool taken, Exists(db, "SELECT 1 FROM api_tokens WHERE token_id = ?", t.id));
    if (taken) return AlreadyExists("API token '" + t.id + "' already exists");
    RETURN_IF_ERROR(CheckPrincipal(db, t.principal));
    RETURN_IF_ERROR(CheckTenant(db, t.tenant, /*all_allowed=*/true));
    ASSIGN_OR_RETURN(Statement s, db.Prepare(Sql("INSERT INTO api_tokens (", kTokenColumns,
                                                 ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")));
    return s
        .Bind(t.id, t.secret_hash, t.principal, t.tenant, RolesToJson(t.roles), t.description,
              t.created_by, t.created_at_ms, t.expires_at_ms, t.revoked_at_ms)
        .Run();
  });
}

StatusOr<ApiTokenRecord> SqlSecurityStore::GetToken(std::string_view id) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<ApiTokenRecord> {
    ASSIGN_OR_RETURN(Statement s, db.Prepare(Sql("SELECT ", kTokenColumns,
                                                 " FROM api_tokens WHERE token_id = ?")));
    ASSIGN_OR_RETURN(bool row, s.Bind(id).Step());
    if (!row) return NoSuchToken(id);
    return ReadToken(s);
  });
}

StatusOr<std::vector<ApiTokenRecord>> SqlSecurityStore::ListTokens(
    std::optional<std::string_view> tenant, std::optional<std::string_view> principal) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<std::vector<ApiTokenRecord>> {
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare(Sql("SELECT ", kTokenColumns,
                                    " FROM api_tokens WHERE (CAST(? AS TEXT) IS NULL OR tenant = "
                                    "?) AND (CAST(? AS TEXT) IS NULL OR "
                                    "principal = ?) ORDER BY created_at DESC, token_id")));
    const std::optional<std::string> t = Filter(tenant);
    const std::optional<std::string> p = Filter(principal);
    s.Bind(t, t, p, p);
    std::vector<ApiTokenRecord> out;
    RETURN_IF_ERROR(Collect(s, out, ReadToken));
    return out;
  });
}

StatusOr<ApiTokenRecord> SqlSecurityStore::RevokeToken(std::string_view id, int64_t revoked_at_ms) {
  ApiTokenRecord token;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement revoke, db.Prepare("UPDATE api_tokens SET revoked_at = ? WHERE "
                                                  "token_id = ? AND revoked_at = 0"));
    RETURN_IF_ERROR(revoke.Bind(revoked_at_ms, id).Run());
    ASSIGN_OR_RETURN(Statement s, db.Prepare(Sql("SELECT ", kTokenColumns,
                                                 " FROM api_tokens WHERE token_id = ?")));
    ASSIGN_OR_RETURN(bool row, s.Bind(id).Step());
    if (!row) return NoSuchToken(id);
    ASSIGN_OR_RETURN(token, ReadToken(s));
    return Status::Ok();
  }));
  return token;
}

Status SqlSecurityStore::PutRateLimit(const RateLimitRecord& r) {
  return db_->Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(CheckTenant(db, r.tenant, /*all_allowed=*/false));
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare(Sql("INSERT INTO rate_limits (", kRateLimitColumns,
                                    ") VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant) DO UPDATE "
                                    "SET control_rate = excluded.control_rate, control_burst = "
                                    "excluded.control_burst, predict_rate = excluded.predict_rate, "
                                    "predict_burst = excluded.predict_burst, updated_at = "
                                    "excluded.updated_at")));
    return s
        .Bind(r.tenant, r.control_rate, r.control_burst, r.predict_rate, r.predict_burst,
              r.updated_at_ms)
        .Run();
  });
}

Status SqlSecurityStore::DeleteRateLimit(std::string_view tenant) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement s, db.Prepare("DELETE FROM rate_limits WHERE tenant = ?"));
    RETURN_IF_ERROR(s.Bind(tenant).Run());
    if (db.Changes() == 0) {
      return NotFound("Tenant '" + std::string(tenant) + "' has no rate limit");
    }
    return Status::Ok();
  });
}

StatusOr<std::vector<RateLimitRecord>> SqlSecurityStore::ListRateLimits() {
  return db_->ReadValue([&](Connection& db) -> StatusOr<std::vector<RateLimitRecord>> {
    ASSIGN_OR_RETURN(Statement s, db.Prepare(Sql("SELECT ", kRateLimitColumns,
                                                 " FROM rate_limits ORDER BY tenant")));
    std::vector<RateLimitRecord> out;
    RETURN_IF_ERROR(Collect(s, out, ReadRateLimit));
    return out;
  });
}

}  // namespace cairn::metadata
