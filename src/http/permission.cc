#include "http/permission.h"

namespace cairn::http {

std::string_view PermissionName(Permission permission) {
  switch (permission) {
    case Permission::kUnset:
      return "unset";
    case Permission::kPublic:
      return "public";
    case Permission::kAuthenticated:
      return "authenticated";
    case Permission::kRead:
      return "read";
    case Permission::kWrite:
      return "write";
    case Permission::kDeploy:
      return "deploy";
    case Permission::kPredict:
      return "predict";
    case Permission::kAdmin:
      return "admin";
    case Permission::kServerRead:
      return "server-read";
    case Permission::kServerAdmin:
      return "server-admin";
  }
  return "unset";
}

bool IsMutation(Permission permission, bool read_only_method) {
  if (read_only_method) return false;
  switch (permission) {
    case Permission::kWrite:
    case Permission::kDeploy:
    case Permission::kAdmin:
    case Permission::kServerAdmin:
      return true;
    default:
      return false;
  }
}

}  // namespace cairn::http
