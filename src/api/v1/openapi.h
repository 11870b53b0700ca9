#pragma once

#include <string_view>

#include "http/router.h"

namespace cairn::api::v1 {

// The OpenAPI 3.0 document describing every /api/v1 route: src/api/v1/openapi.json, compiled
// into the binary at build time. Whoever adds a /api/v1 route adds it there too; openapi_test
// checks that the two agree.
std::string_view OpenApiDocument();

// Adds GET /api/v1/openapi.json, which serves OpenApiDocument().
void RegisterOpenApi(http::Router& router);

}  // namespace cairn::api::v1
