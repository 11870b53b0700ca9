#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "filter/filter.h"
#include "metadata/types.h"

// Model registry entities as the metadata stores hold them.
namespace cairn::metadata {

// Stages are kept for MLflow clients that still use them (aliases replace them since 2.9).
enum class ModelStage { kNone, kStaging, kProduction, kArchived };

enum class ModelVersionStatus { kPendingRegistration = 1, kFailedRegistration = 2, kReady = 3 };

struct ModelVersionAlias {
  std::string alias;
  int64_t version = 0;
};

struct ModelVersion {
  std::string name;
  int64_t version = 0;  // 1, 2, ... per registered model; never reused
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  std::string user_id;
  ModelStage current_stage = ModelStage::kNone;
  std::string description;
  std::string source;            // as given: runs:/, models:/m-..., mlflow-artifacts:/, ...
  std::string storage_location;  // where the files are (what get-download-uri returns)
  std::string run_id;
  std::string run_link;
  std::string model_id;  // MLflow 3 logged model, when registered from one
  ModelVersionStatus status = ModelVersionStatus::kReady;
  std::string status_message;
  std::vector<Tag> tags;
  std::vector<std::string> aliases;
};

struct RegisteredModel {
  std::string name;
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  std::string user_id;
  std::string description;
  std::vector<Tag> tags;
  std::vector<ModelVersionAlias> aliases;
  // The newest version in each stage that has one (MLflow's latest_versions).
  std::vector<ModelVersion> latest_versions;
};

struct SearchRegisteredModelsQuery {
  filter::Filter filter;
  std::vector<filter::OrderBy> order_by;
  Page page{.max_results = 100};
};

struct SearchModelVersionsQuery {
  filter::Filter filter;
  std::vector<filter::OrderBy> order_by;
  Page page{.max_results = 10000};
};

struct CreateModelVersionRequest {
  std::string name;
  std::string source;
  std::string storage_location;
  std::string run_id;
  std::string run_link;
  std::string model_id;
  std::string description;
  std::string user_id;
  std::vector<Tag> tags;
};

// A registered model as another MLflow store holds it, for RegistryStore::ImportRegisteredModel.
struct ImportedModelVersion {
  ModelVersion version;  // every field kept as given (number, stage, status, times, tags)
  bool deleted = false;  // a soft-deleted version: invisible, but its number stays taken
};
struct RegisteredModelImport {
  RegisteredModel model;  // name, times, user, description, tags, aliases; latest_versions unused
  std::vector<ImportedModelVersion> versions;
};

// Who moved a version to a stage or alias, and when (Cairn's promotion record).
struct PromotionRecord {
  std::string name;
  int64_t version = 0;
  std::string target;  // "stage:Production" or "alias:champion"
  std::string principal;
  int64_t timestamp = 0;
  std::optional<int64_t> previous_version;  // the version that held the target before, if any
};

}  // namespace cairn::metadata
