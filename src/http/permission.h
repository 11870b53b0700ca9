#pragma once

#include <cstdint>
#include <string_view>

namespace cairn::http {

// What a route needs from its caller, declared when the route is registered. The server refuses
// to start with a route that declares none (kUnset), so no endpoint is ever added without one.
// The roles that grant each permission are decided by the authorizer (auth/), not here.
enum class Permission : uint8_t {
  kUnset,          // not declared: a programming error the server reports at start-up
  kPublic,         // anyone, without credentials: health, version, OpenAPI, UI assets
  kAuthenticated,  // any authenticated caller, whatever its roles (e.g. "who am I")
  kRead,           // read the tenant's tracking, registry, artifacts, deployments, monitoring
  kWrite,          // change the tenant's tracking and registry data and artifacts
  kDeploy,         // create, change and delete deployments and their monitoring
  kPredict,        // call the tenant's prediction endpoints
  kAdmin,          // manage the tenant: tokens, role bindings, audit, erasure
  kServerRead,     // read server-wide state: /metrics (every tenant's series)
  kServerAdmin,    // manage the server: tenants, principals, rate limits, audit verification
};

std::string_view PermissionName(Permission permission);

// Whether a request under `permission` changes state and is recorded in the audit log whatever
// its method. Reads (kRead, kPublic, kAuthenticated) and predictions never are; GET and HEAD
// requests never are.
bool IsMutation(Permission permission, bool read_only_method);

}  // namespace cairn::http
