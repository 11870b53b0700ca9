#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/ids.h"
#include "base/mutex.h"
#include "base/request_scope.h"
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
  StatusOr<std::string> CreateExperiment(const RequestScope& scope, std::string_view name,
                                         std::string_view artifact_location,
                                         const std::vector<metadata::Tag>& tags);
  StatusOr<metadata::Experiment> GetExperiment(const RequestScope& scope, std::string_view id);
  StatusOr<metadata::Experiment> GetExperimentByName(const RequestScope& scope,
                                                     std::string_view name);
  StatusOr<metadata::ResultPage<metadata::Experiment>> SearchExperiments(
      const RequestScope& scope, const metadata::SearchExperimentsQuery& query);
  Status RenameExperiment(const RequestScope& scope, std::string_view id, std::string_view name);
  Status DeleteExperiment(const RequestScope& scope, std::string_view id);
  Status RestoreExperiment(const RequestScope& scope, std::string_view id);
  Status SetExperimentTag(const RequestScope& scope, std::string_view id, const metadata::Tag& tag);
  Status DeleteExperimentTag(const RequestScope& scope, std::string_view id, std::string_view key);

  // Runs
  struct CreateRunRequest {
    std::string experiment_id;  // empty means "0"
    std::string user_id;
    std::string run_name;
    std::optional<int64_t> start_time;
    std::vector<metadata::Tag> tags;
  };
  StatusOr<metadata::Run> CreateRun(const RequestScope& scope, CreateRunRequest request);
  StatusOr<metadata::Run> GetRun(const RequestScope& scope, std::string_view run_id);
  StatusOr<metadata::RunInfo> UpdateRun(const RequestScope& scope, std::string_view run_id,
                                        std::optional<metadata::RunStatus> status,
                                        std::optional<int64_t> end_time,
                                        std::optional<std::string> run_name);
  Status DeleteRun(const RequestScope& scope, std::string_view run_id);
  Status RestoreRun(const RequestScope& scope, std::string_view run_id);
  Status LogBatch(const RequestScope& scope, std::string_view run_id,
                  std::vector<metadata::Metric> metrics, std::vector<metadata::Param> params,
                  std::vector<metadata::Tag> tags);
  // LogBatch for callers that must not block (an asynchronous handler on an I/O thread):
  // validates at once, answering `done` with the error if the batch is malformed, else hands it
  // to the store, which calls `done` once it is durable (see TrackingStore::LogBatchAsync).
  void LogBatchAsync(const RequestScope& scope, metadata::RunBatch batch,
                     std::function<void(Status)> done);
  Status DeleteRunTag(const RequestScope& scope, std::string_view run_id, std::string_view key);
  StatusOr<metadata::ResultPage<metadata::Metric>> GetMetricHistory(const RequestScope& scope,
                                                                    std::string_view run_id,
                                                                    std::string_view key,
                                                                    const metadata::Page& page);
  // At most `max_results` points per run, in request order, sampled as MLflow samples them (see
  // SampleMetricHistory).
  StatusOr<std::vector<metadata::Metric>> GetMetricHistoryBulkInterval(
      const RequestScope& scope, const std::vector<std::string>& run_ids, std::string_view key,
      std::optional<int64_t> start_step, std::optional<int64_t> end_step, int64_t max_results);
  StatusOr<metadata::ResultPage<metadata::Run>> SearchRuns(const RequestScope& scope,
                                                           const metadata::SearchRunsQuery& query);
  Status LogInputs(const RequestScope& scope, std::string_view run_id,
                   const std::vector<metadata::DatasetInput>& datasets,
                   const std::vector<metadata::ModelInput>& models);
  Status LogOutputs(const RequestScope& scope, std::string_view run_id,
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
  StatusOr<metadata::LoggedModel> CreateLoggedModel(const RequestScope& scope,
                                                    CreateLoggedModelRequest request);
  StatusOr<metadata::LoggedModel> GetLoggedModel(const RequestScope& scope,
                                                 std::string_view model_id, bool allow_deleted);
  StatusOr<metadata::LoggedModel> FinalizeLoggedModel(const RequestScope& scope,
                                                      std::string_view model_id,
                                                      metadata::LoggedModelStatus status);
  Status DeleteLoggedModel(const RequestScope& scope, std::string_view model_id);
  Status SetLoggedModelTags(const RequestScope& scope, std::string_view model_id,
                            std::vector<metadata::Tag> tags);
  Status DeleteLoggedModelTag(const RequestScope& scope, std::string_view model_id,
                              std::string_view key);
  Status LogLoggedModelParams(const RequestScope& scope, std::string_view model_id,
                              std::vector<metadata::Param> params);
  StatusOr<metadata::ResultPage<metadata::LoggedModel>> SearchLoggedModels(
      const RequestScope& scope, const metadata::SearchLoggedModelsQuery& query);

  // Creates the tenant's Default experiment ("0") on its first use; cheap once done. Every
  // tracking call does it; other services that write into experiments (traces) call it too.
  Status EnsureTenant(const RequestScope& scope);

  // What else goes when a run, or an experiment with its runs, is deleted (MLflow deletes the
  // assessments a run logged); called after the deletion is stored, and its error returned. Set
  // once, before use.
  using DeletionHook = std::function<Status(const RequestScope&, std::string_view id)>;
  void SetDeletionHooks(DeletionHook on_run_deleted, DeletionHook on_experiment_deleted) {
    on_run_deleted_ = std::move(on_run_deleted);
    on_experiment_deleted_ = std::move(on_experiment_deleted);
  }

 private:
  metadata::TrackingStore& store_;
  const Clock& clock_;
  IdGenerator& ids_;
  const TrackingOptions options_;
  Mutex mu_;
  std::set<std::string, std::less<>> known_tenants_ GUARDED_BY(mu_);
  DeletionHook on_run_deleted_;
  DeletionHook on_experiment_deleted_;
};

// MLflow's sampling of one run's metric history (its SQL store's NTILE query): the points
// ordered by step, timestamp and value are cut into `max_results` buckets, the first n %
// max_results one point larger than the rest, and the first point of each is kept; the last
// point is then added, or replaces the last sample when there are `max_results` already. With
// fewer points than `max_results`, all are kept.
std::vector<metadata::Metric> SampleMetricHistory(std::vector<metadata::Metric> history,
                                                  int64_t max_results);

}  // namespace cairn::tracking
