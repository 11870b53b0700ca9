#include "api/v1/security_handlers.h"

#include <boost/json.hpp>
#include <charconv>

#include "api/v1/codec.h"
#include "base/json.h"
#include "http/error_response.h"

namespace cairn::api::v1 {
namespace {

namespace bj = boost::json;

bj::object TokenJson(const metadata::ApiTokenRecord& t) {
  bj::object o;
  o["id"] = t.id;
  o["principal"] = t.principal;
  o["tenant"] = t.tenant;
  bj::array roles;
  for (const auto& r : t.roles) roles.emplace_back(r);
  o["roles"] = std::move(roles);
  o["description"] = t.description;
  o["created_by"] = t.created_by;
  o["created_at"] = t.created_at_ms;
  if (t.expires_at_ms != 0) o["expires_at"] = t.expires_at_ms;
  if (t.revoked_at_ms != 0) o["revoked_at"] = t.revoked_at_ms;
  return o;
}

bj::object BindingJson(const metadata::RoleBinding& b) {
  return bj::object{{"principal", b.principal},
                    {"tenant", b.tenant},
                    {"role", b.role},
                    {"created_by", b.created_by},
                    {"created_at", b.created_at_ms}};
}

bj::object LimitJson(const metadata::RateLimitRecord& l) {
  return bj::object{{"tenant", l.tenant},
                    {"control", bj::object{{"rate", l.control_rate}, {"burst", l.control_burst}}},
                    {"predict", bj::object{{"rate", l.predict_rate}, {"burst", l.predict_burst}}},
                    {"updated_at", l.updated_at_ms}};
}

StatusOr<std::string> Required(const bj::object& msg, std::string_view key) {
  ASSIGN_OR_RETURN(std::optional<std::string> value, json::GetString(msg, key));
  if (!value || value->empty()) {
    return InvalidArgument("Missing value for required parameter '" + std::string(key) + "'");
  }
  return *value;
}

StatusOr<std::string> Optional(const bj::object& msg, std::string_view key) {
  ASSIGN_OR_RETURN(std::optional<std::string> value, json::GetString(msg, key));
  return value.value_or("");
}

StatusOr<metadata::RateLimitRecord> LimitFromJson(const bj::object& msg, std::string tenant) {
  metadata::RateLimitRecord limit;
  limit.tenant = std::move(tenant);
  for (auto [key, rate, burst] :
       {std::tuple{"control", &limit.control_rate, &limit.control_burst},
        std::tuple{"predict", &limit.predict_rate, &limit.predict_burst}}) {
    ASSIGN_OR_RETURN(const bj::object* budget, json::GetObject(msg, key));
    if (budget == nullptr) continue;
    for (const auto& field : *budget) {
      if (field.key() != "rate" && field.key() != "burst") {
        return InvalidArgument("Unknown field '" + std::string(key) + "." +
                               std::string(field.key().substr(0, 64)) +
                               "'; budgets have rate and burst");
      }
    }
    ASSIGN_OR_RETURN(std::optional<double> r, json::GetDouble(*budget, "rate"));
    ASSIGN_OR_RETURN(std::optional<double> b, json::GetDouble(*budget, "burst"));
    *rate = r.value_or(0);
    *burst = b.value_or(*rate);
  }
  return limit;
}

}  // namespace

StatusOr<int64_t> ParseLifetime(const bj::value& value) {
  if (value.is_int64()) return value.get_int64();
  if (value.is_uint64() && value.get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(value.get_uint64());
  }
  if (value.is_string()) {
    std::string_view text = value.get_string();
    if (text.size() >= 2 && text.size() <= 12) {
      int64_t unit = 0;
      switch (text.back()) {
        case 's':
          unit = 1;
          break;
        case 'm':
          unit = 60;
          break;
        case 'h':
          unit = 3600;
          break;
        case 'd':
          unit = 86400;
          break;
        default:
          break;
      }
      int64_t n = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, n);
      if (unit != 0 && ec == std::errc() && end == text.data() + text.size() - 1 && n >= 0 &&
          n <= int64_t{1} << 40) {
        return n * unit;
      }
    }
  }
  return InvalidArgument(
      "expires_in must be seconds (an integer) or a duration such as \"90d\", \"12h\", \"30m\"");
}

void SecurityHandlers::Add(http::Router& router, http::Method method, std::string pattern,
                           http::Permission permission,
                           std::function<Result(const http::Request&)> fn) {
  router.Add(
      method, std::move(pattern),
      [fn = std::move(fn)](http::Request& req) {
        Result result = fn(req);
        if (!result.ok()) return http::ErrorResponse(result.status());
        return http::Response::Json(200, bj::serialize(*result));
      },
      http::RouteOptions{.max_body_bytes = 64 << 10, .permission = permission});
}

void SecurityHandlers::Register(http::Router& router) {
  using M = http::Method;
  using P = http::Permission;
  auto bind = [this](Result (SecurityHandlers::*fn)(const http::Request&)) {
    return [this, fn](const http::Request& req) { return (this->*fn)(req); };
  };
  Add(router, M::kPost, "/api/v1/tokens", P::kAdmin, bind(&SecurityHandlers::CreateToken));
  Add(router, M::kGet, "/api/v1/tokens", P::kAdmin, bind(&SecurityHandlers::ListTokens));
  Add(router, M::kDelete, "/api/v1/tokens/{id}", P::kAdmin, bind(&SecurityHandlers::RevokeToken));
  Add(router, M::kGet, "/api/v1/whoami", P::kAuthenticated, bind(&SecurityHandlers::WhoAmI));
  Add(router, M::kPost, "/api/v1/tenants", P::kServerAdmin, bind(&SecurityHandlers::CreateTenant));
  Add(router, M::kGet, "/api/v1/tenants", P::kServerAdmin, bind(&SecurityHandlers::ListTenants));
  Add(router, M::kPost, "/api/v1/principals", P::kServerAdmin,
      bind(&SecurityHandlers::PutPrincipal));
  Add(router, M::kGet, "/api/v1/principals", P::kServerAdmin,
      bind(&SecurityHandlers::ListPrincipals));
  Add(router, M::kPost, "/api/v1/role-bindings", P::kAdmin,
      bind(&SecurityHandlers::AddRoleBinding));
  Add(router, M::kDelete, "/api/v1/role-bindings", P::kAdmin,
      bind(&SecurityHandlers::RemoveRoleBinding));
  Add(router, M::kGet, "/api/v1/role-bindings", P::kAdmin,
      bind(&SecurityHandlers::ListRoleBindings));
  Add(router, M::kPut, "/api/v1/rate-limits/{tenant}", P::kServerAdmin,
      bind(&SecurityHandlers::PutRateLimit));
  Add(router, M::kDelete, "/api/v1/rate-limits/{tenant}", P::kServerAdmin,
      bind(&SecurityHandlers::DeleteRateLimit));
  Add(router, M::kGet, "/api/v1/rate-limits", P::kServerAdmin,
      bind(&SecurityHandlers::ListRateLimits));
}

SecurityHandlers::Result SecurityHandlers::CreateToken(const http::Request& req) {
  ASSIGN_OR_RETURN(bj::object msg, ReadJsonBody(req));
  for (const auto& field : msg) {
    static constexpr std::string_view kKnown[] = {"principal", "tenant", "roles", "expires_in",
                                                  "description"};
    if (std::find(std::begin(kKnown), std::end(kKnown), field.key()) == std::end(kKnown)) {
      return InvalidArgument("Unknown field '" + std::string(field.key().substr(0, 64)) + "'");
    }
  }
  auth::TokenRequest request;
  ASSIGN_OR_RETURN(request.principal, Required(msg, "principal"));
  ASSIGN_OR_RETURN(request.tenant, Optional(msg, "tenant"));
  ASSIGN_OR_RETURN(request.description, Optional(msg, "description"));
  ASSIGN_OR_RETURN(const bj::array* roles, json::GetArray(msg, "roles"));
  if (roles == nullptr) return InvalidArgument("Missing value for required parameter 'roles'");
  for (const bj::value& role : *roles) {
    ASSIGN_OR_RETURN(std::string name, json::AsString(role, "roles[]"));
    request.roles.push_back(std::move(name));
  }
  if (const bj::value* expires = msg.if_contains("expires_in");
      expires != nullptr && !expires->is_null()) {
    ASSIGN_OR_RETURN(request.expires_in_s, ParseLifetime(*expires));
  }
  ASSIGN_OR_RETURN(auth::CreatedToken created, service_.CreateToken(req.scope, std::move(request)));
  bj::object out = TokenJson(created.record);
  out["token"] = created.text;
  return out;
}

SecurityHandlers::Result SecurityHandlers::ListTokens(const http::Request& req) {
  ASSIGN_OR_RETURN(
      std::vector<metadata::ApiTokenRecord> tokens,
      service_.ListTokens(req.scope, req.QueryParam("tenant"), req.QueryParam("principal")));
  bj::array list;
  for (const auto& t : tokens) list.push_back(TokenJson(t));
  return bj::object{{"tokens", std::move(list)}};
}

SecurityHandlers::Result SecurityHandlers::RevokeToken(const http::Request& req) {
  ASSIGN_OR_RETURN(metadata::ApiTokenRecord revoked,
                   service_.RevokeToken(req.scope, req.PathParam("id")));
  return TokenJson(revoked);
}

SecurityHandlers::Result SecurityHandlers::WhoAmI(const http::Request& req) {
  bj::object out;
  out["principal"] = req.scope.principal;
  out["tenant"] = req.scope.tenant;
  bj::array roles;
  for (const auto& r : req.scope.roles) roles.emplace_back(r);
  out["roles"] = std::move(roles);
  bj::array grants;
  if (req.scope.grants != nullptr) {
    for (const RoleGrant& g : *req.scope.grants) {
      grants.push_back(bj::object{{"tenant", g.tenant}, {"role", g.role}});
    }
  }
  out["grants"] = std::move(grants);
  out["authenticated"] = req.scope.grants != nullptr;
  return out;
}

SecurityHandlers::Result SecurityHandlers::CreateTenant(const http::Request& req) {
  ASSIGN_OR_RETURN(bj::object msg, ReadJsonBody(req));
  ASSIGN_OR_RETURN(std::string name, Required(msg, "name"));
  ASSIGN_OR_RETURN(std::string description, Optional(msg, "description"));
  RETURN_IF_ERROR(service_.CreateTenant(req.scope, name, description));
  return bj::object{{"name", name}, {"description", description}};
}

SecurityHandlers::Result SecurityHandlers::ListTenants(const http::Request& /*req*/) {
  ASSIGN_OR_RETURN(std::vector<metadata::TenantRecord> tenants, service_.ListTenants());
  bj::array list;
  for (const auto& t : tenants) {
    list.push_back(bj::object{
        {"name", t.name}, {"description", t.description}, {"created_at", t.created_at_ms}});
  }
  return bj::object{{"tenants", std::move(list)}};
}

SecurityHandlers::Result SecurityHandlers::PutPrincipal(const http::Request& req) {
  ASSIGN_OR_RETURN(bj::object msg, ReadJsonBody(req));
  ASSIGN_OR_RETURN(std::string name, Required(msg, "name"));
  ASSIGN_OR_RETURN(std::string kind, Optional(msg, "kind"));
  ASSIGN_OR_RETURN(std::optional<bool> disabled, json::GetBool(msg, "disabled"));
  RETURN_IF_ERROR(service_.PutPrincipal(req.scope, name, kind, disabled));
  return bj::object{{"name", name}};
}

SecurityHandlers::Result SecurityHandlers::ListPrincipals(const http::Request& /*req*/) {
  ASSIGN_OR_RETURN(std::vector<metadata::PrincipalRecord> principals, service_.ListPrincipals());
  bj::array list;
  for (const auto& p : principals) {
    list.push_back(bj::object{{"name", p.name},
                              {"kind", p.kind},
                              {"disabled", p.disabled},
                              {"created_at", p.created_at_ms},
                              {"updated_at", p.updated_at_ms}});
  }
  return bj::object{{"principals", std::move(list)}};
}

SecurityHandlers::Result SecurityHandlers::AddRoleBinding(const http::Request& req) {
  ASSIGN_OR_RETURN(bj::object msg, ReadJsonBody(req));
  ASSIGN_OR_RETURN(std::string principal, Required(msg, "principal"));
  ASSIGN_OR_RETURN(std::string tenant, Optional(msg, "tenant"));
  ASSIGN_OR_RETURN(std::string role, Required(msg, "role"));
  RETURN_IF_ERROR(service_.AddRoleBinding(req.scope, principal, tenant, role));
  return bj::object{{"principal", principal},
                    {"tenant", tenant.empty() ? req.scope.tenant : tenant},
                    {"role", role}};
}

SecurityHandlers::Result SecurityHandlers::RemoveRoleBinding(const http::Request& req) {
  auto principal = req.QueryParam("principal");
  auto role = req.QueryParam("role");
  if (!principal || !role) return InvalidArgument("principal and role are required parameters");
  RETURN_IF_ERROR(service_.RemoveRoleBinding(req.scope, *principal,
                                             req.QueryParam("tenant").value_or(""), *role));
  return bj::object{};
}

SecurityHandlers::Result SecurityHandlers::ListRoleBindings(const http::Request& req) {
  ASSIGN_OR_RETURN(
      std::vector<metadata::RoleBinding> bindings,
      service_.ListRoleBindings(req.scope, req.QueryParam("principal"), req.QueryParam("tenant")));
  bj::array list;
  for (const auto& b : bindings) list.push_back(BindingJson(b));
  return bj::object{{"role_bindings", std::move(list)}};
}

SecurityHandlers::Result SecurityHandlers::PutRateLimit(const http::Request& req) {
  ASSIGN_OR_RETURN(bj::object msg, ReadJsonBody(req));
  for (const auto& field : msg) {
    if (field.key() != "control" && field.key() != "predict") {
      return InvalidArgument("Unknown field '" + std::string(field.key().substr(0, 64)) +
                             "'; a budget has control and predict");
    }
  }
  ASSIGN_OR_RETURN(metadata::RateLimitRecord limit, LimitFromJson(msg, req.PathParam("tenant")));
  RETURN_IF_ERROR(service_.PutRateLimit(limit));
  return LimitJson(limit);
}

SecurityHandlers::Result SecurityHandlers::DeleteRateLimit(const http::Request& req) {
  RETURN_IF_ERROR(service_.DeleteRateLimit(req.PathParam("tenant")));
  return bj::object{};
}

SecurityHandlers::Result SecurityHandlers::ListRateLimits(const http::Request& /*req*/) {
  ASSIGN_OR_RETURN(std::vector<metadata::RateLimitRecord> limits, service_.ListRateLimits());
  bj::array list;
  for (const auto& l : limits) list.push_back(LimitJson(l));
  return bj::object{{"rate_limits", std::move(list)}};
}

}  // namespace cairn::api::v1
