#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/request_scope.h"
#include "http/permission.h"

namespace cairn::auth {

// The roles a principal may hold in a tenant, and what each grants there:
//   viewer     read
//   editor     read, write
//   deployer   read, deploy
//   predictor  predict
//   admin      read, write, deploy, predict, admin
// Held in tenant "*" a role applies in every tenant; a viewer, editor, deployer or admin in "*"
// also has server-read (/metrics), and an admin in "*" server-admin.
inline constexpr std::string_view kRoles[] = {"viewer", "editor", "deployer", "predictor", "admin"};
// The tenant that stands for every tenant in grants, tokens and role bindings.
inline constexpr std::string_view kAllTenants = "*";

bool IsKnownRole(std::string_view role);

// Whether `role`, held in the tenant a request addresses, grants `permission` there.
bool RoleGrants(std::string_view role, http::Permission permission);

// Whether `grants` allow `permission` in `tenant`. kPublic and kAuthenticated are always allowed
// (the caller is known by then); server permissions need a grant in "*".
bool Allows(std::span<const RoleGrant> grants, std::string_view tenant,
            http::Permission permission);

// The roles `grants` give in `tenant` ("*" grants included), each once, in kRoles order.
std::vector<std::string> RolesIn(std::span<const RoleGrant> grants, std::string_view tenant);

// Whether `grants` name `tenant` (or "*") at all: the tenants a caller may address.
bool HoldsAnyRoleIn(std::span<const RoleGrant> grants, std::string_view tenant);

}  // namespace cairn::auth
