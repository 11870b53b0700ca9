#pragma once

#include <boost/json.hpp>
#include <functional>

#include "auth/security_service.h"
#include "http/router.h"

namespace cairn::api::v1 {

// /api/v1 for who may call: API tokens (tenant admins), role bindings (tenant admins), tenants,
// principals and rate limits (server admins), and "who am I" for any authenticated caller.
class SecurityHandlers {
 public:
  explicit SecurityHandlers(auth::SecurityService& service) : service_(service) {}
  void Register(http::Router& router);

 private:
  using Result = StatusOr<boost::json::object>;
  void Add(http::Router& router, http::Method method, std::string pattern,
           http::Permission permission, std::function<Result(const http::Request&)> fn);

  Result CreateToken(const http::Request& req);
  Result ListTokens(const http::Request& req);
  Result RevokeToken(const http::Request& req);
  Result WhoAmI(const http::Request& req);
  Result CreateTenant(const http::Request& req);
  Result ListTenants(const http::Request& req);
  Result PutPrincipal(const http::Request& req);
  Result ListPrincipals(const http::Request& req);
  Result AddRoleBinding(const http::Request& req);
  Result RemoveRoleBinding(const http::Request& req);
  Result ListRoleBindings(const http::Request& req);
  Result PutRateLimit(const http::Request& req);
  Result DeleteRateLimit(const http::Request& req);
  Result ListRateLimits(const http::Request& req);

  auth::SecurityService& service_;
};

// Parses a token lifetime: seconds as a JSON integer, or a string "<n>s|m|h|d" ("90d").
StatusOr<int64_t> ParseLifetime(const boost::json::value& value);

}  // namespace cairn::api::v1
