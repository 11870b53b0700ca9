#include "base/request_scope.h"

#include <algorithm>

namespace cairn {

RequestScope RequestScope::ForTenant(std::string_view tenant, std::string_view principal) {
  RequestScope scope;
  scope.tenant = std::string(tenant);
  scope.principal = std::string(principal);
  return scope;
}

bool RequestScope::HasRole(std::string_view role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

bool RequestScope::HasRoleIn(std::string_view in_tenant, std::string_view role) const {
  if (grants == nullptr) return in_tenant == tenant && HasRole(role);
  return std::any_of(grants->begin(), grants->end(), [&](const RoleGrant& grant) {
    return grant.role == role && (grant.tenant == in_tenant || grant.tenant == "*");
  });
}

Status RequestScope::CheckDeadline(Clock::time_point now) const {
  if (deadline && now > *deadline) return Unavailable("deadline exceeded");
  return Status::Ok();
}

}  // namespace cairn
