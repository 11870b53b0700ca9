#include "api/v1/model_handlers.h"

#include <charconv>
#include <optional>
#include <string>
#include <utility>

#include "api/v1/codec.h"
#include "api/v1/deployment_handlers.h"
#include "base/json.h"
#include "filter/filter.h"
#include "http/error_response.h"

namespace cairn::api::v1 {
namespace {

namespace bj = boost::json;

constexpr int64_t kDefaultMaxResults = 100;
constexpr int64_t kMaxMaxResults = 1000;

Status Missing(std::string_view field) {
  return InvalidArgument("Missing value for required parameter '" + std::string(field) + "'");
}

StatusOr<std::string> RequiredString(const bj::object& msg, std::string_view field) {
  ASSIGN_OR_RETURN(std::optional<std::string> value, json::GetString(msg, field));
  if (!value || value->empty()) return Missing(field);
  return std::move(*value);
}

StatusOr<std::string> OptionalString(const bj::object& msg, std::string_view field) {
  ASSIGN_OR_RETURN(std::optional<std::string> value, json::GetString(msg, field));
  return value.value_or("");
}

// The version as the service takes it: a JSON number or a string of digits both give "3".
StatusOr<std::string> RequiredVersion(const bj::object& msg) {
  auto it = msg.find("version");
  if (it == msg.end() || it->value().is_null()) return Missing("version");
  if (it->value().is_string()) {
    if (it->value().as_string().empty()) return Missing("version");
    return std::string(it->value().as_string());
  }
  ASSIGN_OR_RETURN(int64_t number, json::AsInt64(it->value(), "version"));
  return std::to_string(number);
}

StatusOr<int64_t> MaxResults(const http::Request& req) {
  std::optional<std::string> text = req.QueryParam("max_results");
  if (!text || text->empty()) return kDefaultMaxResults;
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || ptr != text->data() + text->size() || value < 1 ||
      value > kMaxMaxResults) {
    return InvalidArgument("Invalid value for parameter 'max_results' supplied: '" + *text +
                           "'. It must be an integer from 1 to " + std::to_string(kMaxMaxResults));
  }
  return value;
}

}  // namespace

ModelHandlers::ModelHandlers(registry::RegistryService& registry,
                             artifact::ArtifactStore& artifacts)
    : registry_(registry), artifacts_(artifacts) {}

void ModelHandlers::Add(http::Router& router, http::Method method, std::string pattern, Method fn,
                        http::Permission permission) {
  router.Add(
      method, std::move(pattern),
      [this, fn](http::Request& req) -> http::Response {
        Result result = (this->*fn)(req);
        if (!result.ok()) return http::ErrorResponse(result.status());
        return http::Response::Json(result->status, bj::serialize(result->body));
      },
      http::RouteOptions{.permission = permission});
}

void ModelHandlers::Register(http::Router& router) {
  using M = http::Method;
  using P = http::Permission;
  Add(router, M::kPost, "/api/v1/models/register", &ModelHandlers::RegisterVersion, P::kWrite);
  Add(router, M::kGet, "/api/v1/models/{name}/versions", &ModelHandlers::ListVersions, P::kRead);
  Add(router, M::kPost, "/api/v1/models/{name}/promote", &ModelHandlers::Promote, P::kWrite);
  Add(router, M::kDelete, "/api/v1/models/{name}/versions/{version}", &ModelHandlers::DeleteVersion,
      P::kWrite);
  Add(router, M::kGet, "/api/v1/models/{name}/versions/{version}/lineage",
      &ModelHandlers::GetLineage, P::kRead);
}

ModelHandlers::Result ModelHandlers::RegisterVersion(const http::Request& req) {
  ASSIGN_OR_RETURN(bj::object msg, ReadJsonBody(req));
  registry::RegisterRequest request;
  ASSIGN_OR_RETURN(request.name, RequiredString(msg, "name"));
  ASSIGN_OR_RETURN(const bj::object* source, json::GetObject(msg, "source"));
  if (source == nullptr) return Missing("source");
  ASSIGN_OR_RETURN(request.source.run_id, OptionalString(*source, "run_id"));
  ASSIGN_OR_RETURN(request.source.artifact_path, OptionalString(*source, "artifact_path"));
  ASSIGN_OR_RETURN(request.source.logged_model_id, OptionalString(*source, "logged_model_id"));
  ASSIGN_OR_RETURN(request.source.artifact_uri, OptionalString(*source, "artifact_uri"));
  ASSIGN_OR_RETURN(request.description, OptionalString(msg, "description"));
  ASSIGN_OR_RETURN(request.tags, TagsFromJson(msg, "tags"));
  ASSIGN_OR_RETURN(metadata::ModelVersion version, registry_.Register(req.scope, request));
  return Reply{201, bj::object{{"model_version", ModelVersionToJson(version)}}};
}

ModelHandlers::Result ModelHandlers::ListVersions(const http::Request& req) {
  const std::string name = req.PathParam("name");
  ASSIGN_OR_RETURN(int64_t max_results, MaxResults(req));
  ASSIGN_OR_RETURN(std::optional<int64_t> below,
                   DecodeVersionPageToken(req.QueryParam("page_token").value_or("")));
  // An unknown model is a 404, not an empty list.
  RETURN_IF_ERROR(registry_.GetRegisteredModel(req.scope, name).status());

  metadata::SearchModelVersionsQuery query;
  query.filter.clauses.push_back(
      {filter::Entity::kAttribute, "name", filter::Comparator::kEq, name});
  if (below) {
    query.filter.clauses.push_back({filter::Entity::kAttribute, "version_number",
                                    filter::Comparator::kLt, static_cast<double>(*below)});
  }
  query.order_by.push_back({filter::Entity::kAttribute, "version_number", /*ascending=*/false});
  query.page = {.max_results = max_results, .offset = 0};
  ASSIGN_OR_RETURN(auto page, registry_.SearchModelVersions(req.scope, query));

  bj::array versions;
  versions.reserve(page.items.size());
  for (const auto& v : page.items) versions.push_back(ModelVersionToJson(v));
  bj::object out{{"versions", std::move(versions)}};
  if (page.has_more && !page.items.empty()) {
    out["next_page_token"] = EncodeVersionPageToken(page.items.back().version);
  }
  return Reply{200, std::move(out)};
}

ModelHandlers::Result ModelHandlers::Promote(const http::Request& req) {
  ASSIGN_OR_RETURN(bj::object msg, ReadJsonBody(req));
  ASSIGN_OR_RETURN(std::string version, RequiredVersion(msg));
  ASSIGN_OR_RETURN(std::optional<std::string> stage, json::GetString(msg, "stage"));
  ASSIGN_OR_RETURN(std::optional<std::string> alias, json::GetString(msg, "alias"));
  ASSIGN_OR_RETURN(std::optional<bool> archive, json::GetBool(msg, "archive_previous"));
  ASSIGN_OR_RETURN(metadata::PromotionRecord record,
                   registry_.Promote(req.scope, req.PathParam("name"), version, std::move(stage),
                                     std::move(alias), archive.value_or(false)));
  return Reply{200, bj::object{{"promotion", PromotionToJson(record)}}};
}

ModelHandlers::Result ModelHandlers::DeleteVersion(const http::Request& req) {
  RETURN_IF_ERROR(registry_.DeleteVersionAndArtifacts(req.scope, req.PathParam("name"),
                                                      req.PathParam("version"), artifacts_));
  return Reply{200, bj::object()};
}

ModelHandlers::Result ModelHandlers::GetLineage(const http::Request& req) {
  ASSIGN_OR_RETURN(registry::Lineage lineage, registry_.GetLineage(req.scope, req.PathParam("name"),
                                                                   req.PathParam("version")));
  bj::object body = LineageToJson(lineage);
  if (deployments_ != nullptr) {
    ASSIGN_OR_RETURN(std::vector<serving::DeploymentStatus> all, deployments_->List(req.scope));
    bj::array serving;
    for (const serving::DeploymentStatus& status : all) {
      if (status.record.model_name == lineage.version.name &&
          status.record.model_version == std::to_string(lineage.version.version)) {
        serving.push_back(DeploymentHandlers::StatusJson(status));
      }
    }
    body["deployments"] = std::move(serving);
  }
  return Reply{200, std::move(body)};
}

}  // namespace cairn::api::v1
