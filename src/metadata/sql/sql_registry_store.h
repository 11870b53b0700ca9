#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metadata/registry_store.h"
#include "metadata/sql_filter.h"
#include "sql/sql.h"

namespace cairn::metadata {

// RegistryStore on the SQLite metadata database (see sqlite_metadata_backend.h), on the schema of
// migration 2. Thread-safe; concurrency is the Database's.
class SqlRegistryStore final : public RegistryStore {
 public:
  explicit SqlRegistryStore(std::shared_ptr<sql::Database> db);

  StatusOr<RegisteredModel> CreateRegisteredModel(std::string_view tenant, std::string_view name,
                                                  std::string_view description,
                                                  const std::vector<Tag>& tags,
                                                  std::string_view user_id,
                                                  int64_t now_ms) override;
  StatusOr<RegisteredModel> GetRegisteredModel(std::string_view tenant,
                                               std::string_view name) override;
  StatusOr<RegisteredModel> RenameRegisteredModel(std::string_view tenant, std::string_view name,
                                                  std::string_view new_name,
                                                  int64_t now_ms) override;
  StatusOr<RegisteredModel> UpdateRegisteredModel(std::string_view tenant, std::string_view name,
                                                  std::optional<std::string> description,
                                                  int64_t now_ms) override;
  Status DeleteRegisteredModel(std::string_view tenant, std::string_view name) override;
  StatusOr<ResultPage<RegisteredModel>> SearchRegisteredModels(
      std::string_view tenant, const SearchRegisteredModelsQuery& query) override;
  StatusOr<std::vector<ModelVersion>> GetLatestVersions(
      std::string_view tenant, std::string_view name,
      const std::vector<ModelStage>& stages) override;
  Status SetRegisteredModelTag(std::string_view tenant, std::string_view name, const Tag& tag,
                               int64_t now_ms) override;
  Status DeleteRegisteredModelTag(std::string_view tenant, std::string_view name,
                                  std::string_view key) override;
  Status SetRegisteredModelAlias(std::string_view tenant, std::string_view name,
                                 std::string_view alias, int64_t version, int64_t now_ms) override;
  Status DeleteRegisteredModelAlias(std::string_view tenant, std::string_view name,
                                    std::string_view alias) override;
  StatusOr<ModelVersion> GetModelVersionByAlias(std::string_view tenant, std::string_view name,
                                                std::string_view alias) override;
  StatusOr<ModelVersion> CreateModelVersion(std::string_view tenant,
                                            const CreateModelVersionRequest& request,
                                            int64_t now_ms) override;
  StatusOr<ModelVersion> GetModelVersion(std::string_view tenant, std::string_view name,
                                         int64_t version) override;
  StatusOr<ModelVersion> UpdateModelVersion(std::string_view tenant, std::string_view name,
                                            int64_t version, std::optional<std::string> description,
                                            int64_t now_ms) override;
  Status DeleteModelVersion(std::string_view tenant, std::string_view name, int64_t version,
                            int64_t now_ms) override;
  StatusOr<ResultPage<ModelVersion>> SearchModelVersions(
      std::string_view tenant, const SearchModelVersionsQuery& query) override;
  StatusOr<ModelVersion> TransitionModelVersionStage(std::string_view tenant, std::string_view name,
                                                     int64_t version, ModelStage stage,
                                                     bool archive_existing,
                                                     int64_t now_ms) override;
  Status SetModelVersionTag(std::string_view tenant, std::string_view name, int64_t version,
                            const Tag& tag, int64_t now_ms) override;
  Status DeleteModelVersionTag(std::string_view tenant, std::string_view name, int64_t version,
                               std::string_view key) override;
  StatusOr<PromotionRecord> PromoteModelVersion(std::string_view tenant,
                                                const PromoteRequest& request,
                                                int64_t now_ms) override;
  StatusOr<std::vector<PromotionRecord>> ListPromotions(std::string_view tenant,
                                                        std::string_view name,
                                                        std::optional<int64_t> version) override;
  Status ImportRegisteredModel(std::string_view tenant,
                               const RegisteredModelImport& model) override;

 private:
  const std::shared_ptr<sql::Database> db_;
  const SqlDialect dialect_;
};

}  // namespace cairn::metadata
