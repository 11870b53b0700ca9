#include "api/v1/openapi.h"

#include <string>

namespace cairn::api::v1 {

// Generated from openapi.json by CMake (openapi_document.cc.in).
std::string_view OpenApiJsonText();

std::string_view OpenApiDocument() { return OpenApiJsonText(); }

void RegisterOpenApi(http::Router& router) {
  router.Add(
      http::Method::kGet, "/api/v1/openapi.json",
      [](http::Request&) { return http::Response::Json(200, std::string(OpenApiDocument())); },
      http::RouteOptions{.run_inline = true, .permission = http::Permission::kPublic});
}

}  // namespace cairn::api::v1
