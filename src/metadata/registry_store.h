#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "metadata/registry_types.h"

namespace cairn::metadata {

// The model registry part of the metadata store: registered models, their versions, tags,
// aliases, stages and promotion records. Same contract as every metadata domain
// store (metadata_stores.h): tenant-scoped, atomic writes, durable once acknowledged, thread-safe.
// Error messages follow MLflow's wording ("Registered Model with name=X not found",
// "Model Version (name=X, version=N) not found", "Registered model alias A not found.").
//
// Reads fill every entity: tags sorted by key, aliases sorted by alias. A soft-deleted model
// version is invisible to every read and write (NOT_FOUND), as if it did not exist, except that
// its number is never reused and its promotion records stay in the history.
// Timestamps: creating a version, deleting one, a stage change and a promotion set the model's
// last_updated_timestamp to `now_ms`; setting tags and aliases changes no timestamp (as in
// MLflow), so their `now_ms` is currently unused.
class RegistryStore {
 public:
  virtual ~RegistryStore() = default;

  // ALREADY_EXISTS "Registered Model (name=X) already exists." if the tenant has a model of
  // that name. Returns the stored model.
  virtual StatusOr<RegisteredModel> CreateRegisteredModel(
      std::string_view tenant, std::string_view name, std::string_view description,
      const std::vector<Tag>& tags, std::string_view user_id, int64_t now_ms) = 0;
  // With tags, aliases and latest_versions filled.
  virtual StatusOr<RegisteredModel> GetRegisteredModel(std::string_view tenant,
                                                       std::string_view name) = 0;
  // Versions (deleted ones too), tags, aliases and promotion records move with the model, whose
  // live versions get last_updated_timestamp = now_ms. NOT_FOUND / ALREADY_EXISTS; renaming to
  // the current name is allowed.
  virtual StatusOr<RegisteredModel> RenameRegisteredModel(std::string_view tenant,
                                                          std::string_view name,
                                                          std::string_view new_name,
                                                          int64_t now_ms) = 0;
  // Sets the description (and last_updated_timestamp); nullopt changes nothing.
  virtual StatusOr<RegisteredModel> UpdateRegisteredModel(std::string_view tenant,
                                                          std::string_view name,
                                                          std::optional<std::string> description,
                                                          int64_t now_ms) = 0;
  // Removes the model with all its versions, tags, aliases and promotion records. NOT_FOUND.
  virtual Status DeleteRegisteredModel(std::string_view tenant, std::string_view name) = 0;
  // Filter keys: name, tags (see filter::SearchKind::kRegisteredModels); the prompt-exclusion
  // clause matches models without the tag. Default order name ASC; name is always the last
  // tie-breaker.
  virtual StatusOr<ResultPage<RegisteredModel>> SearchRegisteredModels(
      std::string_view tenant, const SearchRegisteredModelsQuery& query) = 0;
  // The newest live version in each requested stage that has one (all four stages, in the
  // order None, Staging, Production, Archived, when `stages` is empty), ordered by stage as
  // requested; a stage asked for twice counts once. RegisteredModel::latest_versions is the
  // all-stages answer. NOT_FOUND if the model does not exist.
  virtual StatusOr<std::vector<ModelVersion>> GetLatestVersions(
      std::string_view tenant, std::string_view name, const std::vector<ModelStage>& stages) = 0;
  virtual Status SetRegisteredModelTag(std::string_view tenant, std::string_view name,
                                       const Tag& tag, int64_t now_ms) = 0;
  // NOT_FOUND if the tag is absent.
  virtual Status DeleteRegisteredModelTag(std::string_view tenant, std::string_view name,
                                          std::string_view key) = 0;
  // Points `alias` at `version`, moving it if it exists. The version must be live (NOT_FOUND).
  virtual Status SetRegisteredModelAlias(std::string_view tenant, std::string_view name,
                                         std::string_view alias, int64_t version,
                                         int64_t now_ms) = 0;
  // NOT_FOUND if the model does not exist; deleting an absent alias is OK.
  virtual Status DeleteRegisteredModelAlias(std::string_view tenant, std::string_view name,
                                            std::string_view alias) = 0;
  // NOT_FOUND for a missing model or alias.
  virtual StatusOr<ModelVersion> GetModelVersionByAlias(std::string_view tenant,
                                                        std::string_view name,
                                                        std::string_view alias) = 0;

  // Creates version max(all versions, deleted ones included) + 1 in stage None and status READY,
  // atomically with respect to concurrent creations. The registered model must exist
  // (NOT_FOUND).
  virtual StatusOr<ModelVersion> CreateModelVersion(std::string_view tenant,
                                                    const CreateModelVersionRequest& request,
                                                    int64_t now_ms) = 0;
  // Deleted versions are NOT_FOUND.
  virtual StatusOr<ModelVersion> GetModelVersion(std::string_view tenant, std::string_view name,
                                                 int64_t version) = 0;
  // Sets the description (and last_updated_timestamp); nullopt changes nothing.
  virtual StatusOr<ModelVersion> UpdateModelVersion(std::string_view tenant, std::string_view name,
                                                    int64_t version,
                                                    std::optional<std::string> description,
                                                    int64_t now_ms) = 0;
  // Soft delete: the version disappears from every read and its aliases are removed; its
  // number is never reused.
  virtual Status DeleteModelVersion(std::string_view tenant, std::string_view name, int64_t version,
                                    int64_t now_ms) = 0;
  // Live versions only. Filter keys: name, run_id, source_path (the `source` column),
  // version_number, tags (filter::SearchKind::kModelVersions). Default order
  // last_updated_timestamp DESC, name ASC, version DESC; with an order_by, name ASC and version
  // DESC are the tie-breakers it does not name.
  virtual StatusOr<ResultPage<ModelVersion>> SearchModelVersions(
      std::string_view tenant, const SearchModelVersionsQuery& query) = 0;
  // Moves the version to `stage`. With archive_existing (only for Staging and Production,
  // else INVALID_ARGUMENT), the other versions in that same stage move to Archived.
  virtual StatusOr<ModelVersion> TransitionModelVersionStage(std::string_view tenant,
                                                             std::string_view name, int64_t version,
                                                             ModelStage stage,
                                                             bool archive_existing,
                                                             int64_t now_ms) = 0;
  virtual Status SetModelVersionTag(std::string_view tenant, std::string_view name, int64_t version,
                                    const Tag& tag, int64_t now_ms) = 0;
  // NOT_FOUND if the tag is absent.
  virtual Status DeleteModelVersionTag(std::string_view tenant, std::string_view name,
                                       int64_t version, std::string_view key) = 0;

  // Cairn's promotion: in one transaction, moves `version` to `stage` or points `alias` at it
  // (exactly one of the two is set, else INVALID_ARGUMENT), optionally archiving the previous
  // holder (the other versions in that stage, or the version the alias pointed at, if another),
  // and appends a PromotionRecord naming `principal`. The record's previous_version is the
  // newest other version that was in the stage, or the other version the alias pointed at.
  // archive_previous with a stage other than Staging or Production is INVALID_ARGUMENT. A missing
  // model or version is NOT_FOUND and changes nothing.
  struct PromoteRequest {
    std::string name;
    int64_t version = 0;
    std::optional<ModelStage> stage;
    std::optional<std::string> alias;
    bool archive_previous = false;
    std::string principal;
  };
  virtual StatusOr<PromotionRecord> PromoteModelVersion(std::string_view tenant,
                                                        const PromoteRequest& request,
                                                        int64_t now_ms) = 0;
  // Promotion records of a model (of one version when given), oldest first. NOT_FOUND if the
  // model does not exist.
  virtual StatusOr<std::vector<PromotionRecord>> ListPromotions(std::string_view tenant,
                                                                std::string_view name,
                                                                std::optional<int64_t> version) = 0;

  // ---- Import (copying another MLflow store, names and numbers kept) ----
  // For `cairn import` only; no MLflow route reaches it. Stores a whole registered model in one
  // transaction: its fields and tags as given, every version with its number, stage, status,
  // times and tags (deleted ones as deleted), and its aliases, which must point at live
  // versions of `model.versions` (INVALID_ARGUMENT otherwise). No promotion record is written.
  // ALREADY_EXISTS "Registered Model (name=X) already exists." when the tenant has a model of
  // that name; nothing is changed then.
  virtual Status ImportRegisteredModel(std::string_view tenant,
                                       const RegisteredModelImport& model) = 0;
};

// Forwards every call to another registry store, so a test can override one method to
// inject a fault.
class RegistryStoreWrapper : public RegistryStore {
 public:
  explicit RegistryStoreWrapper(RegistryStore& target) : target_(target) {}
  RegistryStore& target() { return target_; }

  StatusOr<RegisteredModel> CreateRegisteredModel(std::string_view t, std::string_view name,
                                                  std::string_view description,
                                                  const std::vector<Tag>& tags,
                                                  std::string_view user, int64_t now) override {
    return target_.CreateRegisteredModel(t, name, description, tags, user, now);
  }
  StatusOr<RegisteredModel> GetRegisteredModel(std::string_view t, std::string_view name) override {
    return target_.GetRegisteredModel(t, name);
  }
  StatusOr<RegisteredModel> RenameRegisteredModel(std::string_view t, std::string_view name,
                                                  std::string_view new_name, int64_t now) override {
    return target_.RenameRegisteredModel(t, name, new_name, now);
  }
  StatusOr<RegisteredModel> UpdateRegisteredModel(std::string_view t, std::string_view name,
                                                  std::optional<std::string> description,
                                                  int64_t now) override {
    return target_.UpdateRegisteredModel(t, name, std::move(description), now);
  }
  Status DeleteRegisteredModel(std::string_view t, std::string_view name) override {
    return target_.DeleteRegisteredModel(t, name);
  }
  StatusOr<ResultPage<RegisteredModel>> SearchRegisteredModels(
      std::string_view t, const SearchRegisteredModelsQuery& q) override {
    return target_.SearchRegisteredModels(t, q);
  }
  StatusOr<std::vector<ModelVersion>> GetLatestVersions(
      std::string_view t, std::string_view name, const std::vector<ModelStage>& stages) override {
    return target_.GetLatestVersions(t, name, stages);
  }
  Status SetRegisteredModelTag(std::string_view t, std::string_view name, const Tag& tag,
                               int64_t now) override {
    return target_.SetRegisteredModelTag(t, name, tag, now);
  }
  Status DeleteRegisteredModelTag(std::string_view t, std::string_view name,
                                  std::string_view key) override {
    return target_.DeleteRegisteredModelTag(t, name, key);
  }
  Status SetRegisteredModelAlias(std::string_view t, std::string_view name, std::string_view alias,
                                 int64_t version, int64_t now) override {
    return target_.SetRegisteredModelAlias(t, name, alias, version, now);
  }
  Status DeleteRegisteredModelAlias(std::string_view t, std::string_view name,
                                    std::string_view alias) override {
    return target_.DeleteRegisteredModelAlias(t, name, alias);
  }
  StatusOr<ModelVersion> GetModelVersionByAlias(std::string_view t, std::string_view name,
                                                std::string_view alias) override {
    return target_.GetModelVersionByAlias(t, name, alias);
  }
  StatusOr<ModelVersion> CreateModelVersion(std::string_view t,
                                            const CreateModelVersionRequest& request,
                                            int64_t now) override {
    return target_.CreateModelVersion(t, request, now);
  }
  StatusOr<ModelVersion> GetModelVersion(std::string_view t, std::string_view name,
                                         int64_t version) override {
    return target_.GetModelVersion(t, name, version);
  }
  StatusOr<ModelVersion> UpdateModelVersion(std::string_view t, std::string_view name,
                                            int64_t version, std::optional<std::string> description,
                                            int64_t now) override {
    return target_.UpdateModelVersion(t, name, version, std::move(description), now);
  }
  Status DeleteModelVersion(std::string_view t, std::string_view name, int64_t version,
                            int64_t now) override {
    return target_.DeleteModelVersion(t, name, version, now);
  }
  StatusOr<ResultPage<ModelVersion>> SearchModelVersions(
      std::string_view t, const SearchModelVersionsQuery& q) override {
    return target_.SearchModelVersions(t, q);
  }
  StatusOr<ModelVersion> TransitionModelVersionStage(std::string_view t, std::string_view name,
                                                     int64_t version, ModelStage stage,
                                                     bool archive_existing, int64_t now) override {
    return target_.TransitionModelVersionStage(t, name, version, stage, archive_existing, now);
  }
  Status SetModelVersionTag(std::string_view t, std::string_view name, int64_t version,
                            const Tag& tag, int64_t now) override {
    return target_.SetModelVersionTag(t, name, version, tag, now);
  }
  Status DeleteModelVersionTag(std::string_view t, std::string_view name, int64_t version,
                               std::string_view key) override {
    return target_.DeleteModelVersionTag(t, name, version, key);
  }
  StatusOr<PromotionRecord> PromoteModelVersion(std::string_view t, const PromoteRequest& request,
                                                int64_t now) override {
    return target_.PromoteModelVersion(t, request, now);
  }
  StatusOr<std::vector<PromotionRecord>> ListPromotions(std::string_view t, std::string_view name,
                                                        std::optional<int64_t> version) override {
    return target_.ListPromotions(t, name, version);
  }
  Status ImportRegisteredModel(std::string_view t, const RegisteredModelImport& m) override {
    return target_.ImportRegisteredModel(t, m);
  }

 private:
  RegistryStore& target_;
};

}  // namespace cairn::metadata
