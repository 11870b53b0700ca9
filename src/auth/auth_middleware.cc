#include "auth/auth_middleware.h"

#include <spdlog/spdlog.h>

#include "auth/roles.h"
#include "base/ascii.h"
#include "http/error_response.h"
#include "http/tenant_middleware.h"

namespace cairn::auth {
namespace {

using http::Permission;

// Standard base64 with padding, as HTTP Basic credentials are sent; nullopt when malformed.
std::optional<std::string> DecodeBase64(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0 || in.size() > 8192) return std::nullopt;
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  size_t padding = in.ends_with("==") ? 2 : in.ends_with('=') ? 1 : 0;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    uint32_t v = 0;
    for (size_t j = 0; j < 4; ++j) {
      char c = in[i + j];
      int d = 0;
      if (c == '=') {
        if (i + j < in.size() - padding) return std::nullopt;
      } else {
        d = value(c);
        if (d < 0) return std::nullopt;
      }
      v = (v << 6) | static_cast<uint32_t>(d);
    }
    out += static_cast<char>((v >> 16) & 0xff);
    out += static_cast<char>((v >> 8) & 0xff);
    out += static_cast<char>(v & 0xff);
  }
  out.resize(out.size() - padding);
  return out;
}

Status Unauthenticated(std::string reason) {
  return Status(StatusCode::kUnauthenticated, std::move(reason));
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

AuthMiddleware::AuthMiddleware(AuthOptions options, TokenAuthenticator* tokens, BearerVerifier jwt,
                               RateLimiter* limiter, metrics::MetricsRegistry* metrics)
    : options_(std::move(options)),
      tokens_(tokens),
      jwt_(std::move(jwt)),
      limiter_(limiter),
      metrics_(metrics) {
  challenge_ = "Bearer realm=\"" + options_.realm + "\"";
  if (options_.tokens) challenge_ += ", Basic realm=\"" + options_.realm + "\"";
  if (metrics_ != nullptr) {
    unauthenticated_ = &metrics_->GetCounter("cairn_auth_failures_total",
                                             "Requests refused by authentication or authorization",
                                             {{"reason", "unauthenticated"}});
    denied_ = &metrics_->GetCounter("cairn_auth_failures_total",
                                    "Requests refused by authentication or authorization",
                                    {{"reason", "denied"}});
  }
}

http::Response AuthMiddleware::Unauthorized() const {
  if (unauthenticated_ != nullptr) unauthenticated_->Increment();
  http::Response response =
      http::ErrorResponse(Status(StatusCode::kUnauthenticated, "Missing or invalid credentials"));
  response.headers.Set("WWW-Authenticate", challenge_);
  return response;
}

StatusOr<std::shared_ptr<const Identity>> AuthMiddleware::Authenticate(
    const http::Request& request) const {
  auto header = request.headers.Get("Authorization");
  if (!header) return Unauthenticated("no Authorization header");
  std::string_view value = Trim(*header);
  size_t space = value.find(' ');
  if (space == std::string_view::npos) return Unauthenticated("malformed Authorization header");
  std::string_view scheme = value.substr(0, space);
  std::string_view credential = Trim(value.substr(space + 1));
  if (credential.empty() || credential.size() > 16384) {
    return Unauthenticated("empty or oversized credential");
  }
  if (EqualsIgnoreCase(scheme, "Bearer")) {
    if (credential.starts_with(kTokenPrefix)) {
      if (!options_.tokens || tokens_ == nullptr) return Unauthenticated("API tokens are off");
      return tokens_->Authenticate(credential);
    }
    if (!options_.jwt || !jwt_) return Unauthenticated("JWTs are off");
    return jwt_(credential);
  }
  if (EqualsIgnoreCase(scheme, "Basic")) {
    if (!options_.tokens || tokens_ == nullptr) return Unauthenticated("API tokens are off");
    std::optional<std::string> decoded = DecodeBase64(credential);
    if (!decoded) return Unauthenticated("malformed Basic credentials");
    size_t colon = decoded->find(':');
    if (colon == std::string::npos) return Unauthenticated("malformed Basic credentials");
    std::string_view user = std::string_view(*decoded).substr(0, colon);
    std::string_view password = std::string_view(*decoded).substr(colon + 1);
    ASSIGN_OR_RETURN(std::shared_ptr<const Identity> identity, tokens_->Authenticate(password));
    if (user != identity->principal) {
      return Unauthenticated("Basic user name is not the token's principal");
    }
    return identity;
  }
  return Unauthenticated("unsupported Authorization scheme");
}

std::optional<http::Response> AuthMiddleware::Limit(std::string_view tenant,
                                                    Permission permission) {
  if (limiter_ == nullptr || permission == Permission::kPublic ||
      permission == Permission::kUnset) {
    return std::nullopt;
  }
  const RequestClass cls =
      permission == Permission::kPredict ? RequestClass::kPredict : RequestClass::kControl;
  RateDecision decision = limiter_->Acquire(tenant, cls);
  if (decision.allowed) return std::nullopt;
  if (metrics_ != nullptr) {
    metrics_
        ->GetCounter("cairn_rate_limited_total", "Requests refused over a tenant's budget",
                     {{"tenant", std::string(tenant)},
                      {"class", cls == RequestClass::kPredict ? "predict" : "control"}})
        .Increment();
  }
  http::Response response = http::ErrorResponse(
      Status(StatusCode::kResourceExhausted,
             "Rate limit exceeded for tenant '" + std::string(tenant) + "'; retry later"));
  response.headers.Set("Retry-After", std::to_string(decision.retry_after_s));
  return response;
}

std::optional<http::Response> AuthMiddleware::OnRequest(http::Request& request) {
  StatusOr<std::string> requested = http::TenantMiddleware::RequestedTenant(request);
  if (!requested.ok()) return http::ErrorResponse(requested.status());
  const Permission permission = request.permission;
  RequestScope& scope = request.scope;
  if (!enabled() || permission == Permission::kPublic || permission == Permission::kUnset) {
    scope.tenant = requested->empty() ? std::string(http::TenantMiddleware::kDefaultTenant)
                                      : std::move(requested).value();
    return Limit(scope.tenant, permission);
  }

  StatusOr<std::shared_ptr<const Identity>> identity = Authenticate(request);
  if (!identity.ok()) {
    if (identity.status().code() != StatusCode::kUnauthenticated) {
      spdlog::warn("authentication unavailable: {}", identity.status().ToString());
      return http::ErrorResponse(Unavailable("Authentication is unavailable; retry shortly"));
    }
    spdlog::debug("request {} unauthenticated: {}", scope.request_id, identity.status().message());
    return Unauthorized();
  }
  const Identity& who = **identity;
  scope.principal = who.principal;
  scope.grants = who.grants;
  scope.tenant = requested->empty() ? who.default_tenant : std::move(requested).value();
  const std::vector<RoleGrant>& grants = *who.grants;
  const bool tenant_free = permission == Permission::kAuthenticated ||
                           permission == Permission::kServerRead ||
                           permission == Permission::kServerAdmin;
  if ((!tenant_free && !HoldsAnyRoleIn(grants, scope.tenant)) ||
      !Allows(grants, scope.tenant, permission)) {
    spdlog::debug("request {}: {} lacks {} in tenant {}", scope.request_id, who.principal,
                  http::PermissionName(permission), scope.tenant);
    if (denied_ != nullptr) denied_->Increment();
    return http::ErrorResponse(Status(StatusCode::kPermissionDenied, "Permission denied"));
  }
  scope.roles = RolesIn(grants, scope.tenant);
  return Limit(scope.tenant, permission);
}

void AuthMiddleware::OnResponse(const http::Request& /*request*/, http::Response& /*response*/,
                                int64_t /*elapsed_ns*/) {}

}  // namespace cairn::auth
