#pragma once

#include <memory>

#include "metadata/monitor_store.h"
#include "sql/sql.h"

namespace cairn::metadata {

// MonitorStore on the SQLite metadata database (see sqlite_metadata_backend.h), on the schema
// of migration 6. Thread-safe; concurrency is the Database's.
class SqlMonitorStore final : public MonitorStore {
 public:
  explicit SqlMonitorStore(std::shared_ptr<sql::Database> db) : db_(std::move(db)) {}

  StatusOr<DriftConfigRecord> PutDriftConfig(std::string_view tenant,
                                             const DriftConfigRecord& record) override;
  StatusOr<std::vector<DriftConfigRecord>> ListDriftConfigs(std::string_view tenant,
                                                            std::string_view model_name) override;
  StatusOr<std::vector<std::pair<std::string, DriftConfigRecord>>> ListAllDriftConfigs() override;
  Status DeleteDriftConfig(std::string_view tenant, std::string_view id) override;

  StatusOr<int64_t> AddReference(std::string_view tenant, const ReferenceRecord& record) override;
  StatusOr<ReferenceRecord> GetReference(std::string_view tenant, std::string_view deployment_id,
                                         std::optional<int64_t> version,
                                         bool with_profile) override;
  StatusOr<std::vector<ReferenceRecord>> ListReferences(std::string_view tenant,
                                                        std::string_view deployment_id) override;

  Status PutWindow(std::string_view tenant, const WindowRecord& window,
                   std::string_view state_json) override;
  Status UpdateWindowResults(std::string_view tenant, std::string_view config_id,
                             std::string_view deployment_id, int64_t start_ms,
                             std::string_view results_json) override;
  StatusOr<WindowRecord> GetWindow(std::string_view tenant, std::string_view config_id,
                                   std::string_view deployment_id, int64_t start_ms) override;
  StatusOr<std::vector<WindowRecord>> ListWindows(std::string_view tenant,
                                                  std::string_view model_name,
                                                  std::string_view deployment_id, int64_t from_ms,
                                                  int64_t to_ms, int limit) override;
  StatusOr<std::optional<std::string>> GetMonitorState(std::string_view tenant,
                                                       std::string_view config_id,
                                                       std::string_view deployment_id) override;
  Status PutMonitorState(std::string_view tenant, std::string_view config_id,
                         std::string_view deployment_id, std::string_view state_json) override;

  StatusOr<std::vector<PredictionSummary>> AddPredictions(
      std::string_view tenant, std::span<const PredictionSummary> predictions) override;
  StatusOr<std::vector<LabelMatch>> AttachLabels(std::string_view tenant,
                                                 std::span<const LabelInput> labels,
                                                 int64_t now_ms) override;
  StatusOr<std::vector<PredictionSummary>> LabeledPredictions(std::string_view tenant,
                                                              std::string_view config_id,
                                                              std::string_view deployment_id,
                                                              int64_t window_start_ms) override;
  StatusOr<std::vector<PredictionSummary>> PredictionsOfSubject(std::string_view tenant,
                                                                std::string_view subject_id,
                                                                int limit) override;
  StatusOr<int64_t> DeleteSubject(std::string_view tenant, std::string_view subject_id) override;
  StatusOr<int64_t> DeletePredictionsBefore(int64_t before_ms) override;
  Status DeleteDeploymentData(std::string_view tenant, std::string_view deployment_id) override;

  Status PutAlert(std::string_view tenant, const AlertRecord& alert) override;
  StatusOr<AlertRecord> GetAlert(std::string_view tenant, std::string_view id) override;
  StatusOr<std::optional<AlertRecord>> FindFiringAlert(std::string_view tenant,
                                                       std::string_view config_id,
                                                       std::string_view deployment_id,
                                                       std::string_view kind) override;
  StatusOr<std::vector<AlertRecord>> ListAlerts(std::string_view tenant,
                                                const AlertFilter& filter) override;

  Status PutAction(std::string_view tenant, const ActionRecord& action) override;
  StatusOr<std::vector<ActionRecord>> ListActions(std::string_view tenant,
                                                  std::string_view alert_id,
                                                  std::string_view config_id,
                                                  std::string_view action, int limit) override;

 private:
  const std::shared_ptr<sql::Database> db_;
};

}  // namespace cairn::metadata
