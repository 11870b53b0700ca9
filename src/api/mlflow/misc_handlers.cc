#include "api/mlflow/misc_handlers.h"

#include <string>

namespace cairn::api::mlflow {

void RegisterMiscRoutes(http::Router& router) {
  // These answer from constants: no need to leave the I/O thread.
  const http::RouteOptions in_memory{.run_inline = true, .permission = http::Permission::kPublic};
  router.Add(
      http::Method::kGet, "/health", [](http::Request&) { return http::Response::Text(200, "OK"); },
      in_memory);
  router.Add(
      http::Method::kGet, "/version",
      [](http::Request&) {
        return http::Response::Text(200, std::string(kMlflowCompatibleVersion));
      },
      in_memory);
  for (const char* prefix : {"/api/3.0/mlflow/server-info", "/ajax-api/3.0/mlflow/server-info"}) {
    router.Add(
        http::Method::kGet, prefix,
        [](http::Request&) {
          return http::Response::Json(200, R"({"store_type":"SqlStore","workspaces_enabled":false,)"
                                           R"("trace_archival_enabled":false,)"
                                           R"("multipart_uploads_enabled":false,)"
                                           R"("multipart_downloads_enabled":false,)"
                                           R"("features_enabled":{"gateway":false}})");
        },
        in_memory);
  }
}

}  // namespace cairn::api::mlflow
