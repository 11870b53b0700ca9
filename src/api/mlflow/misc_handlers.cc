#include "api/mlflow/misc_handlers.h"

#include <string>

#include "http/error_response.h"

namespace cairn::api::mlflow {

void RegisterMiscRoutes(http::Router& router) {
  router.Add(http::Method::kGet, "/health",
             [](http::Request&) { return http::Response::Text(200, "OK"); });
  router.Add(http::Method::kGet, "/version", [](http::Request&) {
    return http::Response::Text(200, std::string(kMlflowCompatibleVersion));
  });
  for (const char* prefix : {"/api/3.0/mlflow/server-info", "/ajax-api/3.0/mlflow/server-info"}) {
    router.Add(http::Method::kGet, prefix, [](http::Request&) {
      return http::Response::Json(200, R"({"store_type":"SqlStore","workspaces_enabled":false})");
    });
  }
  http::RouteOptions otlp_options;
  otlp_options.max_body_bytes = 16 << 20;
  router.Add(
      http::Method::kPost, "/v1/traces",
      [](http::Request&) {
        return http::ErrorResponse(
            Unimplemented("REST OTLP span logging is not supported by this server; spans are "
                          "kept in the trace artifact."));
      },
      otlp_options);
}

}  // namespace cairn::api::mlflow
