#pragma once

#include <chrono>
#include <cstddef>

#include "auth/jwt/key_source.h"
#include "http/client.h"

namespace cairn::auth {

// A JwksFetchFn that GETs the URL with `client`, which is borrowed and must outlive the
// function. A status other than 200 fails UNAVAILABLE, as do the client's own errors; a body
// over `max_bytes` fails RESOURCE_EXHAUSTED. Each fetch is bounded by `timeout`.
JwksFetchFn HttpJwksFetcher(http::Client& client,
                            std::chrono::milliseconds timeout = std::chrono::seconds(5),
                            size_t max_bytes = size_t{1} << 20);

}  // namespace cairn::auth
