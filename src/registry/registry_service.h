#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/request_scope.h"
#include "base/status.h"
#include "metadata/registry_store.h"
#include "metadata/tracking_store.h"
#include "registry/registry_observer.h"
#include "registry/registry_rules.h"

namespace cairn::artifact {
class ArtifactStore;
}

namespace cairn::registry {

// Where a registered version's files come from, for Cairn's register call: exactly one of
// (run_id with artifact_path), logged_model_id, or artifact_uri.
struct ModelSource {
  std::string run_id;
  std::string artifact_path;
  std::string logged_model_id;
  std::string artifact_uri;
};

struct RegisterRequest {
  std::string name;
  ModelSource source;
  std::string description;
  std::vector<metadata::Tag> tags;
};

// What a model version was made from: its run, the run's experiment, params, metrics and
// input datasets, and the logged model when there is one.
struct Lineage {
  metadata::ModelVersion version;
  std::optional<metadata::Run> run;
  std::optional<metadata::Experiment> experiment;
  std::optional<metadata::LoggedModel> logged_model;
};

// Consulted before a model version is deleted; a non-OK status (FAILED_PRECONDITION, say, while
// a deployment serves the version) refuses the deletion and is returned to the caller.
using DeletionGuard =
    std::function<Status(std::string_view tenant, const metadata::ModelVersion& version)>;

// The model registry with MLflow's semantics plus Cairn's management operations. Validates
// input, resolves sources (runs:/, models:/<model_id>, models:/<name>/<version>) to storage
// locations through the tracking store, and delegates state to the RegistryStore.
// Every call is scoped to `tenant`; `user` is the calling principal. Thread-safe; the stores and
// the clock must outlive it.
class RegistryService {
 public:
  RegistryService(metadata::RegistryStore& registry, metadata::TrackingStore& tracking,
                  const Clock& clock);

  // Installs (or, with an empty function, removes) the deletion guard. It is consulted by
  // DeleteModelVersion, DeleteVersionAndArtifacts and DeleteRegisteredModel (once per live
  // version). Thread-safe.
  void SetDeletionGuard(DeletionGuard guard);
  // Installs (or, with null, removes) the observer told about every change of the MLflow calls
  // below that create models and versions, set or delete tags and set or delete aliases, and
  // of Register and of Promote to an alias, once the change is stored (never about a call that
  // failed). Borrowed; it must outlive the service or be removed first. Thread-safe.
  void SetObserver(RegistryObserver* observer);

  // ---- MLflow registry ----
  StatusOr<metadata::RegisteredModel> CreateRegisteredModel(const RequestScope& scope,
                                                            std::string_view name,
                                                            std::string_view description,
                                                            const std::vector<metadata::Tag>& tags);
  StatusOr<metadata::RegisteredModel> GetRegisteredModel(const RequestScope& scope,
                                                         std::string_view name);
  StatusOr<metadata::RegisteredModel> RenameRegisteredModel(const RequestScope& scope,
                                                            std::string_view name,
                                                            std::string_view new_name);
  StatusOr<metadata::RegisteredModel> UpdateRegisteredModel(const RequestScope& scope,
                                                            std::string_view name,
                                                            std::optional<std::string> description);
  Status DeleteRegisteredModel(const RequestScope& scope, std::string_view name);
  StatusOr<metadata::ResultPage<metadata::RegisteredModel>> SearchRegisteredModels(
      const RequestScope& scope, const metadata::SearchRegisteredModelsQuery& query);
  StatusOr<std::vector<metadata::ModelVersion>> GetLatestVersions(
      const RequestScope& scope, std::string_view name, const std::vector<std::string>& stages);
  Status SetRegisteredModelTag(const RequestScope& scope, std::string_view name,
                               const metadata::Tag& tag);
  Status DeleteRegisteredModelTag(const RequestScope& scope, std::string_view name,
                                  std::string_view key);
  Status SetRegisteredModelAlias(const RequestScope& scope, std::string_view name,
                                 std::string_view alias, std::string_view version);
  Status DeleteRegisteredModelAlias(const RequestScope& scope, std::string_view name,
                                    std::string_view alias);
  StatusOr<metadata::ModelVersion> GetModelVersionByAlias(const RequestScope& scope,
                                                          std::string_view name,
                                                          std::string_view alias);

  // `source` is checked as MLflow checks it (INVALID_ARGUMENT with MLflow's words otherwise):
  //   local path or file: URI    -> must lie inside the local artifact directory of the given
  //                                 run_id's run (or model_id's logged model)
  //   runs:/<run_id>/<path>      -> the request's run_id must be <run_id>; the run may live
  //                                 elsewhere (it is not looked up for the check)
  //   models:/<model_id>         -> the request's model_id must be <model_id>
  //   models:/<name>/<selector>  -> pinned to models:/<name>/<version>; run_id and model_id are
  //                                 inherited from that version, or must match it
  //   anything else (s3://, gs://, mlflow-artifacts:, ...) -> kept as given, run_id unchecked.
  // Non-local sources must not hold "." or ".." segments, even percent-encoded.
  // The source is stored as sent (after pinning); the storage location Cairn reads files from
  // resolves runs:/ (when the run is here) and models:/ sources. A given model_id must name an
  // existing logged model (NOT_FOUND); run_id defaults to its source run, and the logged model's
  // `mlflow.modelVersions` tag gains the new version. Prompt versions (a
  // `mlflow.prompt.is_prompt` tag) keep their placeholder source unchecked and unresolved, as
  // MLflow does. `request.user_id` is replaced by `user`.
  StatusOr<metadata::ModelVersion> CreateModelVersion(const RequestScope& scope,
                                                      metadata::CreateModelVersionRequest request);
  StatusOr<metadata::ModelVersion> GetModelVersion(const RequestScope& scope, std::string_view name,
                                                   std::string_view version);
  StatusOr<metadata::ModelVersion> UpdateModelVersion(const RequestScope& scope,
                                                      std::string_view name,
                                                      std::string_view version,
                                                      std::optional<std::string> description);
  Status DeleteModelVersion(const RequestScope& scope, std::string_view name,
                            std::string_view version);
  StatusOr<metadata::ResultPage<metadata::ModelVersion>> SearchModelVersions(
      const RequestScope& scope, const metadata::SearchModelVersionsQuery& query);
  StatusOr<metadata::ModelVersion> TransitionModelVersionStage(const RequestScope& scope,
                                                               std::string_view name,
                                                               std::string_view version,
                                                               std::string_view stage,
                                                               bool archive_existing);
  // What MLflow answers: the source, except that a models:/ source gives where it resolved to.
  StatusOr<std::string> GetModelVersionDownloadUri(const RequestScope& scope, std::string_view name,
                                                   std::string_view version);
  Status SetModelVersionTag(const RequestScope& scope, std::string_view name,
                            std::string_view version, const metadata::Tag& tag);
  Status DeleteModelVersionTag(const RequestScope& scope, std::string_view name,
                               std::string_view version, std::string_view key);

  // ---- Cairn management (/api/v1) ----
  // Creates the registered model if needed, then a version from `request.source`:
  //   run_id + artifact_path -> "models:/<model_id>" when the run logged a model of that name
  //                             (the one at the highest output step), else
  //                             "runs:/<run_id>/<artifact_path>";
  //   logged_model_id        -> "models:/<logged_model_id>";
  //   artifact_uri           -> as given.
  // Exactly one form (INVALID_ARGUMENT otherwise). The source is validated before anything is
  // written; a model created here is removed again if the version cannot be created. A
  // version of a logged model is added to that model's mlflow.modelVersions tag, as
  // CreateModelVersion does.
  StatusOr<metadata::ModelVersion> Register(const RequestScope& scope,
                                            const RegisterRequest& request);
  // Moves the version to `stage` or points `alias` at it (exactly one of the two), archiving the
  // previous holder when asked, and records the promotion with `user` as principal.
  StatusOr<metadata::PromotionRecord> Promote(const RequestScope& scope, std::string_view name,
                                              std::string_view version,
                                              std::optional<std::string> stage,
                                              std::optional<std::string> alias,
                                              bool archive_previous);
  // Deletes the version, then its files in `artifacts`, but only files that nothing else owns:
  //   - the location is in Cairn's artifact service (see ArtifactServicePath), at least two
  //     levels below the tenant;
  //   - it is neither inside nor around the artifact location of any of the tenant's
  //     experiments, active or deleted. Runs and logged models keep their files under their
  //     experiment's location (<root>/<run_id>/artifacts, <root>/models/<model_id>/artifacts),
  //     so a version registered from a run or a logged model leaves their files alone;
  //   - no other live version of any model in the tenant uses the same location, a directory
  //     inside it, or a directory around it.
  // Otherwise only the version goes. What is deleted is thus what was uploaded for the version
  // alone, e.g. with `artifact_uri` pointing outside every experiment. The deletion guard may
  // refuse. When the experiments cannot be read, nothing is deleted and the error is returned;
  // when deleting the files fails, the version stays deleted and the error is returned.
  Status DeleteVersionAndArtifacts(const RequestScope& scope, std::string_view name,
                                   std::string_view version, artifact::ArtifactStore& artifacts);
  // The version with its run (from run_id, else the logged model's source run), the run's
  // experiment (else the logged model's) and the logged model. Missing pieces stay empty.
  StatusOr<Lineage> GetLineage(const RequestScope& scope, std::string_view name,
                               std::string_view version);

 private:
  // Validates a version request and fills its storage location, run_id and model_id.
  Status PrepareModelVersion(const RequestScope& scope,
                             metadata::CreateModelVersionRequest& request);
  // The version `alias` points at. NOT_FOUND for a missing model, INVALID_ARGUMENT (MLflow's
  // words) for a missing alias.
  StatusOr<metadata::ModelVersion> VersionByAlias(const RequestScope& scope, std::string_view name,
                                                  std::string_view alias);
  // The version a models:/<name>/<version|stage|latest> or models:/<name>@<alias> URI names.
  StatusOr<metadata::ModelVersion> ResolveRegisteredVersion(const RequestScope& scope,
                                                            const ModelsUri& uri);
  // Pins a models:/<name>/... source to the version it names and inherits that version's run_id
  // and model_id (MLflow's source lineage). Other sources are left alone.
  Status ResolveSourceLineage(const RequestScope& scope,
                              metadata::CreateModelVersionRequest& request);
  // Checks that the request's run_id or model_id (with `logged_model`, the latter's record)
  // identifies where the source lies, as MLflow does.
  Status ValidateSource(const RequestScope& scope,
                        const metadata::CreateModelVersionRequest& request,
                        const std::optional<metadata::LoggedModel>& logged_model);
  // Adds `version` to its logged model's `mlflow.modelVersions` tag.
  Status AddModelVersionsTag(const RequestScope& scope, const metadata::ModelVersion& version);
  // What MLflow's get-download-uri answers for `v`: its source, or for a models:/ source the
  // location that source resolved to, followed through chains of at most 16 versions.
  StatusOr<std::string> DownloadUriOf(const RequestScope& scope, const metadata::ModelVersion& v,
                                      int depth);
  // True when the artifact-service path `files` (see ArtifactServicePath) is inside or around
  // the artifact location of one of the tenant's experiments, deleted ones included.
  StatusOr<bool> OverlapsAnExperiment(const RequestScope& scope, std::string_view files);
  // Runs the deletion guard, if any, on `version`.
  Status CheckDeletionAllowed(const RequestScope& scope, const metadata::ModelVersion& version);
  // Tells the observer, if any, about `event`.
  void Notify(const RequestScope& scope, const RegistryEvent& event);

  metadata::RegistryStore& registry_;
  metadata::TrackingStore& tracking_;
  const Clock& clock_;
  Mutex guard_mu_;
  DeletionGuard deletion_guard_ GUARDED_BY(guard_mu_);
  RegistryObserver* observer_ GUARDED_BY(guard_mu_) = nullptr;
};

}  // namespace cairn::registry
