#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/request_scope.h"

namespace cairn::auth {

// Who a verified credential says is calling. Immutable once built; shared by the credential
// caches and every request that presents the credential.
struct Identity {
  std::string principal;
  // Every role the caller holds: the credential's own (a token's roles, a JWT's claims) and the
  // principal's stored role bindings.
  std::shared_ptr<const std::vector<RoleGrant>> grants;
  // The tenant a request addresses when it names none (no workspace header).
  std::string default_tenant;
  // When the credential stops being valid (unix ms); 0: never.
  int64_t expires_at_ms = 0;
  // "token" or "jwt", for the audit log.
  std::string method;
};

}  // namespace cairn::auth
