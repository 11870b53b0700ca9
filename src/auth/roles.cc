#include "auth/roles.h"

#include <algorithm>

namespace cairn::auth {

using http::Permission;

bool IsKnownRole(std::string_view role) {
  return std::find(std::begin(kRoles), std::end(kRoles), role) != std::end(kRoles);
}

bool RoleGrants(std::string_view role, Permission permission) {
  switch (permission) {
    case Permission::kPublic:
    case Permission::kAuthenticated:
      return IsKnownRole(role);
    case Permission::kRead:
      return role == "viewer" || role == "editor" || role == "deployer" || role == "admin";
    case Permission::kWrite:
      return role == "editor" || role == "admin";
    case Permission::kDeploy:
      return role == "deployer" || role == "admin";
    case Permission::kPredict:
      return role == "predictor" || role == "admin";
    case Permission::kAdmin:
      return role == "admin";
    case Permission::kServerRead:
    case Permission::kServerAdmin:
    case Permission::kUnset:
      return false;
  }
  return false;
}

bool Allows(std::span<const RoleGrant> grants, std::string_view tenant, Permission permission) {
  switch (permission) {
    case Permission::kUnset:
      return false;
    case Permission::kPublic:
    case Permission::kAuthenticated:
      return true;
    case Permission::kServerRead:
      return std::any_of(grants.begin(), grants.end(), [](const RoleGrant& g) {
        return g.tenant == kAllTenants && RoleGrants(g.role, Permission::kRead);
      });
    case Permission::kServerAdmin:
      return std::any_of(grants.begin(), grants.end(), [](const RoleGrant& g) {
        return g.tenant == kAllTenants && g.role == "admin";
      });
    default:
      return std::any_of(grants.begin(), grants.end(), [&](const RoleGrant& g) {
        return (g.tenant == tenant || g.tenant == kAllTenants) && RoleGrants(g.role, permission);
      });
  }
}

std::vector<std::string> RolesIn(std::span<const RoleGrant> grants, std::string_view tenant) {
  std::vector<std::string> out;
  for (std::string_view role : kRoles) {
    bool held = std::any_of(grants.begin(), grants.end(), [&](const RoleGrant& g) {
      return g.role == role && (g.tenant == tenant || g.tenant == kAllTenants);
    });
    if (held) out.emplace_back(role);
  }
  return out;
}

bool HoldsAnyRoleIn(std::span<const RoleGrant> grants, std::string_view tenant) {
  return std::any_of(grants.begin(), grants.end(), [&](const RoleGrant& g) {
    return g.tenant == tenant || g.tenant == kAllTenants;
  });
}

}  // namespace cairn::auth
