#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auth/api_token.h"
#include "auth/identity.h"
#include "auth/rate_limiter.h"
#include "http/middleware.h"
#include "metrics/metrics_registry.h"

namespace cairn::auth {

// Verifies a bearer credential that is not an API token (a JWT); UNAUTHENTICATED when it is
// not valid. Thread-safe.
using BearerVerifier =
    std::function<StatusOr<std::shared_ptr<const Identity>>(std::string_view credential)>;

struct AuthOptions {
  // Which credentials are accepted; neither: authentication is off (the tenant comes from the
  // workspace header, the caller is "anonymous" and may do everything, as before).
  bool tokens = false;
  bool jwt = false;
  std::string realm = "cairn";
};

// Decides who is calling, in which tenant, with which roles, whether the route's declared
// permission (http/permission.h) is held there, and whether the tenant's budget allows the
// request. Fills request.scope (tenant, principal, roles, grants). Replaces TenantMiddleware.
//
// Credentials: "Authorization: Bearer <API token or JWT>", or "Authorization: Basic" with any
// user name and an API token as the password (what MLflow clients send for
// MLFLOW_TRACKING_USERNAME/PASSWORD); the user name must then be the token's principal.
// Answers: 401 with WWW-Authenticate when credentials are missing or invalid, 403 when the
// caller lacks the permission in the tenant (or names a tenant it holds no role in), 429 with
// Retry-After over budget. The bodies say only that, never which check failed; the reason goes
// to the debug log. Public routes and unrouted requests (404/405) need no credentials.
// Thread-safe.
class AuthMiddleware final : public http::Middleware {
 public:
  AuthMiddleware(AuthOptions options, TokenAuthenticator* tokens, BearerVerifier jwt,
                 RateLimiter* limiter, metrics::MetricsRegistry* metrics);

  std::optional<http::Response> OnRequest(http::Request& request) override;
  void OnResponse(const http::Request& request, http::Response& response,
                  int64_t elapsed_ns) override;

  bool enabled() const { return options_.tokens || options_.jwt; }

 private:
  StatusOr<std::shared_ptr<const Identity>> Authenticate(const http::Request& request) const;
  http::Response Unauthorized() const;
  std::optional<http::Response> Limit(std::string_view tenant, http::Permission permission);

  const AuthOptions options_;
  TokenAuthenticator* tokens_;
  BearerVerifier jwt_;
  RateLimiter* limiter_;
  metrics::MetricsRegistry* metrics_;
  metrics::Counter* unauthenticated_ = nullptr;
  metrics::Counter* denied_ = nullptr;
  std::string challenge_;
};

}  // namespace cairn::auth
