#include "api/mlflow/assessment_handlers.h"

#include <string>
#include <utility>
#include <vector>

#include "api/mlflow/assessment_json.h"
#include "api/mlflow/codec.h"
#include "api/mlflow/request_message.h"
#include "base/json.h"
#include "http/error_response.h"
#include "tracking/trace_service.h"

namespace cairn::api::mlflow {
namespace {

namespace bj = boost::json;
using metadata::Assessment;

// Assessment ids a client chooses: the shape of trace ids (they name no file, but are kept as
// tame).
Status ValidateAssessmentId(std::string_view id) {
  Status status = tracking::TraceService::ValidateTraceId(id);
  if (!status.ok()) {
    return InvalidArgument("Invalid assessment ID '" + std::string(id.substr(0, 300)) +
                           "': expected 1 to 256 letters, digits, '-', '_', '.' or ':'");
  }
  return Status::Ok();
}

StatusOr<std::string> TraceIdOf(const http::Request& req) {
  std::string id(req.PathParam("trace_id"));
  RETURN_IF_ERROR(tracking::TraceService::ValidateTraceId(id));
  return id;
}

StatusOr<std::string> AssessmentIdOf(const http::Request& req) {
  std::string id(req.PathParam("assessment_id"));
  RETURN_IF_ERROR(ValidateAssessmentId(id));
  return id;
}

}  // namespace

AssessmentHandlers::AssessmentHandlers(metadata::AssessmentStore& assessments,
                                       metadata::TraceLinkStore& links, const Clock& clock,
                                       IdGenerator& ids)
    : assessments_(assessments), links_(links), clock_(clock), ids_(ids) {}

void AssessmentHandlers::Add(http::Router& router, http::Method method, std::string_view version,
                             std::string_view path, Method fn) {
  auto handler = [this, fn](http::Request& req) -> http::Response {
    StatusOr<bj::object> msg = ReadMessage(req, {"trace_ids"});
    if (!msg.ok()) return http::ErrorResponse(msg.status());
    JsonResult result = (this->*fn)(req, *msg);
    if (!result.ok()) return http::ErrorResponse(result.status());
    return http::Response::Json(200, bj::serialize(*result));
  };
  http::RouteOptions options;
  options.max_body_bytes = 8 << 20;  // one assessment's value, error, rationale and metadata
  options.permission = MlflowRoutePermission(method, path);
  for (std::string_view api : {"/api/", "/ajax-api/"}) {
    router.Add(method, std::string(api) + std::string(version) + "/mlflow/" + std::string(path),
               handler, options);
  }
}

void AssessmentHandlers::Register(http::Router& router) {
  using M = http::Method;
  using H = AssessmentHandlers;
  Add(router, M::kPost, "3.0", "traces/{trace_id}/assessments", &H::Create);
  Add(router, M::kGet, "3.0", "traces/{trace_id}/assessments/{assessment_id}", &H::Get);
  Add(router, M::kPatch, "3.0", "traces/{trace_id}/assessments/{assessment_id}", &H::Update);
  Add(router, M::kDelete, "3.0", "traces/{trace_id}/assessments/{assessment_id}", &H::Delete);
  Add(router, M::kPost, "2.0", "traces/link-to-run", &H::LinkTracesToRun);
  Add(router, M::kPost, "2.0", "traces/link-prompts", &H::LinkPromptsToTrace);
}

AssessmentHandlers::JsonResult AssessmentHandlers::Create(const http::Request& req,
                                                          const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string trace_id, TraceIdOf(req));
  ASSIGN_OR_RETURN(const bj::object* body, json::GetObject(msg, "assessment"));
  if (body == nullptr) {
    return InvalidArgument(
        "Missing value for required parameter 'assessment'. See the API docs "
        "for more information about request parameters.");
  }
  ASSIGN_OR_RETURN(Assessment a, AssessmentFromJson(*body, trace_id, clock_.NowMillis()));
  if (a.assessment_id.empty()) {
    a.assessment_id = "a-" + ids_.Hex32();
  } else {
    RETURN_IF_ERROR(ValidateAssessmentId(a.assessment_id));
  }
  if (a.overrides) RETURN_IF_ERROR(ValidateAssessmentId(*a.overrides));
  ASSIGN_OR_RETURN(Assessment stored, assessments_.CreateAssessment(req.scope.tenant, a));
  return bj::object{{"assessment", AssessmentToJson(stored)}};
}

AssessmentHandlers::JsonResult AssessmentHandlers::Get(const http::Request& req,
                                                       const bj::object& /*msg*/) {
  ASSIGN_OR_RETURN(std::string trace_id, TraceIdOf(req));
  ASSIGN_OR_RETURN(std::string id, AssessmentIdOf(req));
  ASSIGN_OR_RETURN(Assessment a, assessments_.GetAssessment(req.scope.tenant, trace_id, id));
  return bj::object{{"assessment", AssessmentToJson(a)}};
}

AssessmentHandlers::JsonResult AssessmentHandlers::Update(const http::Request& req,
                                                          const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string trace_id, TraceIdOf(req));
  ASSIGN_OR_RETURN(std::string id, AssessmentIdOf(req));
  ASSIGN_OR_RETURN(const bj::object* body, json::GetObject(msg, "assessment"));
  if (body == nullptr) {
    return InvalidArgument(
        "Missing value for required parameter 'assessment'. See the API docs "
        "for more information about request parameters.");
  }
  const bj::value* mask = msg.if_contains("update_mask");
  if (mask == nullptr || mask->is_null()) {
    return InvalidArgument(
        "Missing value for required parameter 'update_mask'. See the API docs "
        "for more information about request parameters.");
  }
  if (!mask->is_string()) {
    return InvalidArgument(
        "Invalid value for 'update_mask': expected a comma-separated string "
        "of field paths");
  }
  ASSIGN_OR_RETURN(metadata::AssessmentUpdate update,
                   AssessmentUpdateFromJson(*body, mask->get_string(), clock_.NowMillis()));
  ASSIGN_OR_RETURN(Assessment a,
                   assessments_.UpdateAssessment(req.scope.tenant, trace_id, id, update));
  return bj::object{{"assessment", AssessmentToJson(a)}};
}

AssessmentHandlers::JsonResult AssessmentHandlers::Delete(const http::Request& req,
                                                          const bj::object& /*msg*/) {
  ASSIGN_OR_RETURN(std::string trace_id, TraceIdOf(req));
  ASSIGN_OR_RETURN(std::string id, AssessmentIdOf(req));
  RETURN_IF_ERROR(assessments_.DeleteAssessment(req.scope.tenant, trace_id, id));
  return bj::object{};
}

AssessmentHandlers::JsonResult AssessmentHandlers::LinkTracesToRun(const http::Request& req,
                                                                   const bj::object& msg) {
  const bj::value* ids_value = msg.if_contains("trace_ids");
  if (ids_value == nullptr || ids_value->is_null()) {
    return InvalidArgument(
        "Missing value for required parameter 'trace_ids'. See the API docs "
        "for more information about request parameters.");
  }
  if (!ids_value->is_array()) {
    return InvalidArgument(
        "Invalid value for parameter 'trace_ids' supplied: expected a list of "
        "strings");
  }
  ASSIGN_OR_RETURN(std::vector<std::string> trace_ids, StringsFromJson(msg, "trace_ids"));
  ASSIGN_OR_RETURN(std::string run_id, RequiredString(msg, "run_id"));
  if (trace_ids.size() > kMaxTraceLinksPerRequest) {
    return InvalidArgument("Cannot link more than " + std::to_string(kMaxTraceLinksPerRequest) +
                           " traces to a run in a single request. Provided " +
                           std::to_string(trace_ids.size()) + " traces.");
  }
  if (run_id.size() > kMaxAssessmentIdLength) {
    return InvalidArgument("Invalid value for 'run_id': longer than " +
                           std::to_string(kMaxAssessmentIdLength) + " characters");
  }
  for (const std::string& id : trace_ids) {
    RETURN_IF_ERROR(tracking::TraceService::ValidateTraceId(id));
  }
  RETURN_IF_ERROR(links_.LinkTracesToRun(req.scope.tenant, trace_ids, run_id, clock_.NowMillis()));
  return bj::object{};
}

AssessmentHandlers::JsonResult AssessmentHandlers::LinkPromptsToTrace(const http::Request& req,
                                                                      const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string trace_id, RequiredString(msg, "trace_id"));
  ASSIGN_OR_RETURN(const bj::array* versions, json::GetArray(msg, "prompt_versions"));
  if (versions == nullptr) {
    return InvalidArgument(
        "Missing value for required parameter 'prompt_versions'. See the API "
        "docs for more information about request parameters.");
  }
  RETURN_IF_ERROR(tracking::TraceService::ValidateTraceId(trace_id));
  if (versions->size() > kMaxPromptLinksPerRequest) {
    return InvalidArgument("Cannot link more than " + std::to_string(kMaxPromptLinksPerRequest) +
                           " prompt versions to a trace in a single request");
  }
  std::vector<metadata::PromptVersionRef> prompts;
  for (const bj::value& v : *versions) {
    if (!v.is_object()) {
      return InvalidArgument(
          "Invalid value for 'prompt_versions': expected objects with name "
          "and version");
    }
    ASSIGN_OR_RETURN(std::optional<std::string> name, json::GetString(v.get_object(), "name"));
    ASSIGN_OR_RETURN(std::optional<std::string> version,
                     json::GetString(v.get_object(), "version"));
    if (!name || name->empty() || !version || version->empty()) {
      return InvalidArgument("Each prompt version needs a name and a version");
    }
    if (name->size() > kMaxAssessmentNameLength || version->size() > kMaxAssessmentIdLength) {
      return InvalidArgument("Invalid prompt version: name or version too long");
    }
    prompts.push_back({std::move(*name), std::move(*version)});
  }
  RETURN_IF_ERROR(
      links_.LinkPromptsToTrace(req.scope.tenant, trace_id, prompts, clock_.NowMillis()));
  return bj::object{};
}

}  // namespace cairn::api::mlflow
