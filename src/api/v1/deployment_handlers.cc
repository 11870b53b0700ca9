#include "api/v1/deployment_handlers.h"

#include <charconv>

#include "http/error_response.h"
#include "stream/prediction_event.h"

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

http::Response DeploymentHandlers::Predictions(http::Request& request) {
  if (events_ == nullptr) {
    return http::ErrorResponse(FailedPrecondition("this server keeps no prediction log"));
  }
  auto status = service_.Get(request.scope, request.PathParam("id"));
  if (!status.ok()) return http::ErrorResponse(status.status());
  stream::ReadOptions options{.from_offset = stream::kLatestOffset,
                              .direction = stream::ReadDirection::kNewestFirst,
                              .max_events = 100,
                              .tenant = request.scope.tenant,
                              .key = status->record.id};
  auto parse_int = [](std::string_view text, int64_t lo, int64_t hi, int64_t& out) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size() && out >= lo && out <= hi;
  };
  if (auto max = request.QueryParam("max_results")) {
    int64_t value = 0;
    if (!parse_int(*max, 1, 1000, value)) {
      return http::ErrorResponse(InvalidArgument("max_results must be between 1 and 1000"));
    }
    options.max_events = static_cast<int>(value);
  }
  if (auto token = request.QueryParam("page_token"); token && !token->empty()) {
    if (!parse_int(*token, 0, stream::kLatestOffset - 1, options.from_offset)) {
      return http::ErrorResponse(InvalidArgument("invalid page_token"));
    }
  }
  auto page = events_->Read(stream::kPredictionsTopic, options);
  if (!page.ok()) return http::ErrorResponse(page.status());
  // Inputs and outputs are stored as JSON text; they are spliced into the answer as they are.
  std::string body = R"({"predictions":[)";
  bool first = true;
  for (const stream::StoredEvent& stored : page->events) {
    auto event = stream::DecodePredictionEvent(stored.event.payload);
    if (!event.ok()) continue;
    bj::object meta;
    meta["offset"] = stored.offset;
    meta["request_id"] = event->request_id;
    meta["timestamp_ms"] = event->timestamp_ms;
    meta["latency_us"] = event->latency_us;
    meta["model_name"] = event->model_name;
    meta["model_version"] = event->model_version;
    meta["protocol"] = event->protocol;
    meta["status_code"] = event->status_code;
    if (event->subject_id) meta["subject_id"] = *event->subject_id;
    if (!event->error_message.empty()) meta["error"] = event->error_message;
    std::string item = bj::serialize(meta);
    item.pop_back();  // '}'
    item += R"(,"inputs":)";
    item += event->inputs_json.empty() ? "null" : event->inputs_json;
    item += R"(,"outputs":)";
    item += event->outputs_json.empty() ? "null" : event->outputs_json;
    item += '}';
    body += first ? "" : ",";
    body += item;
    first = false;
  }
  body += ']';
  if (static_cast<int>(page->events.size()) == options.max_events && page->next_offset >= 0) {
    body += R"(,"next_page_token":")" + std::to_string(page->next_offset) + '"';
  }
  body += '}';
  return http::Response::Json(200, std::move(body));
}

void DeploymentHandlers::Register(http::Router& router) {
  const http::RouteOptions spec_body{.max_body_bytes = kMaxSpecBytes,
                                     .permission = http::Permission::kDeploy};
  const http::RouteOptions read{.permission = http::Permission::kRead};
  const http::RouteOptions deploy{.permission = http::Permission::kDeploy};
  router.Add(
      http::Method::kPost, "/api/v1/deployments/create",
      [this](http::Request& req) {
        auto status = service_.Create(req.scope, req.body);
        if (!status.ok()) return http::ErrorResponse(status.status());
        return http::Response::Json(200, bj::serialize(StatusJson(*status)));
      },
      spec_body);
  router.Add(
      http::Method::kGet, "/api/v1/deployments",
      [this](http::Request& req) {
        auto all = service_.List(req.scope);
        if (!all.ok()) return http::ErrorResponse(all.status());
        bj::array list;
        for (const auto& status : *all) list.push_back(StatusJson(status));
        bj::object out;
        out["deployments"] = std::move(list);
        return http::Response::Json(200, bj::serialize(out));
      },
      read);
  auto get = [this](http::Request& req) {
    auto status = service_.Get(req.scope, req.PathParam("id"));
    return JsonReply(status.ok() ? StatusOr<bj::object>(StatusJson(*status))
                                 : StatusOr<bj::object>(status.status()));
  };
  router.Add(http::Method::kGet, "/api/v1/deployments/{id}/status", get, read);
  router.Add(http::Method::kGet, "/api/v1/deployments/{id}", get, read);
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
  router.Add(
      http::Method::kGet, "/api/v1/deployments/{id}/predictions",
      [this](http::Request& req) { return Predictions(req); }, read);
  router.Add(
      http::Method::kDelete, "/api/v1/deployments/{id}",
      [this](http::Request& req) {
        auto id = service_.Delete(req.scope, req.PathParam("id"));
        if (!id.ok()) return http::ErrorResponse(id.status());
        bj::object out;
        out["deployment_id"] = *id;
        out["state"] = "DELETED";
        return http::Response::Json(200, bj::serialize(out));
      },
      deploy);
}

}  // namespace cairn::api::v1
