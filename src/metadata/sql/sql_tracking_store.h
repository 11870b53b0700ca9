#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metadata/sql_filter.h"
#include "metadata/tracking_store.h"
#include "sql/sql.h"

namespace cairn::metadata {

// TrackingStore on the SQLite metadata database (see sqlite_metadata_backend.h): experiments
// (sqlite_experiments.cc), runs (sqlite_runs.cc) and logged models (sqlite_logged_models.cc).
// Thread-safe; concurrency is the Database's.
class SqlTrackingStore final : public TrackingStore {
 public:
  explicit SqlTrackingStore(std::shared_ptr<sql::Database> db);

  Status EnsureDefaultExperiment(std::string_view tenant, std::string_view artifact_root,
                                 int64_t now_ms) override;
  StatusOr<std::string> CreateExperiment(std::string_view tenant, std::string_view name,
                                         std::string_view artifact_location,
                                         std::string_view artifact_root,
                                         const std::vector<Tag>& tags, int64_t now_ms) override;
  StatusOr<Experiment> GetExperiment(std::string_view tenant,
                                     std::string_view experiment_id) override;
  StatusOr<Experiment> GetExperimentByName(std::string_view tenant, std::string_view name) override;
  StatusOr<ResultPage<Experiment>> SearchExperiments(std::string_view tenant,
                                                     const SearchExperimentsQuery& query) override;
  Status RenameExperiment(std::string_view tenant, std::string_view experiment_id,
                          std::string_view new_name, int64_t now_ms) override;
  Status DeleteExperiment(std::string_view tenant, std::string_view experiment_id,
                          int64_t now_ms) override;
  Status RestoreExperiment(std::string_view tenant, std::string_view experiment_id,
                           int64_t now_ms) override;
  Status SetExperimentTag(std::string_view tenant, std::string_view experiment_id,
                          const Tag& tag) override;
  Status DeleteExperimentTag(std::string_view tenant, std::string_view experiment_id,
                             std::string_view key) override;

  StatusOr<Run> CreateRun(std::string_view tenant, const RunInfo& info,
                          const std::vector<Tag>& tags) override;
  StatusOr<Run> GetRun(std::string_view tenant, std::string_view run_id) override;
  StatusOr<RunInfo> UpdateRun(std::string_view tenant, std::string_view run_id,
                              std::optional<RunStatus> status, std::optional<int64_t> end_time,
                              std::optional<std::string> run_name) override;
  Status DeleteRun(std::string_view tenant, std::string_view run_id, int64_t now_ms) override;
  Status RestoreRun(std::string_view tenant, std::string_view run_id) override;
  Status LogBatch(std::string_view tenant, std::string_view run_id,
                  const std::vector<Metric>& metrics, const std::vector<Param>& params,
                  const std::vector<Tag>& tags) override;
  void LogBatchAsync(std::string tenant, RunBatch batch, std::function<void(Status)> done) override;
  Status DeleteRunTag(std::string_view tenant, std::string_view run_id,
                      std::string_view key) override;
  StatusOr<ResultPage<Metric>> GetMetricHistory(std::string_view tenant, std::string_view run_id,
                                                std::string_view key, const Page& page) override;
  StatusOr<std::vector<Metric>> GetMetricHistoryForRuns(std::string_view tenant,
                                                        const std::vector<std::string>& run_ids,
                                                        std::string_view key,
                                                        std::optional<int64_t> start_step,
                                                        std::optional<int64_t> end_step) override;
  StatusOr<ResultPage<Run>> SearchRuns(std::string_view tenant,
                                       const SearchRunsQuery& query) override;
  Status LogInputs(std::string_view tenant, std::string_view run_id,
                   const std::vector<DatasetInput>& datasets,
                   const std::vector<ModelInput>& models) override;
  Status LogOutputs(std::string_view tenant, std::string_view run_id,
                    const std::vector<ModelOutput>& models) override;

  StatusOr<LoggedModel> CreateLoggedModel(std::string_view tenant,
                                          const LoggedModel& model) override;
  StatusOr<LoggedModel> GetLoggedModel(std::string_view tenant, std::string_view model_id,
                                       bool allow_deleted) override;
  StatusOr<LoggedModel> FinalizeLoggedModel(std::string_view tenant, std::string_view model_id,
                                            LoggedModelStatus status, int64_t now_ms) override;
  Status DeleteLoggedModel(std::string_view tenant, std::string_view model_id,
                           int64_t now_ms) override;
  Status SetLoggedModelTags(std::string_view tenant, std::string_view model_id,
                            const std::vector<Tag>& tags, int64_t now_ms) override;
  Status DeleteLoggedModelTag(std::string_view tenant, std::string_view model_id,
                              std::string_view key, int64_t now_ms) override;
  Status LogLoggedModelParams(std::string_view tenant, std::string_view model_id,
                              const std::vector<Param>& params, int64_t now_ms) override;
  StatusOr<ResultPage<LoggedModel>> SearchLoggedModels(
      std::string_view tenant, const SearchLoggedModelsQuery& query) override;

  Status ImportExperiment(std::string_view tenant, const Experiment& experiment) override;
  Status ImportRun(std::string_view tenant, const RunImport& run) override;
  Status ImportLoggedModel(std::string_view tenant, const LoggedModel& model) override;

  sql::Database& database() { return *db_; }

 private:
  const std::shared_ptr<sql::Database> db_;
  const SqlDialect dialect_;
};

}  // namespace cairn::metadata
