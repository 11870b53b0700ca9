#pragma once

#include <memory>

#include "auth/api_token.h"
#include "auth/auth_middleware.h"
#include "auth/jwt/jwt_cache.h"
#include "base/clock.h"

namespace cairn::auth {

// The BearerVerifier of --auth jwt: verifies the JWT (through the cache) and turns it into an
// Identity holding the roles its claims name, in each tenant its claims name (unknown role names
// are ignored), plus the principal's stored role bindings (a disabled principal is refused). The
// default tenant is the first tenant claimed, else "default". `bindings` and `clock` must outlive
// the verifier.
BearerVerifier MakeJwtBearerVerifier(std::shared_ptr<const CachingJwtVerifier> jwt,
                                     TokenAuthenticator& bindings, const Clock& clock);

}  // namespace cairn::auth
