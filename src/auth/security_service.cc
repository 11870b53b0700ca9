#include "auth/security_service.h"

#include <algorithm>

#include "auth/roles.h"
#include "http/tenant_middleware.h"

namespace cairn::auth {
namespace {

Status Denied(std::string what) { return Status(StatusCode::kPermissionDenied, std::move(what)); }

Status ValidateRate(double value, std::string_view field) {
  if (!(value >= 0) || value > 1e9) {
    return InvalidArgument(std::string(field) + " must be between 0 and 1e9");
  }
  return Status::Ok();
}

}  // namespace

Status ValidateTenantName(std::string_view name, std::string_view field) {
  if (name == kAllTenants) return Status::Ok();
  bool lower = std::none_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  if (!http::TenantMiddleware::IsValidWorkspaceName(name) || !lower) {
    return InvalidArgument(
        std::string(field) +
        " must be 1 to 63 lower-case letters, digits, '_' or '-', not only digits "
        "(or \"*\")");
  }
  return Status::Ok();
}

Status ValidatePrincipalName(std::string_view name, std::string_view field) {
  bool printable = std::all_of(name.begin(), name.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x21 && u != 0x7f;
  });
  if (name.empty() || name.size() > 256 || !printable) {
    return InvalidArgument(std::string(field) +
                           " must be 1 to 256 printable characters without spaces");
  }
  return Status::Ok();
}

SecurityService::SecurityService(metadata::SecurityStore& store, TokenAuthenticator* tokens,
                                 RateLimiter* limiter, const Clock& clock)
    : store_(store), tokens_(tokens), limiter_(limiter), clock_(clock) {}

bool SecurityService::Administers(const RequestScope& caller, std::string_view tenant) {
  if (caller.grants == nullptr) return true;  // authentication is off
  return caller.HasRoleIn(tenant, "admin");
}

void SecurityService::Changed() {
  if (tokens_ != nullptr) tokens_->Invalidate();
}

Status SecurityService::EnsurePrincipal(std::string_view name, std::string_view kind) {
  auto found = store_.GetPrincipal(name);
  if (found.ok()) return Status::Ok();
  if (found.status().code() != StatusCode::kNotFound) return found.status();
  metadata::PrincipalRecord principal;
  principal.name = std::string(name);
  principal.kind = std::string(kind);
  principal.created_at_ms = principal.updated_at_ms = clock_.NowMillis();
  return store_.PutPrincipal(principal);
}

Status SecurityService::EnsureTenantExists(std::string_view tenant) {
  if (tenant == kAllTenants) return Status::Ok();
  auto found = store_.GetTenant(tenant);
  if (found.ok()) return Status::Ok();
  if (found.status().code() != StatusCode::kNotFound) return found.status();
  if (tenant == http::TenantMiddleware::kDefaultTenant) {
    metadata::TenantRecord record{std::string(tenant), "", clock_.NowMillis()};
    Status created = store_.CreateTenant(record);
    if (created.code() == StatusCode::kAlreadyExists) return Status::Ok();
    return created;
  }
  return InvalidArgument("Tenant '" + std::string(tenant) +
                         "' does not exist; create it first (POST /api/v1/tenants)");
}

StatusOr<CreatedToken> SecurityService::CreateToken(const RequestScope& caller,
                                                    TokenRequest request) {
  RETURN_IF_ERROR(ValidatePrincipalName(request.principal, "principal"));
  if (request.tenant.empty()) request.tenant = caller.tenant;
  RETURN_IF_ERROR(ValidateTenantName(request.tenant, "tenant"));
  if (request.roles.empty()) return InvalidArgument("roles must name at least one role");
  for (const std::string& role : request.roles) {
    if (!IsKnownRole(role)) {
      return InvalidArgument("Unknown role '" + role.substr(0, 64) +
                             "'; roles are viewer, editor, deployer, predictor, admin");
    }
  }
  std::sort(request.roles.begin(), request.roles.end());
  request.roles.erase(std::unique(request.roles.begin(), request.roles.end()), request.roles.end());
  const int64_t lifetime_s = request.expires_in_s.value_or(kDefaultTokenLifetimeS);
  if (lifetime_s < 0 || lifetime_s > int64_t{10} * 366 * 24 * 3600) {
    return InvalidArgument("expires_in must be between 0 (never) and 10 years, in seconds");
  }
  if (request.description.size() > 1000) {
    return InvalidArgument("description must be at most 1000 characters");
  }
  if (!Administers(caller, request.tenant)) {
    return Denied("Creating tokens in tenant '" + request.tenant + "' needs its admin role");
  }
  RETURN_IF_ERROR(EnsureTenantExists(request.tenant));
  RETURN_IF_ERROR(EnsurePrincipal(request.principal, "service"));
  ASSIGN_OR_RETURN(NewToken fresh, GenerateToken());
  const int64_t now = clock_.NowMillis();
  CreatedToken created;
  created.text = std::move(fresh.text);
  metadata::ApiTokenRecord& record = created.record;
  record.id = std::move(fresh.id);
  record.secret_hash = std::move(fresh.secret_hash);
  record.principal = std::move(request.principal);
  record.tenant = std::move(request.tenant);
  record.roles = std::move(request.roles);
  record.description = std::move(request.description);
  record.created_by = caller.principal;
  record.created_at_ms = now;
  record.expires_at_ms = lifetime_s == 0 ? 0 : now + lifetime_s * 1000;
  RETURN_IF_ERROR(store_.CreateToken(record));
  return created;
}

StatusOr<std::vector<metadata::ApiTokenRecord>> SecurityService::ListTokens(
    const RequestScope& caller, std::optional<std::string> tenant,
    std::optional<std::string> principal) {
  std::string in = tenant.value_or(caller.tenant);
  RETURN_IF_ERROR(ValidateTenantName(in, "tenant"));
  if (!Administers(caller, in)) {
    return Denied("Listing tokens of tenant '" + in + "' needs its admin role");
  }
  std::optional<std::string_view> tenant_filter;
  if (in != kAllTenants) tenant_filter = in;
  std::optional<std::string_view> principal_filter;
  if (principal) principal_filter = *principal;
  return store_.ListTokens(tenant_filter, principal_filter);
}

StatusOr<metadata::ApiTokenRecord> SecurityService::RevokeToken(const RequestScope& caller,
                                                                std::string_view id) {
  auto found = store_.GetToken(id);
  if (!found.ok()) {
    if (found.status().code() == StatusCode::kNotFound) {
      return NotFound("Token '" + std::string(id.substr(0, 64)) + "' not found");
    }
    return found.status();
  }
  // A token of another tenant is reported as missing, not as forbidden.
  if (!Administers(caller, found->tenant)) {
    return NotFound("Token '" + std::string(id.substr(0, 64)) + "' not found");
  }
  ASSIGN_OR_RETURN(metadata::ApiTokenRecord revoked, store_.RevokeToken(id, clock_.NowMillis()));
  Changed();
  return revoked;
}

Status SecurityService::CreateTenant(const RequestScope& caller, std::string_view name,
                                     std::string_view description) {
  RETURN_IF_ERROR(ValidateTenantName(name, "name"));
  if (name == kAllTenants) return InvalidArgument("\"*\" is not a tenant name");
  if (description.size() > 1000) {
    return InvalidArgument("description must be at most 1000 characters");
  }
  if (!Administers(caller, kAllTenants)) return Denied("Creating tenants needs server admin");
  return store_.CreateTenant(
      metadata::TenantRecord{std::string(name), std::string(description), clock_.NowMillis()});
}

StatusOr<std::vector<metadata::TenantRecord>> SecurityService::ListTenants() {
  return store_.ListTenants();
}

Status SecurityService::PutPrincipal(const RequestScope& caller, std::string_view name,
                                     std::string_view kind, std::optional<bool> disabled) {
  RETURN_IF_ERROR(ValidatePrincipalName(name, "name"));
  if (!kind.empty() && kind != "user" && kind != "service") {
    return InvalidArgument("kind must be \"user\" or \"service\"");
  }
  if (!Administers(caller, kAllTenants)) return Denied("Managing principals needs server admin");
  if (disabled.value_or(false) && name == caller.principal) {
    return InvalidArgument("A principal cannot disable itself");
  }
  metadata::PrincipalRecord record;
  auto found = store_.GetPrincipal(name);
  if (found.ok()) {
    record = std::move(found).value();
  } else if (found.status().code() != StatusCode::kNotFound) {
    return found.status();
  } else {
    record.name = std::string(name);
    record.created_at_ms = clock_.NowMillis();
  }
  if (!kind.empty()) record.kind = std::string(kind);
  if (disabled) record.disabled = *disabled;
  record.updated_at_ms = clock_.NowMillis();
  RETURN_IF_ERROR(store_.PutPrincipal(record));
  Changed();
  return Status::Ok();
}

StatusOr<std::vector<metadata::PrincipalRecord>> SecurityService::ListPrincipals() {
  return store_.ListPrincipals();
}

Status SecurityService::AddRoleBinding(const RequestScope& caller, std::string_view principal,
                                       std::string_view tenant, std::string_view role) {
  RETURN_IF_ERROR(ValidatePrincipalName(principal, "principal"));
  std::string in = tenant.empty() ? caller.tenant : std::string(tenant);
  RETURN_IF_ERROR(ValidateTenantName(in, "tenant"));
  if (!IsKnownRole(role)) {
    return InvalidArgument("Unknown role; roles are viewer, editor, deployer, predictor, admin");
  }
  if (!Administers(caller, in)) {
    return Denied("Granting roles in tenant '" + in + "' needs its admin role");
  }
  RETURN_IF_ERROR(EnsureTenantExists(in));
  RETURN_IF_ERROR(EnsurePrincipal(principal, "user"));
  metadata::RoleBinding binding{std::string(principal), in, std::string(role), caller.principal,
                                clock_.NowMillis()};
  RETURN_IF_ERROR(store_.AddRoleBinding(binding));
  Changed();
  return Status::Ok();
}

Status SecurityService::RemoveRoleBinding(const RequestScope& caller, std::string_view principal,
                                          std::string_view tenant, std::string_view role) {
  std::string in = tenant.empty() ? caller.tenant : std::string(tenant);
  RETURN_IF_ERROR(ValidateTenantName(in, "tenant"));
  if (!Administers(caller, in)) {
    return Denied("Revoking roles in tenant '" + in + "' needs its admin role");
  }
  if (principal == caller.principal && role == "admin" && caller.grants != nullptr) {
    return InvalidArgument("An administrator cannot remove its own admin role");
  }
  RETURN_IF_ERROR(store_.RemoveRoleBinding(principal, in, role));
  Changed();
  return Status::Ok();
}

StatusOr<std::vector<metadata::RoleBinding>> SecurityService::ListRoleBindings(
    const RequestScope& caller, std::optional<std::string> principal,
    std::optional<std::string> tenant) {
  std::string in = tenant.value_or(caller.tenant);
  RETURN_IF_ERROR(ValidateTenantName(in, "tenant"));
  if (!Administers(caller, in)) {
    return Denied("Listing roles in tenant '" + in + "' needs its admin role");
  }
  std::optional<std::string_view> tenant_filter;
  if (in != kAllTenants) tenant_filter = in;
  std::optional<std::string_view> principal_filter;
  if (principal) principal_filter = *principal;
  return store_.ListRoleBindings(principal_filter, tenant_filter);
}

Status SecurityService::PutRateLimit(metadata::RateLimitRecord limit) {
  RETURN_IF_ERROR(ValidateTenantName(limit.tenant, "tenant"));
  if (limit.tenant == kAllTenants) return InvalidArgument("budgets are per tenant, not \"*\"");
  RETURN_IF_ERROR(ValidateRate(limit.control_rate, "control.rate"));
  RETURN_IF_ERROR(ValidateRate(limit.control_burst, "control.burst"));
  RETURN_IF_ERROR(ValidateRate(limit.predict_rate, "predict.rate"));
  RETURN_IF_ERROR(ValidateRate(limit.predict_burst, "predict.burst"));
  limit.updated_at_ms = clock_.NowMillis();
  RETURN_IF_ERROR(store_.PutRateLimit(limit));
  Changed();  // with a shared token cache, other replicas reload their budgets too
  return ReloadRateLimits();
}

Status SecurityService::DeleteRateLimit(std::string_view tenant) {
  RETURN_IF_ERROR(store_.DeleteRateLimit(tenant));
  Changed();
  return ReloadRateLimits();
}

StatusOr<std::vector<metadata::RateLimitRecord>> SecurityService::ListRateLimits() {
  return store_.ListRateLimits();
}

Status SecurityService::ReloadRateLimits() {
  if (limiter_ == nullptr) return Status::Ok();
  ASSIGN_OR_RETURN(std::vector<metadata::RateLimitRecord> limits, store_.ListRateLimits());
  limiter_->SetLimits(limits);
  return Status::Ok();
}

StatusOr<CreatedToken> SecurityService::Bootstrap(std::string_view principal, bool force) {
  RETURN_IF_ERROR(ValidatePrincipalName(principal, "principal"));
  ASSIGN_OR_RETURN(std::vector<metadata::RoleBinding> server_admins,
                   store_.ListRoleBindings(std::nullopt, kAllTenants));
  bool has_admin = std::any_of(server_admins.begin(), server_admins.end(),
                               [](const metadata::RoleBinding& b) { return b.role == "admin"; });
  if (has_admin && !force) {
    return FailedPrecondition(
        "This server already has an administrator; use --force to issue another admin token");
  }
  RETURN_IF_ERROR(EnsureTenantExists(http::TenantMiddleware::kDefaultTenant));
  RETURN_IF_ERROR(EnsurePrincipal(principal, "user"));
  RequestScope system =
      RequestScope::ForTenant(http::TenantMiddleware::kDefaultTenant, "bootstrap");
  RETURN_IF_ERROR(store_.AddRoleBinding(metadata::RoleBinding{
      std::string(principal), std::string(kAllTenants), "admin", "bootstrap", clock_.NowMillis()}));
  TokenRequest request;
  request.principal = std::string(principal);
  request.tenant = std::string(kAllTenants);
  request.roles = {"admin"};
  request.expires_in_s = 0;
  request.description = "bootstrap administrator token";
  ASSIGN_OR_RETURN(CreatedToken created, CreateToken(system, std::move(request)));
  Changed();
  return created;
}

}  // namespace cairn::auth
