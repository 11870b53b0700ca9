#pragma once

#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/ids.h"
#include "base/status.h"
#include "metadata/tracking_store.h"

namespace cairn::tracking {

struct TrackingOptions {
  // Root of new experiments' artifact locations; experiment N gets "<root>/N".
  std::string default_artifact_root = "mlflow-artifacts:";
};

// Experiment and run tracking with MLflow's semantics, over a TrackingStore. Validates input
// (shape, sizes, formats), assigns ids and times, then delegates to the store, which owns
// state-dependent rules. Every call is scoped to `tenant`.
// Thread-safe; the store and clock must outlive it.
class TrackingService {
 public:
  TrackingService(metadata::TrackingStore& store, const Clock& clock, IdGenerator& ids,
                  TrackingOptions options);

  // Experiments
  StatusOr<std::string> CreateExperiment(std::string_view tenant, std::string_view name,
                                         std::string_view artifact_location,
                                         const std::vector<metadata::Tag>& tags);
  StatusOr<metadata::Experiment> GetExperiment(std::string_view tenant, std::string_view id);
  StatusOr<metadata::Experiment> GetExperimentByName(std::string_view tenant,
                                                     std::string_view name);
  StatusOr<metadata::ResultPage<metadata::Experiment>> SearchExperiments(
      std::string_view tenant, const metadata::SearchExperimentsQuery& query);
  Status RenameExperiment(std::string_view tenant, std::string_view id, std::string_view name);
  Status DeleteExperiment(std::string_view tenant, std::string_view id);
  Status RestoreExperiment(std::string_view tenant, std::string_view id);
  Status SetExperimentTag(std::string_view tenant, std::string_view id, const metadata::Tag& tag);
  Status DeleteExperimentTag(std::string_view tenant, std::string_view id, std::string_view key);

  // Runs
  struct CreateRunRequest {
    std::string experiment_id;  // empty means "0"
    std::string user_id;
    std::string run_name;
    std::optional<int64_t> start_time;
    std::vector<metadata::Tag> tags;
  };
  StatusOr<metadata::Run> CreateRun(std::string_view tenant, CreateRunRequest request);
  StatusOr<metadata::Run> GetRun(std::string_view tenant, std::string_view run_id);
  StatusOr<metadata::RunInfo> UpdateRun(std::string_view tenant, std::string_view run_id,
                                        std::optional<metadata::RunStatus> status,
                                        std::optional<int64_t> end_time,
                                        std::optional<std::string> run_name);
  Status DeleteRun(std::string_view tenant, std::string_view run_id);
  Status RestoreRun(std::string_view tenant, std::string_view run_id);
  Status LogBatch(std::string_view tenant, std::string_view run_id,
                  std::vector<metadata::Metric> metrics, std::vector<metadata::Param> params,
                  std::vector<metadata::Tag> tags);
  Status DeleteRunTag(std::string_view tenant, std::string_view run_id, std::string_view key);
  StatusOr<metadata::ResultPage<metadata::Metric>> GetMetricHistory(std::string_view tenant,
                                                                    std::string_view run_id,
                                                                    std::string_view key,
                                                                    const metadata::Page& page);
  // At most `max_results` points per run, sampled evenly over the steps in range (always
  // keeping the first and last step), as MLflow's UI charts expect.
  StatusOr<std::vector<metadata::Metric>> GetMetricHistoryBulkInterval(
      std::string_view tenant, const std::vector<std::string>& run_ids, std::string_view key,
      std::optional<int64_t> start_step, std::optional<int64_t> end_step, int64_t max_results);
  StatusOr<metadata::ResultPage<metadata::Run>> SearchRuns(std::string_view tenant,
                                                           const metadata::SearchRunsQuery& query);
  Status LogInputs(std::string_view tenant, std::string_view run_id,
                   const std::vector<metadata::DatasetInput>& datasets,
                   const std::vector<metadata::ModelInput>& models);
  Status LogOutputs(std::string_view tenant, std::string_view run_id,
                    const std::vector<metadata::ModelOutput>& models);

  // Logged models (MLflow 3)
  struct CreateLoggedModelRequest {
    std::string experiment_id;
    std::string name;
    std::string model_type;
    std::string source_run_id;
    std::string creator_id;
    std::vector<metadata::Param> params;
    std::vector<metadata::Tag> tags;
  };
  StatusOr<metadata::LoggedModel> CreateLoggedModel(std::string_view tenant,
                                                    CreateLoggedModelRequest request);
  StatusOr<metadata::LoggedModel> GetLoggedModel(std::string_view tenant, std::string_view model_id,
                                                 bool allow_deleted);
  StatusOr<metadata::LoggedModel> FinalizeLoggedModel(std::string_view tenant,
                                                      std::string_view model_id,
                                                      metadata::LoggedModelStatus status);
  Status DeleteLoggedModel(std::string_view tenant, std::string_view model_id);
  Status SetLoggedModelTags(std::string_view tenant, std::string_view model_id,
                            std::vector<metadata::Tag> tags);
  Status DeleteLoggedModelTag(std::string_view tenant, std::string_view model_id,
                              std::string_view key);
  Status LogLoggedModelParams(std::string_view tenant, std::string_view model_id,
                              std::vector<metadata::Param> params);
  StatusOr<metadata::ResultPage<metadata::LoggedModel>> SearchLoggedModels(
      std::string_view tenant, const metadata::SearchLoggedModelsQuery& query);

 private:
  // Creates the tenant's Default experiment on first use.
  Status EnsureTenant(std::string_view tenant);

  metadata::TrackingStore& store_;
  const Clock& clock_;
  IdGenerator& ids_;
  const TrackingOptions options_;
  std::mutex mu_;
  std::set<std::string, std::less<>> known_tenants_;  // guarded by mu_
};

}  // namespace cairn::tracking
