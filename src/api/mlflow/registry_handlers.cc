#include "api/mlflow/registry_handlers.h"

#include <string>
#include <utility>
#include <vector>

#include "api/mlflow/codec.h"
#include "api/mlflow/request_message.h"
#include "api/mlflow/search_params.h"
#include "base/json.h"
#include "filter/filter.h"
#include "http/error_response.h"

namespace cairn::api::mlflow {
namespace {

namespace bj = boost::json;
using metadata::Tag;

constexpr int64_t kDefaultSearchRegisteredModelsMax = 100;
// What an omitted max_results means for model versions over REST (the proto default).
constexpr int64_t kDefaultSearchModelVersionsMax = 200000;

// `version` is a string in MLflow's protos; a number is accepted too.
StatusOr<std::string> RequiredVersion(const bj::object& msg) {
  auto it = msg.find("version");
  if (it != msg.end() && (it->value().is_int64() || it->value().is_uint64())) {
    ASSIGN_OR_RETURN(int64_t v, json::AsInt64(it->value(), "version"));
    return std::to_string(v);
  }
  return RequiredString(msg, "version");
}

// The principal of requests made without authentication (RequestScope's default). MLflow's
// server records no author for registry objects, so an unauthenticated author goes unsaid too.
constexpr std::string_view kAnonymous = "anonymous";

void PutAuthor(bj::object& o, const std::string& user_id) {
  if (user_id != kAnonymous) PutIfNotEmpty(o, "user_id", user_id);
}

bj::array VersionsToJson(const std::vector<metadata::ModelVersion>& versions) {
  bj::array arr;
  arr.reserve(versions.size());
  for (const auto& v : versions) arr.push_back(ModelVersionToJson(v));
  return arr;
}

}  // namespace

bj::object ModelVersionToJson(const metadata::ModelVersion& v) {
  bj::object o;
  o["name"] = v.name;
  o["version"] = std::to_string(v.version);
  o["creation_timestamp"] = v.creation_timestamp;
  o["last_updated_timestamp"] = v.last_updated_timestamp;
  PutAuthor(o, v.user_id);
  o["current_stage"] = registry::StageName(v.current_stage);
  // MLflow always sends description, run_id and run_link of a version, "" when unset.
  o["description"] = v.description;
  o["source"] = v.source;
  o["run_id"] = v.run_id;
  o["status"] = metadata::ModelVersionStatusName(v.status);
  PutIfNotEmpty(o, "status_message", v.status_message);
  if (!v.tags.empty()) o["tags"] = TagsToJson(v.tags);
  o["run_link"] = v.run_link;
  if (!v.aliases.empty()) {
    bj::array aliases;
    aliases.reserve(v.aliases.size());
    for (const auto& a : v.aliases) aliases.emplace_back(a);
    o["aliases"] = std::move(aliases);
  }
  PutIfNotEmpty(o, "model_id", v.model_id);
  return o;
}

bj::object RegisteredModelToJson(const metadata::RegisteredModel& m) {
  bj::object o;
  o["name"] = m.name;
  o["creation_timestamp"] = m.creation_timestamp;
  o["last_updated_timestamp"] = m.last_updated_timestamp;
  PutAuthor(o, m.user_id);
  PutIfNotEmpty(o, "description", m.description);
  if (!m.latest_versions.empty()) o["latest_versions"] = VersionsToJson(m.latest_versions);
  if (!m.tags.empty()) o["tags"] = TagsToJson(m.tags);
  if (!m.aliases.empty()) {
    bj::array aliases;
    aliases.reserve(m.aliases.size());
    for (const auto& a : m.aliases) {
      aliases.push_back(bj::object{{"alias", a.alias}, {"version", std::to_string(a.version)}});
    }
    o["aliases"] = std::move(aliases);
  }
  return o;
}

RegistryHandlers::RegistryHandlers(registry::RegistryService& service) : service_(service) {}

void RegistryHandlers::Add(http::Router& router, http::Method method, std::string_view path,
                           Method fn, std::initializer_list<std::string_view> repeated) {
  std::vector<std::string_view> repeated_copy(repeated);
  auto handler = [this, fn, repeated_copy](http::Request& req) -> http::Response {
    StatusOr<bj::object> msg = ReadMessage(req, repeated_copy);
    if (!msg.ok()) return http::ErrorResponse(msg.status());
    JsonResult result = (this->*fn)(req, *msg);
    if (!result.ok()) return http::ErrorResponse(result.status());
    return http::Response::Json(200, bj::serialize(*result));
  };
  http::RouteOptions options;
  options.permission = MlflowRoutePermission(method, path);
  for (std::string_view prefix : {"/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/"}) {
    router.Add(method, std::string(prefix) + std::string(path), handler, options);
  }
}

void RegistryHandlers::Register(http::Router& router) {
  using M = http::Method;
  using H = RegistryHandlers;
  Add(router, M::kPost, "registered-models/create", &H::CreateRegisteredModel);
  Add(router, M::kGet, "registered-models/get", &H::GetRegisteredModel);
  Add(router, M::kPost, "registered-models/rename", &H::RenameRegisteredModel);
  Add(router, M::kPatch, "registered-models/update", &H::UpdateRegisteredModel);
  Add(router, M::kDelete, "registered-models/delete", &H::DeleteRegisteredModel);
  Add(router, M::kGet, "registered-models/search", &H::SearchRegisteredModels, {"order_by"});
  Add(router, M::kPost, "registered-models/search", &H::SearchRegisteredModels, {"order_by"});
  Add(router, M::kPost, "registered-models/get-latest-versions", &H::GetLatestVersions, {"stages"});
  Add(router, M::kGet, "registered-models/get-latest-versions", &H::GetLatestVersions, {"stages"});
  Add(router, M::kPost, "registered-models/set-tag", &H::SetRegisteredModelTag);
  Add(router, M::kDelete, "registered-models/delete-tag", &H::DeleteRegisteredModelTag);
  Add(router, M::kPost, "registered-models/alias", &H::SetRegisteredModelAlias);
  Add(router, M::kDelete, "registered-models/alias", &H::DeleteRegisteredModelAlias);
  Add(router, M::kGet, "registered-models/alias", &H::GetModelVersionByAlias);

  Add(router, M::kPost, "model-versions/create", &H::CreateModelVersion);
  Add(router, M::kGet, "model-versions/get", &H::GetModelVersion);
  Add(router, M::kPatch, "model-versions/update", &H::UpdateModelVersion);
  Add(router, M::kDelete, "model-versions/delete", &H::DeleteModelVersion);
  Add(router, M::kGet, "model-versions/search", &H::SearchModelVersions, {"order_by"});
  Add(router, M::kPost, "model-versions/search", &H::SearchModelVersions, {"order_by"});
  Add(router, M::kPost, "model-versions/transition-stage", &H::TransitionModelVersionStage);
  Add(router, M::kGet, "model-versions/get-download-uri", &H::GetModelVersionDownloadUri);
  Add(router, M::kPost, "model-versions/set-tag", &H::SetModelVersionTag);
  Add(router, M::kDelete, "model-versions/delete-tag", &H::DeleteModelVersionTag);
}

// ---- Registered models ----

RegistryHandlers::JsonResult RegistryHandlers::CreateRegisteredModel(const http::Request& req,
                                                                     const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(msg, "name"));
  ASSIGN_OR_RETURN(std::string description, OptionalString(msg, "description"));
  ASSIGN_OR_RETURN(std::vector<Tag> tags, TagsFromJson(msg, "tags"));
  ASSIGN_OR_RETURN(metadata::RegisteredModel m,
                   service_.CreateRegisteredModel(req.scope, name, description, tags));
  return bj::object{{"registered_model", RegisteredModelToJson(m)}};
}

RegistryHandlers::JsonResult RegistryHandlers::GetRegisteredModel(const http::Request& req,
                                                                  const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(msg, "name"));
  ASSIGN_OR_RETURN(metadata::RegisteredModel m, service_.GetRegisteredModel(req.scope, name));
  return bj::object{{"registered_model", RegisteredModelToJson(m)}};
}

RegistryHandlers::JsonResult RegistryHandlers::RenameRegisteredModel(const http::Request& req,
                                                                     const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(msg, "name"));
  ASSIGN_OR_RETURN(std::string new_name, RequiredString(msg, "new_name"));
  ASSIGN_OR_RETURN(metadata::RegisteredModel m,
                   service_.RenameRegisteredModel(req.scope, name, new_name));
  return bj::object{{"registered_model", RegisteredModelToJson(m)}};
}

RegistryHandlers::JsonResult RegistryHandlers::UpdateRegisteredModel(const http::Request& req,
                                                                     const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(msg, "name"));
  ASSIGN_OR_RETURN(std::optional<std::string> description, json::GetString(msg, "description"));
  ASSIGN_OR_RETURN(metadata::RegisteredModel m,
                   service_.UpdateRegisteredModel(req.scope, name, std::move(description)));
  return bj::object{{"registered_model", RegisteredModelToJson(m)}};
}

RegistryHandlers::JsonResult RegistryHandlers::DeleteRegisteredModel(const http::Request& req,
                                                                     const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(msg, "name"));
  RETURN_IF_ERROR(service_.DeleteRegisteredModel(req.scope, name));
  return bj::object{};
}

RegistryHandlers::JsonResult RegistryHandlers::SearchRegisteredModels(const http::Request& req,
                                                                      const bj::object& msg) {
  metadata::SearchRegisteredModelsQuery q;
  ASSIGN_OR_RETURN(q.page.max_results,
                   OptionalInt(msg, "max_results", kDefaultSearchRegisteredModelsMax));
  ASSIGN_OR_RETURN(std::string token, OptionalString(msg, "page_token"));
  ASSIGN_OR_RETURN(q.page.offset, DecodePageToken(token));
  ASSIGN_OR_RETURN(std::string filter_text, OptionalString(msg, "filter"));
  ASSIGN_OR_RETURN(q.filter,
                   filter::ParseFilter(filter_text, filter::SearchKind::kRegisteredModels));
  ASSIGN_OR_RETURN(q.order_by, ParseOrderByList(msg, filter::SearchKind::kRegisteredModels));
  ASSIGN_OR_RETURN(auto page, service_.SearchRegisteredModels(req.scope, q));
  bj::object out;
  PutList(out, "registered_models", page.items, RegisteredModelToJson);
  AddNextPageToken(out, page, q.page);
  return out;
}

RegistryHandlers::JsonResult RegistryHandlers::GetLatestVersions(const http::Request& req,
                                                                 const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(msg, "name"));
  ASSIGN_OR_RETURN(std::vector<std::string> stages, StringsFromJson(msg, "stages"));
  ASSIGN_OR_RETURN(auto versions, service_.GetLatestVersions(req.scope, name, stages));
  bj::object out;
  if (!versions.empty()) out["model_versions"] = VersionsToJson(versions);
  return out;
}

RegistryHandlers::JsonResult RegistryHandlers::SetRegisteredModelTag(const http::Request& req,
                                                                     const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(msg, "name"));
  ASSIGN_OR_RETURN(std::string key, RequiredString(msg, "key"));
  ASSIGN_OR_RETURN(std::string value, OptionalString(msg, "value"));
  RETURN_IF_ERROR(
      service_.SetRegisteredModelTag(req.scope, name, {std::move(key), std::move(value)}));
  return bj::object{};
}

RegistryHandlers::JsonResult RegistryHandlers::DeleteRegisteredModelTag(const http::Request& req,
                                                                        const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(msg, "name"));
  ASSIGN_OR_RETURN(std::string key, RequiredString(msg, "key"));
  RETURN_IF_ERROR(service_.DeleteRegisteredModelTag(req.scope, name, key));
  return bj::object{};
}

RegistryHandlers::JsonResult RegistryHandlers::SetRegisteredModelAlias(const http::Request& req,
                                                                       const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(msg, "name"));
  ASSIGN_OR_RETURN(std::string alias, RequiredString(msg, "alias"));
  ASSIGN_OR_RETURN(std::string version, RequiredVersion(msg));
  RETURN_IF_ERROR(service_.SetRegisteredModelAlias(req.scope, name, alias, version));
  return bj::object{};
}

RegistryHandlers::JsonResult RegistryHandlers::DeleteRegisteredModelAlias(const http::Request& req,
                                                                          const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(msg, "name"));
  ASSIGN_OR_RETURN(std::string alias, RequiredString(msg, "alias"));
  RETURN_IF_ERROR(service_.DeleteRegisteredModelAlias(req.scope, name, alias));
  return bj::object{};
}

RegistryHandlers::JsonResult RegistryHandlers::GetModelVersionByAlias(const http::Request& req,
                                                                      const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(msg, "name"));
  ASSIGN_OR_RETURN(std::string alias, RequiredString(msg, "alias"));
  ASSIGN_OR_RETURN(metadata::ModelVersion v,
                   service_.GetModelVersionByAlias(req.scope, name, alias));
  return bj::object{{"model_version", ModelVersionToJson(v)}};
}

// ---- Model versions ----

RegistryHandlers::JsonResult RegistryHandlers::CreateModelVersion(const http::Request& req,
                                                                  const bj::object& msg) {
  metadata::CreateModelVersionRequest r;
  ASSIGN_OR_RETURN(r.name, RequiredString(msg, "name"));
  ASSIGN_OR_RETURN(r.source, RequiredString(msg, "source"));
  ASSIGN_OR_RETURN(r.run_id, OptionalString(msg, "run_id"));
  ASSIGN_OR_RETURN(r.run_link, OptionalString(msg, "run_link"));
  ASSIGN_OR_RETURN(r.description, OptionalString(msg, "description"));
  ASSIGN_OR_RETURN(r.model_id, OptionalString(msg, "model_id"));
  ASSIGN_OR_RETURN(r.tags, TagsFromJson(msg, "tags"));
  ASSIGN_OR_RETURN(metadata::ModelVersion v, service_.CreateModelVersion(req.scope, std::move(r)));
  return bj::object{{"model_version", ModelVersionToJson(v)}};
}

RegistryHandlers::JsonResult RegistryHandlers::GetModelVersion(const http::Request& req,
                                                               const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(msg, "name"));
  ASSIGN_OR_RETURN(std::string version, RequiredVersion(msg));
  ASSIGN_OR_RETURN(metadata::ModelVersion v, service_.GetModelVersion(req.scope, name, version));
  return bj::object{{"model_version", ModelVersionToJson(v)}};
}

RegistryHandlers::JsonResult RegistryHandlers::UpdateModelVersion(const http::Request& req,
                                                                  const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(msg, "name"));
  ASSIGN_OR_RETURN(std::string version, RequiredVersion(msg));
  ASSIGN_OR_RETURN(std::optional<std::string> description, json::GetString(msg, "description"));
  ASSIGN_OR_RETURN(metadata::ModelVersion v,
                   service_.UpdateModelVersion(req.scope, name, version, std::move(description)));
  return bj::object{{"model_version", ModelVersionToJson(v)}};
}

RegistryHandlers::JsonResult RegistryHandlers::DeleteModelVersion(const http::Request& req,
                                                                  const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(msg, "name"));
  ASSIGN_OR_RETURN(std::string version, RequiredVersion(msg));
  RETURN_IF_ERROR(service_.DeleteModelVersion(req.scope, name, version));
  return bj::object{};
}

RegistryHandlers::JsonResult RegistryHandlers::SearchModelVersions(const http::Request& req,
                                                                   const bj::object& msg) {
  metadata::SearchModelVersionsQuery q;
  ASSIGN_OR_RETURN(q.page.max_results,
                   OptionalInt(msg, "max_results", kDefaultSearchModelVersionsMax));
  ASSIGN_OR_RETURN(std::string token, OptionalString(msg, "page_token"));
  ASSIGN_OR_RETURN(q.page.offset, DecodePageToken(token));
  ASSIGN_OR_RETURN(std::string filter_text, OptionalString(msg, "filter"));
  ASSIGN_OR_RETURN(q.filter, filter::ParseFilter(filter_text, filter::SearchKind::kModelVersions));
  ASSIGN_OR_RETURN(q.order_by, ParseOrderByList(msg, filter::SearchKind::kModelVersions));
  ASSIGN_OR_RETURN(auto page, service_.SearchModelVersions(req.scope, q));
  bj::object out;
  if (!page.items.empty()) out["model_versions"] = VersionsToJson(page.items);
  AddNextPageToken(out, page, q.page);
  return out;
}

RegistryHandlers::JsonResult RegistryHandlers::TransitionModelVersionStage(const http::Request& req,
                                                                           const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(msg, "name"));
  ASSIGN_OR_RETURN(std::string version, RequiredVersion(msg));
  ASSIGN_OR_RETURN(std::string stage, RequiredString(msg, "stage"));
  ASSIGN_OR_RETURN(std::optional<bool> archive, json::GetBool(msg, "archive_existing_versions"));
  ASSIGN_OR_RETURN(metadata::ModelVersion v,
                   service_.TransitionModelVersionStage(req.scope, name, version, stage,
                                                        archive.value_or(false)));
  return bj::object{{"model_version", ModelVersionToJson(v)}};
}

RegistryHandlers::JsonResult RegistryHandlers::GetModelVersionDownloadUri(const http::Request& req,
                                                                          const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(msg, "name"));
  ASSIGN_OR_RETURN(std::string version, RequiredVersion(msg));
  ASSIGN_OR_RETURN(std::string uri, service_.GetModelVersionDownloadUri(req.scope, name, version));
  return bj::object{{"artifact_uri", std::move(uri)}};
}

RegistryHandlers::JsonResult RegistryHandlers::SetModelVersionTag(const http::Request& req,
                                                                  const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(msg, "name"));
  ASSIGN_OR_RETURN(std::string version, RequiredVersion(msg));
  ASSIGN_OR_RETURN(std::string key, RequiredString(msg, "key"));
  ASSIGN_OR_RETURN(std::string value, OptionalString(msg, "value"));
  RETURN_IF_ERROR(
      service_.SetModelVersionTag(req.scope, name, version, {std::move(key), std::move(value)}));
  return bj::object{};
}

RegistryHandlers::JsonResult RegistryHandlers::DeleteModelVersionTag(const http::Request& req,
                                                                     const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(msg, "name"));
  ASSIGN_OR_RETURN(std::string version, RequiredVersion(msg));
  ASSIGN_OR_RETURN(std::string key, RequiredString(msg, "key"));
  RETURN_IF_ERROR(service_.DeleteModelVersionTag(req.scope, name, version, key));
  return bj::object{};
}

}  // namespace cairn::api::mlflow
