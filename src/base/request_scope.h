#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cairn {

// A role held in a tenant; tenant "*" means every tenant.
struct RoleGrant {
  std::string tenant;
  std::string role;
};

// Who is asking, in which tenant, under which request id and until when: the one value a request
// carries from the HTTP middlewares through the services. Middleware fills it (request id,
// tenant; authentication will fill the principal and roles and may narrow the tenant); services
// take it instead of a bare tenant string and pass its tenant to the stores; audit reads it.
// Background work (retraining, monitors, tests) builds one with ForTenant. A plain value: copy
// it freely, share it read-only between threads.
struct RequestScope {
  using Clock = std::chrono::steady_clock;

  // Canonical (lower-case) tenant name; every store call is scoped to it.
  std::string tenant = "default";
  // The authenticated caller; "anonymous" when authentication is off.
  std::string principal = "anonymous";
  // The caller's roles in `tenant`.
  std::vector<std::string> roles;
  // Every role the caller holds, in any tenant; null when authentication is off.
  std::shared_ptr<const std::vector<RoleGrant>> grants;
  std::string request_id;
  // When the caller stops waiting; nullopt: no deadline.
  std::optional<Clock::time_point> deadline;

  // A scope for work that no request started, on behalf of `principal`.
  static RequestScope ForTenant(std::string_view tenant, std::string_view principal = "system");

  bool HasRole(std::string_view role) const;
  // Whether the caller holds `role` in `tenant` (directly or through "*"). Without grants
  // (authentication off) only the roles in the scope's own tenant count.
  bool HasRoleIn(std::string_view tenant, std::string_view role) const;
  // UNAVAILABLE "deadline exceeded" once `now` is past the deadline; OK otherwise. Long work
  // checks it between steps so an abandoned request stops early.
  Status CheckDeadline(Clock::time_point now = Clock::now()) const;
};

}  // namespace cairn
