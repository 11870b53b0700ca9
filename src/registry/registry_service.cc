#include "registry/registry_service.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <limits>
#include <utility>

#include "artifact/artifact_store.h"
#include "artifact/tenant_layout.h"
#include "metadata/names.h"
#include "tracking/validation.h"

namespace cairn::registry {
namespace {

using metadata::ModelStage;

constexpr std::string_view kIsPromptTag = "mlflow.prompt.is_prompt";
constexpr std::string_view kModelVersionsTag = "mlflow.modelVersions";

Status ValidateDescription(const std::optional<std::string>& description) {
  if (description && description->find('\0') != std::string::npos) {
    return InvalidArgument("Invalid value for parameter 'description': NUL character");
  }
  return Status::Ok();
}

// True when the '/'-separated paths are equal or one is a directory inside the other.
bool Overlaps(std::string_view a, std::string_view b) {
  if (a.size() > b.size()) std::swap(a, b);
  if (b.substr(0, a.size()) != a) return false;
  return b.size() == a.size() || b[a.size()] == '/';
}

// True for "mlflow-artifacts:" and "mlflow-artifacts:/": the top of the tenant's tree in Cairn's
// artifact service, which ArtifactServicePath does not map to a path.
bool IsArtifactServiceTop(std::string_view location) {
  if (!StartsWithIgnoreCase(location, kArtifactServiceScheme)) return false;
  std::string_view rest = location.substr(kArtifactServiceScheme.size());
  if (rest.substr(0, 2) == "//") return false;
  if (!rest.empty() && rest[0] == '/') rest.remove_prefix(1);
  StatusOr<std::string> normalized = artifact::NormalizeArtifactPath(rest);
  return normalized.ok() && normalized->empty();
}

// MLflow's checks of a registry search page: max_results in [1, limit] (in its words) and a
// page token that decoded to a valid offset.
Status ValidateSearchPage(const metadata::Page& page, int64_t limit) {
  const std::string got = ", but got value " + std::to_string(page.max_results);
  if (page.max_results < 1) {
    return InvalidArgument(
        "Invalid value for request parameter max_results. It must be a positive integer" + got);
  }
  if (page.max_results > limit) {
    return InvalidArgument("Invalid value for request parameter max_results. It must be at most " +
                           std::to_string(limit) + got);
  }
  if (page.offset < 0) return InvalidArgument("Invalid page token");
  return Status::Ok();
}

}  // namespace

// ---- RegistryService ----

RegistryService::RegistryService(metadata::RegistryStore& registry,
                                 metadata::TrackingStore& tracking, const Clock& clock)
    : registry_(registry), tracking_(tracking), clock_(clock) {}

void RegistryService::SetDeletionGuard(DeletionGuard guard) {
  MutexLock lock(guard_mu_);
  deletion_guard_ = std::move(guard);
}

void RegistryService::SetObserver(RegistryObserver* observer) {
  MutexLock lock(guard_mu_);
  observer_ = observer;
}

void RegistryService::Notify(const RequestScope& scope, const RegistryEvent& event) {
  // Called under the lock so that SetObserver(nullptr) returning means no call is under way;
  // observers only queue.
  MutexLock lock(guard_mu_);
  if (observer_ != nullptr) observer_->OnRegistryEvent(scope, event);
}

Status RegistryService::CheckDeletionAllowed(const RequestScope& scope,
                                             const metadata::ModelVersion& version) {
  DeletionGuard guard;
  {
    MutexLock lock(guard_mu_);
    guard = deletion_guard_;
  }
  if (!guard) return Status::Ok();
  return guard(scope.tenant, version);
}

StatusOr<metadata::RegisteredModel> RegistryService::CreateRegisteredModel(
    const RequestScope& scope, std::string_view name, std::string_view description,
    const std::vector<metadata::Tag>& tags) {
  RETURN_IF_ERROR(ValidateNewModelName(name));
  for (const auto& t : tags) RETURN_IF_ERROR(ValidateRegistryTag(t));
  ASSIGN_OR_RETURN(metadata::RegisteredModel model,
                   registry_.CreateRegisteredModel(scope.tenant, name, description, tags,
                                                   scope.principal, clock_.NowMillis()));
  Notify(scope, {.kind = RegistryEvent::Kind::kRegisteredModelCreated,
                 .name = std::string(name),
                 .description = std::string(description),
                 .tags = tags});
  return model;
}

StatusOr<metadata::RegisteredModel> RegistryService::GetRegisteredModel(const RequestScope& scope,
                                                                        std::string_view name) {
  RETURN_IF_ERROR(ValidateModelName(name));
  return registry_.GetRegisteredModel(scope.tenant, name);
}

StatusOr<metadata::RegisteredModel> RegistryService::RenameRegisteredModel(
    const RequestScope& scope, std::string_view name, std::string_view new_name) {
  RETURN_IF_ERROR(ValidateModelName(name));
  RETURN_IF_ERROR(ValidateNewModelName(new_name, "new_name"));
  return registry_.RenameRegisteredModel(scope.tenant, name, new_name, clock_.NowMillis());
}

StatusOr<metadata::RegisteredModel> RegistryService::UpdateRegisteredModel(
    const RequestScope& scope, std::string_view name, std::optional<std::string> description) {
  RETURN_IF_ERROR(ValidateModelName(name));
  RETURN_IF_ERROR(ValidateDescription(description));
  return registry_.UpdateRegisteredModel(scope.tenant, name, std::move(description),
                                         clock_.NowMillis());
}

Status RegistryService::DeleteRegisteredModel(const RequestScope& scope, std::string_view name) {
  RETURN_IF_ERROR(ValidateModelName(name));
  bool has_guard;
  {
    MutexLock lock(guard_mu_);
    has_guard = static_cast<bool>(deletion_guard_);
  }
  if (has_guard) {
    RETURN_IF_ERROR(registry_.GetRegisteredModel(scope.tenant, name).status());
    metadata::SearchModelVersionsQuery query;
    query.filter.clauses.push_back(
        {filter::Entity::kAttribute, "name", filter::Comparator::kEq, std::string(name)});
    query.page.max_results = 10000;
    while (true) {
      ASSIGN_OR_RETURN(auto page, registry_.SearchModelVersions(scope.tenant, query));
      for (const auto& v : page.items) RETURN_IF_ERROR(CheckDeletionAllowed(scope, v));
      if (!page.has_more) break;
      query.page.offset += query.page.max_results;
    }
  }
  return registry_.DeleteRegisteredModel(scope.tenant, name);
}

StatusOr<metadata::ResultPage<metadata::RegisteredModel>> RegistryService::SearchRegisteredModels(
    const RequestScope& scope, const metadata::SearchRegisteredModelsQuery& query) {
  RETURN_IF_ERROR(ValidateSearchPage(query.page, kMaxSearchRegisteredModelsResults));
  return registry_.SearchRegisteredModels(scope.tenant, query);
}

StatusOr<std::vector<metadata::ModelVersion>> RegistryService::GetLatestVersions(
    const RequestScope& scope, std::string_view name, const std::vector<std::string>& stages) {
  RETURN_IF_ERROR(ValidateModelName(name));
  std::vector<ModelStage> parsed;
  parsed.reserve(stages.size());
  for (const auto& s : stages) {
    ASSIGN_OR_RETURN(ModelStage stage, ParseStage(s));
    parsed.push_back(stage);
  }
  return registry_.GetLatestVersions(scope.tenant, name, parsed);
}

Status RegistryService::SetRegisteredModelTag(const RequestScope& scope, std::string_view name,
                                              const metadata::Tag& tag) {
  RETURN_IF_ERROR(ValidateModelName(name));
  RETURN_IF_ERROR(ValidateRegistryTag(tag));
  RETURN_IF_ERROR(registry_.SetRegisteredModelTag(scope.tenant, name, tag, clock_.NowMillis()));
  Notify(scope, {.kind = RegistryEvent::Kind::kRegisteredModelTagSet,
                 .name = std::string(name),
                 .key = tag.key,
                 .value = tag.value});
  return Status::Ok();
}

Status RegistryService::DeleteRegisteredModelTag(const RequestScope& scope, std::string_view name,
                                                 std::string_view key) {
  RETURN_IF_ERROR(ValidateModelName(name));
  RETURN_IF_ERROR(tracking::ValidateKey(key, "tag"));
  RETURN_IF_ERROR(registry_.DeleteRegisteredModelTag(scope.tenant, name, key));
  Notify(scope, {.kind = RegistryEvent::Kind::kRegisteredModelTagDeleted,
                 .name = std::string(name),
                 .key = std::string(key)});
  return Status::Ok();
}

Status RegistryService::SetRegisteredModelAlias(const RequestScope& scope, std::string_view name,
                                                std::string_view alias, std::string_view version) {
  RETURN_IF_ERROR(ValidateModelName(name));
  RETURN_IF_ERROR(ValidateAlias(alias));
  ASSIGN_OR_RETURN(int64_t v, ParseVersion(version));
  RETURN_IF_ERROR(
      registry_.SetRegisteredModelAlias(scope.tenant, name, alias, v, clock_.NowMillis()));
  Notify(scope, {.kind = RegistryEvent::Kind::kAliasSet,
                 .name = std::string(name),
                 .version = std::to_string(v),
                 .alias = std::string(alias)});
  return Status::Ok();
}

Status RegistryService::DeleteRegisteredModelAlias(const RequestScope& scope, std::string_view name,
                                                   std::string_view alias) {
  RETURN_IF_ERROR(ValidateModelName(name));
  RETURN_IF_ERROR(ValidateAlias(alias));
  RETURN_IF_ERROR(registry_.DeleteRegisteredModelAlias(scope.tenant, name, alias));
  Notify(scope, {.kind = RegistryEvent::Kind::kAliasDeleted,
                 .name = std::string(name),
                 .alias = std::string(alias)});
  return Status::Ok();
}

StatusOr<metadata::ModelVersion> RegistryService::GetModelVersionByAlias(const RequestScope& scope,
                                                                         std::string_view name,
                                                                         std::string_view alias) {
  RETURN_IF_ERROR(ValidateModelName(name));
  if (alias.empty()) return InvalidArgument("Missing value for required parameter 'alias'");
  return VersionByAlias(scope, name, alias);
}

StatusOr<metadata::ModelVersion> RegistryService::VersionByAlias(const RequestScope& scope,
                                                                 std::string_view name,
                                                                 std::string_view alias) {
  StatusOr<metadata::ModelVersion> version =
      registry_.GetModelVersionByAlias(scope.tenant, name, alias);
  if (version.status().code() != StatusCode::kNotFound) return version;
  // MLflow answers INVALID_PARAMETER_VALUE for an unknown alias of a model that exists.
  RETURN_IF_ERROR(registry_.GetRegisteredModel(scope.tenant, name).status());
  return InvalidArgument("Registered model alias " + std::string(alias) + " not found.");
}

StatusOr<metadata::ModelVersion> RegistryService::ResolveRegisteredVersion(
    const RequestScope& scope, const ModelsUri& uri) {
  if (!uri.alias.empty()) return VersionByAlias(scope, uri.name, uri.alias);
  if (IsDigits(uri.version)) {
    ASSIGN_OR_RETURN(int64_t number, ParseVersion(uri.version));
    return registry_.GetModelVersion(scope.tenant, uri.name, number);
  }
  std::vector<ModelStage> stages;
  if (Lower(uri.version) != "latest") {
    ASSIGN_OR_RETURN(ModelStage stage, ParseStage(uri.version));
    stages.push_back(stage);
  }
  ASSIGN_OR_RETURN(auto latest, registry_.GetLatestVersions(scope.tenant, uri.name, stages));
  if (latest.empty()) {
    return NotFound("No versions of model with name '" + uri.name + "' and stage '" + uri.version +
                    "' found");
  }
  return *std::max_element(latest.begin(), latest.end(),
                           [](const auto& a, const auto& b) { return a.version < b.version; });
}

// MLflow's _resolve_registered_model_source_lineage: a models:/<name>/<selector> source is pinned
// to the version it names, whose run_id and model_id the new version inherits unless the request
// gives them, in which case they must agree.
Status RegistryService::ResolveSourceLineage(const RequestScope& scope,
                                             metadata::CreateModelVersionRequest& request) {
  if (SchemeOf(request.source) != "models") return Status::Ok();
  if (!AuthorityOf(request.source).empty()) {
    return InvalidArgument("Invalid model version source: '" + request.source +
                           "'. Registered model sources must use the active model registry.");
  }
  StatusOr<ModelsUri> parsed = ParseModelsUri(request.source);
  if (!parsed.ok()) return InvalidSourceFor(request.source, "model_id");
  if (!parsed->model_id.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(metadata::ModelVersion referenced, ResolveRegisteredVersion(scope, *parsed));
  if ((!request.run_id.empty() && request.run_id != referenced.run_id) ||
      (!request.model_id.empty() && request.model_id != referenced.model_id)) {
    return InvalidArgument("Invalid model version source: '" + request.source +
                           "'. The run_id and model_id request parameters must match the "
                           "referenced model version.");
  }
  std::string location =
      referenced.storage_location.empty() ? referenced.source : referenced.storage_location;
  if (parsed->sub_path.empty()) {
    request.source = "models:/" + referenced.name + "/" + std::to_string(referenced.version);
    request.storage_location = location;
  } else {
    while (!location.empty() && location.back() == '/') location.pop_back();
    request.storage_location = location + "/" + parsed->sub_path;
  }
  if (request.run_id.empty()) request.run_id = referenced.run_id;
  if (request.model_id.empty()) request.model_id = referenced.model_id;
  return Status::Ok();
}

// MLflow's _validate_source_run and _validate_source_model. A run or logged model is looked up
// only for a local source, which must lie inside its artifacts; a runs:/ source needs the
// request's run_id to name the same run, wherever that run lives. Unlike MLflow, an artifact
// service URI need not lie inside the named run: Cairn's artifact service is scoped to the
// tenant, and the v1 API registers uploads that belong to no run.
Status RegistryService::ValidateSource(const RequestScope& scope,
                                       const metadata::CreateModelVersionRequest& request,
                                       const std::optional<metadata::LoggedModel>& logged_model) {
  const std::string& source = request.source;
  const bool by_model = !request.model_id.empty();
  const std::string_view id_name = by_model ? "model_id" : "run_id";

  if (IsLocalSource(source)) {
    if (by_model) return CheckLocalSourceInside(source, logged_model->artifact_uri, id_name);
    if (request.run_id.empty()) return InvalidLocalSource(source, id_name);
    StatusOr<metadata::Run> run = tracking_.GetRun(scope.tenant, request.run_id);
    if (run.status().code() == StatusCode::kNotFound) return InvalidSourceFor(source, id_name);
    if (!run.ok()) return run.status();
    return CheckLocalSourceInside(source, run->info.artifact_uri, id_name);
  }
  RETURN_IF_ERROR(CheckSourceHasNoTraversal(source));

  const std::string scheme = SchemeOf(source);
  if (scheme == "runs") {
    if (by_model || !AuthorityOf(source).empty()) return InvalidSourceFor(source, id_name);
    std::string_view rest = std::string_view(source).substr(kRunsScheme.size());
    while (!rest.empty() && rest[0] == '/') rest.remove_prefix(1);
    if (request.run_id.empty() || rest.substr(0, rest.find('/')) != request.run_id) {
      return InvalidSourceFor(source, id_name);
    }
  } else if (scheme == "models") {
    if (!AuthorityOf(source).empty()) return InvalidSourceFor(source, "model_id");
    StatusOr<ModelsUri> parsed = ParseModelsUri(source);
    if (!parsed.ok()) return InvalidSourceFor(source, "model_id");
    if (!parsed->model_id.empty() && parsed->model_id != request.model_id) {
      return InvalidSourceFor(source, "model_id");
    }
  }
  return Status::Ok();
}

Status RegistryService::PrepareModelVersion(const RequestScope& scope,
                                            metadata::CreateModelVersionRequest& request) {
  RETURN_IF_ERROR(ValidateModelName(request.name));
  if (request.source.empty()) {
    return InvalidArgument("Missing value for required parameter 'source'");
  }
  for (const auto& t : request.tags) RETURN_IF_ERROR(ValidateRegistryTag(t));
  RETURN_IF_ERROR(ValidateDescription(request.description));
  if (!request.run_id.empty()) RETURN_IF_ERROR(tracking::ValidateRunId(request.run_id));

  // Prompt versions (MLflow's prompt registry) carry a placeholder source that names no files.
  bool is_prompt = std::any_of(request.tags.begin(), request.tags.end(),
                               [](const metadata::Tag& t) { return t.key == kIsPromptTag; });
  if (is_prompt) {
    request.storage_location = request.source;
    return Status::Ok();
  }
  RETURN_IF_ERROR(ResolveSourceLineage(scope, request));
  std::optional<metadata::LoggedModel> logged_model;
  if (!request.model_id.empty()) {
    ASSIGN_OR_RETURN(logged_model, tracking_.GetLoggedModel(scope.tenant, request.model_id));
    if (request.run_id.empty()) request.run_id = logged_model->source_run_id;
  }
  RETURN_IF_ERROR(ValidateSource(scope, request, logged_model));
  if (!request.storage_location.empty()) return Status::Ok();

  // Where the files are, for Cairn's own readers (serving, deletion); get-download-uri answers
  // what MLflow stores instead (see DownloadUriOf).
  request.storage_location = request.source;
  const std::string scheme = SchemeOf(request.source);
  if (scheme == "models" && logged_model) {
    request.storage_location = logged_model->artifact_uri;
  } else if (scheme == "runs") {
    std::string_view rest = std::string_view(request.source).substr(kRunsScheme.size());
    while (!rest.empty() && rest[0] == '/') rest.remove_prefix(1);
    size_t slash = rest.find('/');
    std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    // A run kept by another server stays a runs:/ URI that this one cannot resolve.
    StatusOr<metadata::Run> run = tracking_.GetRun(scope.tenant, request.run_id);
    if (run.ok()) {
      std::string base = run->info.artifact_uri;
      while (!base.empty() && base.back() == '/') base.pop_back();
      request.storage_location = path.empty() ? base : base + "/" + std::string(path);
    } else if (run.status().code() != StatusCode::kNotFound) {
      return run.status();
    }
  }
  return Status::Ok();
}

StatusOr<metadata::ModelVersion> RegistryService::CreateModelVersion(
    const RequestScope& scope, metadata::CreateModelVersionRequest request) {
  request.user_id = std::string(scope.principal);
  RegistryEvent event{.kind = RegistryEvent::Kind::kModelVersionCreated,
                      .name = request.name,
                      .source = request.source,
                      .run_id = request.run_id,
                      .description = request.description,
                      .tags = request.tags};
  RETURN_IF_ERROR(PrepareModelVersion(scope, request));
  ASSIGN_OR_RETURN(metadata::ModelVersion created,
                   registry_.CreateModelVersion(scope.tenant, request, clock_.NowMillis()));
  bool is_prompt = std::any_of(request.tags.begin(), request.tags.end(),
                               [](const metadata::Tag& t) { return t.key == kIsPromptTag; });
  if (!is_prompt && !created.model_id.empty()) {
    RETURN_IF_ERROR(AddModelVersionsTag(scope, created));
  }
  event.version = std::to_string(created.version);
  Notify(scope, event);
  return created;
}

// MLflow's set_model_versions_tags: the logged model's `mlflow.modelVersions` tag lists, as JSON
// written like Python's json.dumps, every {"name", "version"} registered from it.
Status RegistryService::AddModelVersionsTag(const RequestScope& scope,
                                            const metadata::ModelVersion& version) {
  ASSIGN_OR_RETURN(metadata::LoggedModel model,
                   tracking_.GetLoggedModel(scope.tenant, version.model_id));
  boost::json::array entries;
  for (const metadata::Tag& t : model.tags) {
    if (t.key != kModelVersionsTag) continue;
    boost::system::error_code ec;
    boost::json::value parsed = boost::json::parse(t.value, ec);
    if (!ec && parsed.is_array()) entries = std::move(parsed.as_array());
  }
  boost::json::object entry{{"name", version.name}, {"version", version.version}};
  if (std::find(entries.begin(), entries.end(), boost::json::value(entry)) == entries.end()) {
    entries.push_back(std::move(entry));
  }
  return tracking_.SetLoggedModelTags(
      scope.tenant, version.model_id,
      {metadata::Tag{std::string(kModelVersionsTag), PythonJsonDumps(entries)}},
      clock_.NowMillis());
}

StatusOr<metadata::ModelVersion> RegistryService::GetModelVersion(const RequestScope& scope,
                                                                  std::string_view name,
                                                                  std::string_view version) {
  RETURN_IF_ERROR(ValidateModelName(name));
  ASSIGN_OR_RETURN(int64_t v, ParseVersion(version));
  return registry_.GetModelVersion(scope.tenant, name, v);
}

StatusOr<metadata::ModelVersion> RegistryService::UpdateModelVersion(
    const RequestScope& scope, std::string_view name, std::string_view version,
    std::optional<std::string> description) {
  RETURN_IF_ERROR(ValidateModelName(name));
  ASSIGN_OR_RETURN(int64_t v, ParseVersion(version));
  RETURN_IF_ERROR(ValidateDescription(description));
  return registry_.UpdateModelVersion(scope.tenant, name, v, std::move(description),
                                      clock_.NowMillis());
}

Status RegistryService::DeleteModelVersion(const RequestScope& scope, std::string_view name,
                                           std::string_view version) {
  RETURN_IF_ERROR(ValidateModelName(name));
  ASSIGN_OR_RETURN(int64_t v, ParseVersion(version));
  ASSIGN_OR_RETURN(metadata::ModelVersion existing,
                   registry_.GetModelVersion(scope.tenant, name, v));
  RETURN_IF_ERROR(CheckDeletionAllowed(scope, existing));
  return registry_.DeleteModelVersion(scope.tenant, name, v, clock_.NowMillis());
}

StatusOr<metadata::ResultPage<metadata::ModelVersion>> RegistryService::SearchModelVersions(
    const RequestScope& scope, const metadata::SearchModelVersionsQuery& query) {
  RETURN_IF_ERROR(ValidateSearchPage(query.page, kMaxSearchModelVersionsResults));
  return registry_.SearchModelVersions(scope.tenant, query);
}

StatusOr<metadata::ModelVersion> RegistryService::TransitionModelVersionStage(
    const RequestScope& scope, std::string_view name, std::string_view version,
    std::string_view stage, bool archive_existing) {
  RETURN_IF_ERROR(ValidateModelName(name));
  ASSIGN_OR_RETURN(int64_t v, ParseVersion(version));
  if (stage.empty()) return InvalidArgument("Missing value for required parameter 'stage'");
  ASSIGN_OR_RETURN(ModelStage parsed, ParseStage(stage));
  return registry_.TransitionModelVersionStage(scope.tenant, name, v, parsed, archive_existing,
                                               clock_.NowMillis());
}

StatusOr<std::string> RegistryService::GetModelVersionDownloadUri(const RequestScope& scope,
                                                                  std::string_view name,
                                                                  std::string_view version) {
  ASSIGN_OR_RETURN(metadata::ModelVersion v, GetModelVersion(scope, name, version));
  return DownloadUriOf(scope, v, 0);
}

StatusOr<std::string> RegistryService::DownloadUriOf(const RequestScope& scope,
                                                     const metadata::ModelVersion& v, int depth) {
  if (SchemeOf(v.source) != "models") return v.source;
  std::string stored = v.storage_location.empty() ? v.source : v.storage_location;
  StatusOr<ModelsUri> parsed = ParseModelsUri(v.source);
  constexpr int kMaxDepth = 16;
  if (!parsed.ok() || !parsed->model_id.empty() || depth >= kMaxDepth) return stored;
  StatusOr<metadata::ModelVersion> referenced = ResolveRegisteredVersion(scope, *parsed);
  if (!referenced.ok()) return stored;
  ASSIGN_OR_RETURN(std::string base, DownloadUriOf(scope, *referenced, depth + 1));
  if (parsed->sub_path.empty()) return base;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/" + parsed->sub_path;
}

Status RegistryService::SetModelVersionTag(const RequestScope& scope, std::string_view name,
                                           std::string_view version, const metadata::Tag& tag) {
  RETURN_IF_ERROR(ValidateModelName(name));
  ASSIGN_OR_RETURN(int64_t v, ParseVersion(version));
  RETURN_IF_ERROR(ValidateRegistryTag(tag));
  RETURN_IF_ERROR(registry_.SetModelVersionTag(scope.tenant, name, v, tag, clock_.NowMillis()));
  Notify(scope, {.kind = RegistryEvent::Kind::kModelVersionTagSet,
                 .name = std::string(name),
                 .version = std::to_string(v),
                 .key = tag.key,
                 .value = tag.value});
  return Status::Ok();
}

Status RegistryService::DeleteModelVersionTag(const RequestScope& scope, std::string_view name,
                                              std::string_view version, std::string_view key) {
  RETURN_IF_ERROR(ValidateModelName(name));
  ASSIGN_OR_RETURN(int64_t v, ParseVersion(version));
  RETURN_IF_ERROR(tracking::ValidateKey(key, "tag"));
  RETURN_IF_ERROR(registry_.DeleteModelVersionTag(scope.tenant, name, v, key));
  Notify(scope, {.kind = RegistryEvent::Kind::kModelVersionTagDeleted,
                 .name = std::string(name),
                 .version = std::to_string(v),
                 .key = std::string(key)});
  return Status::Ok();
}

// ---- Cairn management ----

StatusOr<metadata::ModelVersion> RegistryService::Register(const RequestScope& scope,
                                                           const RegisterRequest& request) {
  RETURN_IF_ERROR(ValidateNewModelName(request.name));
  const ModelSource& src = request.source;
  int forms = (!src.run_id.empty() || !src.artifact_path.empty() ? 1 : 0) +
              (!src.logged_model_id.empty() ? 1 : 0) + (!src.artifact_uri.empty() ? 1 : 0);
  if (forms != 1) {
    return InvalidArgument(
        "Exactly one model source must be given: run_id with artifact_path, logged_model_id, "
        "or artifact_uri");
  }

  metadata::CreateModelVersionRequest version;
  version.name = request.name;
  version.description = request.description;
  version.tags = request.tags;
  version.user_id = std::string(scope.principal);
  if (!src.run_id.empty() || !src.artifact_path.empty()) {
    if (src.run_id.empty()) return InvalidArgument("Missing value for required parameter 'run_id'");
    if (src.artifact_path.empty()) {
      return InvalidArgument("Missing value for required parameter 'artifact_path'");
    }
    RETURN_IF_ERROR(tracking::ValidateRunId(src.run_id));
    ASSIGN_OR_RETURN(std::string path, artifact::NormalizeArtifactPath(src.artifact_path));
    if (path.empty())
      return InvalidArgument("Missing value for required parameter 'artifact_path'");
    ASSIGN_OR_RETURN(metadata::Run run, tracking_.GetRun(scope.tenant, src.run_id));
    version.run_id = run.info.run_id;
    version.source = "runs:/" + run.info.run_id + "/" + path;

    // A model logged to the run under that name (what a current MLflow client logs) wins over
    // plain run artifacts; among several, the one at the highest output step.
    metadata::SearchLoggedModelsQuery query;
    query.experiment_ids = {run.info.experiment_id};
    query.filter.clauses.push_back(
        {filter::Entity::kAttribute, "name", filter::Comparator::kEq, path});
    query.filter.clauses.push_back(
        {filter::Entity::kAttribute, "source_run_id", filter::Comparator::kEq, run.info.run_id});
    query.page.max_results = 1000;
    ASSIGN_OR_RETURN(auto models, tracking_.SearchLoggedModels(scope.tenant, query));
    const metadata::LoggedModel* best = nullptr;
    int64_t best_step = std::numeric_limits<int64_t>::min();
    for (const auto& m : models.items) {
      int64_t step = std::numeric_limits<int64_t>::min() + 1;
      for (const auto& out : run.model_outputs) {
        if (out.model_id == m.model_id) step = std::max(step, out.step);
      }
      if (best == nullptr || step > best_step) {
        best = &m;
        best_step = step;
      }
    }
    if (best != nullptr) {
      version.source = "models:/" + best->model_id;
      version.model_id = best->model_id;
    }
  } else if (!src.logged_model_id.empty()) {
    version.source = "models:/" + src.logged_model_id;
    version.model_id = src.logged_model_id;
  } else {
    version.source = src.artifact_uri;
  }
  RETURN_IF_ERROR(PrepareModelVersion(scope, version));

  bool created_model = false;
  StatusOr<metadata::RegisteredModel> model = registry_.CreateRegisteredModel(
      scope.tenant, request.name, "", {}, scope.principal, clock_.NowMillis());
  if (model.ok()) {
    created_model = true;
  } else if (model.status().code() != StatusCode::kAlreadyExists) {
    return model.status();
  }
  StatusOr<metadata::ModelVersion> created =
      registry_.CreateModelVersion(scope.tenant, version, clock_.NowMillis());
  if (!created.ok()) {
    if (created_model) registry_.DeleteRegisteredModel(scope.tenant, request.name).IgnoreError();
    return created;
  }
  if (!created->model_id.empty()) RETURN_IF_ERROR(AddModelVersionsTag(scope, *created));
  // The same events the MLflow calls raise, so registry webhooks see models registered here.
  if (created_model) {
    Notify(scope, {.kind = RegistryEvent::Kind::kRegisteredModelCreated, .name = request.name});
  }
  Notify(scope, {.kind = RegistryEvent::Kind::kModelVersionCreated,
                 .name = request.name,
                 .version = std::to_string(created->version),
                 .source = version.source,
                 .run_id = version.run_id,
                 .description = version.description,
                 .tags = version.tags});
  return created;
}

StatusOr<metadata::PromotionRecord> RegistryService::Promote(
    const RequestScope& scope, std::string_view name, std::string_view version,
    std::optional<std::string> stage, std::optional<std::string> alias, bool archive_previous) {
  RETURN_IF_ERROR(ValidateModelName(name));
  ASSIGN_OR_RETURN(int64_t v, ParseVersion(version));
  if (stage.has_value() == alias.has_value()) {
    return InvalidArgument("Exactly one of 'stage' and 'alias' must be given");
  }
  metadata::RegistryStore::PromoteRequest request;
  request.name = std::string(name);
  request.version = v;
  request.archive_previous = archive_previous;
  request.principal = std::string(scope.principal);
  if (stage) {
    ASSIGN_OR_RETURN(request.stage, ParseStage(*stage));
  } else {
    RETURN_IF_ERROR(ValidateAlias(*alias));
    request.alias = std::move(alias);
  }
  ASSIGN_OR_RETURN(metadata::PromotionRecord record,
                   registry_.PromoteModelVersion(scope.tenant, request, clock_.NowMillis()));
  // MLflow has no event for a stage transition; an alias is its model_version_alias.created.
  if (request.alias) {
    Notify(scope, {.kind = RegistryEvent::Kind::kAliasSet,
                   .name = request.name,
                   .version = std::to_string(record.version),
                   .alias = *request.alias});
  }
  return record;
}

Status RegistryService::DeleteVersionAndArtifacts(const RequestScope& scope, std::string_view name,
                                                  std::string_view version,
                                                  artifact::ArtifactStore& artifacts) {
  RETURN_IF_ERROR(ValidateModelName(name));
  ASSIGN_OR_RETURN(int64_t v, ParseVersion(version));
  ASSIGN_OR_RETURN(metadata::ModelVersion existing,
                   registry_.GetModelVersion(scope.tenant, name, v));
  RETURN_IF_ERROR(CheckDeletionAllowed(scope, existing));
  std::string location =
      existing.storage_location.empty() ? existing.source : existing.storage_location;
  std::optional<std::string> files = ArtifactServicePath(scope.tenant, location);
  // Never the scope.tenant's folder or a folder right below it, whoever else owns them. Ownership
  // is settled before anything changes, so a failed lookup leaves the version in place. The
  // default tenant's folder is the store's root (artifact/tenant_layout.h), no path segment.
  const std::ptrdiff_t prefix_segments = scope.tenant == artifact::kDefaultTenant ? 0 : 1;
  if (files && std::count(files->begin(), files->end(), '/') + 1 < prefix_segments + 2) {
    files.reset();
  }
  if (files) {
    ASSIGN_OR_RETURN(bool owned, OverlapsAnExperiment(scope, *files));
    if (owned) files.reset();
  }
  RETURN_IF_ERROR(registry_.DeleteModelVersion(scope.tenant, name, v, clock_.NowMillis()));
  if (!files) return Status::Ok();

  metadata::SearchModelVersionsQuery query;
  query.page.max_results = 10000;
  while (true) {
    ASSIGN_OR_RETURN(auto page, registry_.SearchModelVersions(scope.tenant, query));
    for (const auto& other : page.items) {
      std::string other_location =
          other.storage_location.empty() ? other.source : other.storage_location;
      std::optional<std::string> other_files = ArtifactServicePath(scope.tenant, other_location);
      if (other_files && Overlaps(*files, *other_files)) return Status::Ok();
    }
    if (!page.has_more) break;
    query.page.offset += query.page.max_results;
  }
  Status deleted = artifacts.Delete(*files);
  if (!deleted.ok()) {
    return Status(deleted.code(),
                  "Model version " + std::string(name) + "/" + std::to_string(v) +
                      " was deleted but its files could not be: " + deleted.message());
  }
  return Status::Ok();
}

StatusOr<bool> RegistryService::OverlapsAnExperiment(const RequestScope& scope,
                                                     std::string_view files) {
  metadata::SearchExperimentsQuery query;
  query.view_type = metadata::ViewType::kAll;
  query.page.max_results = 1000;
  while (true) {
    ASSIGN_OR_RETURN(auto page, tracking_.SearchExperiments(scope.tenant, query));
    for (const auto& experiment : page.items) {
      if (IsArtifactServiceTop(experiment.artifact_location)) return true;
      std::optional<std::string> root =
          ArtifactServicePath(scope.tenant, experiment.artifact_location);
      if (root && Overlaps(files, *root)) return true;
    }
    if (!page.has_more) return false;
    query.page.offset += query.page.max_results;
  }
}

StatusOr<Lineage> RegistryService::GetLineage(const RequestScope& scope, std::string_view name,
                                              std::string_view version) {
  Lineage lineage;
  ASSIGN_OR_RETURN(lineage.version, GetModelVersion(scope, name, version));
  auto absent_ok = [](const Status& s) { return s.ok() || s.code() == StatusCode::kNotFound; };

  if (!lineage.version.model_id.empty()) {
    auto model = tracking_.GetLoggedModel(scope.tenant, lineage.version.model_id, true);
    if (!absent_ok(model.status())) return model.status();
    if (model.ok()) lineage.logged_model = std::move(model).value();
  }
  std::string run_id = lineage.version.run_id;
  if (run_id.empty() && lineage.logged_model) run_id = lineage.logged_model->source_run_id;
  if (!run_id.empty()) {
    auto run = tracking_.GetRun(scope.tenant, run_id);
    if (!absent_ok(run.status())) return run.status();
    if (run.ok()) lineage.run = std::move(run).value();
  }
  std::string experiment_id;
  if (lineage.run) {
    experiment_id = lineage.run->info.experiment_id;
  } else if (lineage.logged_model) {
    experiment_id = lineage.logged_model->experiment_id;
  }
  if (!experiment_id.empty()) {
    auto experiment = tracking_.GetExperiment(scope.tenant, experiment_id);
    if (!absent_ok(experiment.status())) return experiment.status();
    if (experiment.ok()) lineage.experiment = std::move(experiment).value();
  }
  return lineage;
}

}  // namespace cairn::registry
