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

Status RequestScope::CheckDeadline(Clock::time_point now) const {
  if (deadline && now > *deadline) return Unavailable("deadline exceeded");
  return Status::Ok();
}

}  // namespace cairn
