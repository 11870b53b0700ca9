#include "auth/jwt_identity.h"

#include "auth/roles.h"

namespace cairn::auth {

BearerVerifier MakeJwtBearerVerifier(std::shared_ptr<const CachingJwtVerifier> jwt,
                                     TokenAuthenticator& bindings, const Clock& clock) {
  return [jwt = std::move(jwt), &bindings,
          &clock](std::string_view credential) -> StatusOr<std::shared_ptr<const Identity>> {
    ASSIGN_OR_RETURN(std::shared_ptr<const VerifiedJwt> verified,
                     jwt->Verify(credential, clock.NowMillis() / 1000));
    ASSIGN_OR_RETURN(std::shared_ptr<const std::vector<RoleGrant>> stored,
                     bindings.BindingsOf(verified->principal));
    auto grants = std::make_shared<std::vector<RoleGrant>>(*stored);
    for (const std::string& tenant : verified->tenants) {
      for (const std::string& role : verified->roles) {
        if (IsKnownRole(role)) grants->push_back({tenant, role});
      }
    }
    auto identity = std::make_shared<Identity>();
    identity->principal = verified->principal;
    identity->grants = std::move(grants);
    identity->default_tenant = verified->tenants.empty() || verified->tenants.front() == kAllTenants
                                   ? std::string("default")
                                   : verified->tenants.front();
    identity->expires_at_ms = verified->expires_at * 1000;
    identity->method = "jwt";
    return std::shared_ptr<const Identity>(std::move(identity));
  };
}

}  // namespace cairn::auth
