#include "api/v1/deployment_handlers.h"

#include "http/error_response.h"

namespace cairn::api::v1 {
namespace {

namespace bj = boost::json;

constexpr uint64_t kMaxSpecBytes = 64 * 1024;

http::Response JsonReply(const StatusOr<bj::object>& result) {
  if (!result.ok()) return http::ErrorResponse(result.status());
  return http::Response::Json(200, bj::serialize(*result));
}

}  // namespace

bj::object DeploymentHandlers::StatusJson(const serving::DeploymentStatus& status) {
  const metadata::DeploymentRecord& r = status.record;
  bj::object out;
  out["deployment_id"] = r.id;
  out["name"] = r.name;
  out["state"] = r.state;
  out["reason"] = r.reason;
  out["model_name"] = r.model_name;
  out["model_version"] = r.model_version;
  if (!status.spec.alias.empty()) out["alias"] = status.spec.alias;
  out["runtime"] = status.runtime;
  out["device"] = status.spec.runtime_options.device;
  bj::object replicas;
  replicas["desired"] = status.replicas_desired;
  replicas["ready"] = status.replicas_ready;
  replicas["min"] = serving::MinReplicas(status.spec);
  replicas["max"] = serving::MaxReplicas(status.spec);
  out["replicas"] = std::move(replicas);
  bj::value spec = bj::parse(serving::SpecToJson(status.spec));
  out["deployment_config"] = spec.as_object()["deployment_config"];
  out["options"] = spec.as_object()["options"];
  bj::object endpoints;
  endpoints["invocations"] = "/endpoints/" + r.name + "/invocations";
  endpoints["v2_infer"] = "/v2/models/" + r.name + "/infer";
  endpoints["v2_metadata"] = "/v2/models/" + r.name;
  endpoints["v2_ready"] = "/v2/models/" + r.name + "/ready";
  out["endpoints"] = std::move(endpoints);
  out["created_at"] = r.created_at_ms;
  out["updated_at"] = r.updated_at_ms;
  out["load_time_ms"] = status.load_time_ms;
  out["in_flight"] = status.in_flight;
  out["predictions_dropped"] = status.predictions_dropped;
  return out;
}

void DeploymentHandlers::Register(http::Router& router) {
  http::RouteOptions spec_body{.max_body_bytes = kMaxSpecBytes};
  router.Add(
      http::Method::kPost, "/api/v1/deployments/create",
      [this](http::Request& req) {
        auto status = service_.Create(req.scope, req.body);
        if (!status.ok()) return http::ErrorResponse(status.status());
        return http::Response::Json(200, bj::serialize(StatusJson(*status)));
      },
      spec_body);
  router.Add(http::Method::kGet, "/api/v1/deployments", [this](http::Request& req) {
    auto all = service_.List(req.scope);
    if (!all.ok()) return http::ErrorResponse(all.status());
    bj::array list;
    for (const auto& status : *all) list.push_back(StatusJson(status));
    bj::object out;
    out["deployments"] = std::move(list);
    return http::Response::Json(200, bj::serialize(out));
  });
  router.Add(http::Method::kGet, "/api/v1/deployments/{id}/status", [this](http::Request& req) {
    auto status = service_.Get(req.scope, req.PathParam("id"));
    return JsonReply(status.ok() ? StatusOr<bj::object>(StatusJson(*status))
                                 : StatusOr<bj::object>(status.status()));
  });
  router.Add(http::Method::kGet, "/api/v1/deployments/{id}", [this](http::Request& req) {
    auto status = service_.Get(req.scope, req.PathParam("id"));
    return JsonReply(status.ok() ? StatusOr<bj::object>(StatusJson(*status))
                                 : StatusOr<bj::object>(status.status()));
  });
  router.Add(
      http::Method::kPut, "/api/v1/deployments/{id}/scale",
      [this](http::Request& req) {
        auto status = service_.Scale(req.scope, req.PathParam("id"), req.body);
        return JsonReply(status.ok() ? StatusOr<bj::object>(StatusJson(*status))
                                     : StatusOr<bj::object>(status.status()));
      },
      spec_body);
  router.Add(
      http::Method::kPut, "/api/v1/deployments/{id}",
      [this](http::Request& req) {
        auto status = service_.Update(req.scope, req.PathParam("id"), req.body);
        return JsonReply(status.ok() ? StatusOr<bj::object>(StatusJson(*status))
                                     : StatusOr<bj::object>(status.status()));
      },
      spec_body);
  router.Add(http::Method::kDelete, "/api/v1/deployments/{id}", [this](http::Request& req) {
    auto id = service_.Delete(req.scope, req.PathParam("id"));
    if (!id.ok()) return http::ErrorResponse(id.status());
    bj::object out;
    out["deployment_id"] = *id;
    out["state"] = "DELETED";
    return http::Response::Json(200, bj::serialize(out));
  });
}

}  // namespace cairn::api::v1
