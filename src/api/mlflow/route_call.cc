#include "api/mlflow/route_call.h"

#include <string>

#include "base/json.h"

namespace cairn::api::mlflow {
namespace bj = boost::json;

StatusOr<bj::object> CallReadRoute(const http::Router& router, const http::Request& outer,
                                   http::Method method, std::string_view path,
                                   const bj::object& message) {
  http::Router::Match match = router.Find(method, path);
  const http::Route* route = match.route;
  if (route == nullptr || !route->handler ||
      (route->options.permission != http::Permission::kRead &&
       route->options.permission != http::Permission::kPublic)) {
    return Internal("no read route for " + std::string(path));
  }
  http::Request inner;
  inner.method = method;
  inner.target = std::string(path);
  inner.path = std::string(path);
  inner.headers.Set("Content-Type", "application/json");
  inner.body = bj::serialize(message);
  inner.path_params = std::move(match.params);
  inner.route_pattern = route->pattern;
  inner.permission = route->options.permission;
  inner.client = outer.client;
  inner.scope = outer.scope;
  http::Response response = route->handler(inner);
  auto body = json::ParseObject(response.body);
  if (response.status == 200) {
    if (!body.ok()) return Internal("unreadable answer from " + std::string(path));
    return std::move(body).value();
  }
  std::string error = "request failed with status " + std::to_string(response.status);
  if (body.ok()) {
    if (const bj::value* m = body->if_contains("message"); m != nullptr && m->is_string()) {
      error = std::string(m->as_string());
    }
  }
  switch (response.status) {
    case 404:
      return NotFound(std::move(error));
    case 400:
      return InvalidArgument(std::move(error));
    case 401:
    case 403:
      return Status(StatusCode::kPermissionDenied, std::move(error));
    default:
      return Internal(std::move(error));
  }
}

}  // namespace cairn::api::mlflow
