#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "metadata/types.h"

namespace cairn::metadata {

// One LogBatch call's content, owned, for the asynchronous form.
struct RunBatch {
  std::string run_id;
  std::vector<Metric> metrics;
  std::vector<Param> params;
  std::vector<Tag> tags;
};

// Experiments, runs (metrics, params, tags, inputs, outputs) and MLflow 3 logged models. The
// contract every metadata domain store shares is in metadata_stores.h: tenant-scoped, atomic,
// durable once acknowledged, thread-safe, MLflow's error wording. Errors specific to tracking:
// NOT_FOUND "Run with id=X not found" / "No Experiment with id=X exists"; writes to a deleted
// run or experiment are INVALID_ARGUMENT "... must be in the 'active' state"; changing a param is
// INVALID_ARGUMENT.
class TrackingStore {
 public:
  virtual ~TrackingStore() = default;

  // Creates the tenant's experiment "0" named "Default" (artifact location
  // `<artifact_root>/0`) if it does not exist yet. Idempotent.
  virtual Status EnsureDefaultExperiment(std::string_view tenant, std::string_view artifact_root,
                                         int64_t now_ms) = 0;

  // ---- Experiments ----
  // Assigns the next decimal id of the tenant. An empty `artifact_location` becomes
  // `<artifact_root>/<id>`. ALREADY_EXISTS if an experiment (active or deleted) has the name.
  virtual StatusOr<std::string> CreateExperiment(std::string_view tenant, std::string_view name,
                                                 std::string_view artifact_location,
                                                 std::string_view artifact_root,
                                                 const std::vector<Tag>& tags, int64_t now_ms) = 0;
  virtual StatusOr<Experiment> GetExperiment(std::string_view tenant,
                                             std::string_view experiment_id) = 0;
  // Prefers the active experiment of that name.
  virtual StatusOr<Experiment> GetExperimentByName(std::string_view tenant,
                                                   std::string_view name) = 0;
  virtual StatusOr<ResultPage<Experiment>> SearchExperiments(
      std::string_view tenant, const SearchExperimentsQuery& query) = 0;
  // Rename. INVALID_ARGUMENT if the experiment is deleted; ALREADY_EXISTS if the name is taken.
  virtual Status RenameExperiment(std::string_view tenant, std::string_view experiment_id,
                                  std::string_view new_name, int64_t now_ms) = 0;
  // Soft delete / restore, cascading to the experiment's runs. Deleting experiment "0" is
  // allowed, as in MLflow.
  virtual Status DeleteExperiment(std::string_view tenant, std::string_view experiment_id,
                                  int64_t now_ms) = 0;
  virtual Status RestoreExperiment(std::string_view tenant, std::string_view experiment_id,
                                   int64_t now_ms) = 0;
  virtual Status SetExperimentTag(std::string_view tenant, std::string_view experiment_id,
                                  const Tag& tag) = 0;
  // NOT_FOUND if the tag is absent.
  virtual Status DeleteExperimentTag(std::string_view tenant, std::string_view experiment_id,
                                     std::string_view key) = 0;

  // ---- Runs ----
  // Stores a new run. `info` is complete (id, times chosen by the caller) but for an empty
  // artifact_uri, which becomes <experiment's artifact_location>/<run id>/artifacts. The
  // experiment must exist and be active (else NOT_FOUND / INVALID_ARGUMENT).
  virtual StatusOr<Run> CreateRun(std::string_view tenant, const RunInfo& info,
                                  const std::vector<Tag>& tags) = 0;
  // Whole run: latest metrics, params, tags, inputs and outputs. Deleted runs are returned too.
  virtual StatusOr<Run> GetRun(std::string_view tenant, std::string_view run_id) = 0;
  // Updates the given fields; a new run_name also sets the mlflow.runName tag.
  virtual StatusOr<RunInfo> UpdateRun(std::string_view tenant, std::string_view run_id,
                                      std::optional<RunStatus> status,
                                      std::optional<int64_t> end_time,
                                      std::optional<std::string> run_name) = 0;
  virtual Status DeleteRun(std::string_view tenant, std::string_view run_id, int64_t now_ms) = 0;
  virtual Status RestoreRun(std::string_view tenant, std::string_view run_id) = 0;

  // Logs metrics, params and tags in one transaction. The run must be active.
  // - params are write-once: the same value again is a no-op; another value is INVALID_ARGUMENT
  //   "Changing param values is not allowed. Param with key='k' was already logged with
  //   value='old' for run ID='id'. Attempted logging new value 'new'."
  // - metrics are appended; an identical (key, timestamp, step, value) row is dropped; the
  //   latest value per key becomes max by (step, timestamp, value).
  // - tags overwrite; a `mlflow.runName` tag renames the run.
  virtual Status LogBatch(std::string_view tenant, std::string_view run_id,
                          const std::vector<Metric>& metrics, const std::vector<Param>& params,
                          const std::vector<Tag>& tags) = 0;
  // LogBatch without waiting, for callers that must not block (an I/O thread): returns at once
  // and later calls `done`, on a thread of the store's own, with what LogBatch would have
  // returned, once the batch is durable or has failed. `done` must be quick and must not call
  // back into the store. Every backend implements it without blocking the caller.
  virtual void LogBatchAsync(std::string tenant, RunBatch batch,
                             std::function<void(Status)> done) = 0;
  // NOT_FOUND if the tag is absent. The run must be active.
  virtual Status DeleteRunTag(std::string_view tenant, std::string_view run_id,
                              std::string_view key) = 0;

  // All values of one metric of one run ordered by (timestamp, step, value), paged. NOT_FOUND when
  // the run does not exist for `tenant`; an empty page when the run has no such metric.
  virtual StatusOr<ResultPage<Metric>> GetMetricHistory(std::string_view tenant,
                                                        std::string_view run_id,
                                                        std::string_view key, const Page& page) = 0;
  // Every value of `key` for the given runs with step in [start_step, end_step] when given,
  // ordered by run, step, timestamp. Each Metric has run_id set. Sampling is the caller's.
  virtual StatusOr<std::vector<Metric>> GetMetricHistoryForRuns(
      std::string_view tenant, const std::vector<std::string>& run_ids, std::string_view key,
      std::optional<int64_t> start_step, std::optional<int64_t> end_step) = 0;

  // Runs of the given experiments matching the query, with the same content as GetRun.
  // Default order: start_time DESC, run_id. NULLs and NaNs sort last in both directions.
  virtual StatusOr<ResultPage<Run>> SearchRuns(std::string_view tenant,
                                               const SearchRunsQuery& query) = 0;

  // Records dataset inputs (deduplicated by dataset (name, digest) per experiment and by input
  // per run) and model inputs. The run must be active.
  virtual Status LogInputs(std::string_view tenant, std::string_view run_id,
                           const std::vector<DatasetInput>& datasets,
                           const std::vector<ModelInput>& models) = 0;
  virtual Status LogOutputs(std::string_view tenant, std::string_view run_id,
                            const std::vector<ModelOutput>& models) = 0;

  // ---- Logged models (MLflow 3) ----
  // `model` is complete (id, artifact_uri, times, status chosen by the caller). The experiment
  // must exist and be active.
  virtual StatusOr<LoggedModel> CreateLoggedModel(std::string_view tenant,
                                                  const LoggedModel& model) = 0;
  // NOT_FOUND for deleted models unless allow_deleted.
  virtual StatusOr<LoggedModel> GetLoggedModel(std::string_view tenant, std::string_view model_id,
                                               bool allow_deleted = false) = 0;
  virtual StatusOr<LoggedModel> FinalizeLoggedModel(std::string_view tenant,
                                                    std::string_view model_id,
                                                    LoggedModelStatus status, int64_t now_ms) = 0;
  virtual Status DeleteLoggedModel(std::string_view tenant, std::string_view model_id,
                                   int64_t now_ms) = 0;
  virtual Status SetLoggedModelTags(std::string_view tenant, std::string_view model_id,
                                    const std::vector<Tag>& tags, int64_t now_ms) = 0;
  virtual Status DeleteLoggedModelTag(std::string_view tenant, std::string_view model_id,
                                      std::string_view key, int64_t now_ms) = 0;
  // Params of a logged model are write-once like run params.
  virtual Status LogLoggedModelParams(std::string_view tenant, std::string_view model_id,
                                      const std::vector<Param>& params, int64_t now_ms) = 0;
  // Default order: creation_timestamp DESC, model_id.
  virtual StatusOr<ResultPage<LoggedModel>> SearchLoggedModels(
      std::string_view tenant, const SearchLoggedModelsQuery& query) = 0;

  // ---- Import (copying another MLflow store, ids kept) ----
  // These write entities exactly as given (ids, names, times, lifecycle stages), where the
  // methods above would choose ids and times or need active parents. They are for `cairn
  // import` only: no MLflow route reaches them. Each is atomic, so an interrupted import leaves
  // every entity either whole or absent.

  // Stores `experiment` with its id, name, artifact location, lifecycle stage, times and tags.
  // When the tenant already has an experiment with that id and that name (the "Default"
  // experiment a tenant starts with, or an earlier import of the same experiment), its fields
  // are replaced and the tags merged (given values win). ALREADY_EXISTS when the id belongs to
  // an experiment of another name, or the name to another id; INVALID_ARGUMENT for an id that
  // is not a non-negative decimal. Later CreateExperiment calls number after the largest id.
  virtual Status ImportExperiment(std::string_view tenant, const Experiment& experiment) = 0;
  // Stores a whole run (info, lifecycle and deleted_time, tags, params, full metric history
  // with the latest values derived from it, dataset and model inputs, outputs) in any state of
  // its experiment, which must exist (NOT_FOUND). ALREADY_EXISTS "Run with id=X already exists"
  // when the run id is taken (in any tenant); nothing is changed then.
  virtual Status ImportRun(std::string_view tenant, const RunImport& run) = 0;
  // Stores a whole logged model (fields, lifecycle, tags, params) with `model.metrics` as its
  // full metric history (each Metric names its run_id and optionally its dataset), in any state
  // of its experiment, which must exist (NOT_FOUND). ALREADY_EXISTS when the model id is taken.
  virtual Status ImportLoggedModel(std::string_view tenant, const LoggedModel& model) = 0;
};

// Forwards every call to another tracking store, so a test can override one method to inject a
// fault.
class TrackingStoreWrapper : public TrackingStore {
 public:
  explicit TrackingStoreWrapper(TrackingStore& target) : target_(target) {}
  TrackingStore& target() { return target_; }

  Status EnsureDefaultExperiment(std::string_view t, std::string_view root, int64_t now) override {
    return target_.EnsureDefaultExperiment(t, root, now);
  }
  StatusOr<std::string> CreateExperiment(std::string_view t, std::string_view name,
                                         std::string_view loc, std::string_view root,
                                         const std::vector<Tag>& tags, int64_t now) override {
    return target_.CreateExperiment(t, name, loc, root, tags, now);
  }
  StatusOr<Experiment> GetExperiment(std::string_view t, std::string_view id) override {
    return target_.GetExperiment(t, id);
  }
  StatusOr<Experiment> GetExperimentByName(std::string_view t, std::string_view name) override {
    return target_.GetExperimentByName(t, name);
  }
  StatusOr<ResultPage<Experiment>> SearchExperiments(std::string_view t,
                                                     const SearchExperimentsQuery& q) override {
    return target_.SearchExperiments(t, q);
  }
  Status RenameExperiment(std::string_view t, std::string_view id, std::string_view name,
                          int64_t now) override {
    return target_.RenameExperiment(t, id, name, now);
  }
  Status DeleteExperiment(std::string_view t, std::string_view id, int64_t now) override {
    return target_.DeleteExperiment(t, id, now);
  }
  Status RestoreExperiment(std::string_view t, std::string_view id, int64_t now) override {
    return target_.RestoreExperiment(t, id, now);
  }
  Status SetExperimentTag(std::string_view t, std::string_view id, const Tag& tag) override {
    return target_.SetExperimentTag(t, id, tag);
  }
  Status DeleteExperimentTag(std::string_view t, std::string_view id,
                             std::string_view key) override {
    return target_.DeleteExperimentTag(t, id, key);
  }
  StatusOr<Run> CreateRun(std::string_view t, const RunInfo& info,
                          const std::vector<Tag>& tags) override {
    return target_.CreateRun(t, info, tags);
  }
  StatusOr<Run> GetRun(std::string_view t, std::string_view id) override {
    return target_.GetRun(t, id);
  }
  StatusOr<RunInfo> UpdateRun(std::string_view t, std::string_view id,
                              std::optional<RunStatus> status, std::optional<int64_t> end_time,
                              std::optional<std::string> run_name) override {
    return target_.UpdateRun(t, id, status, end_time, std::move(run_name));
  }
  Status DeleteRun(std::string_view t, std::string_view id, int64_t now) override {
    return target_.DeleteRun(t, id, now);
  }
  Status RestoreRun(std::string_view t, std::string_view id) override {
    return target_.RestoreRun(t, id);
  }
  Status LogBatch(std::string_view t, std::string_view id, const std::vector<Metric>& metrics,
                  const std::vector<Param>& params, const std::vector<Tag>& tags) override {
    return target_.LogBatch(t, id, metrics, params, tags);
  }
  void LogBatchAsync(std::string t, RunBatch batch, std::function<void(Status)> done) override {
    target_.LogBatchAsync(std::move(t), std::move(batch), std::move(done));
  }
  Status DeleteRunTag(std::string_view t, std::string_view id, std::string_view key) override {
    return target_.DeleteRunTag(t, id, key);
  }
  StatusOr<ResultPage<Metric>> GetMetricHistory(std::string_view t, std::string_view id,
                                                std::string_view key, const Page& p) override {
    return target_.GetMetricHistory(t, id, key, p);
  }
  StatusOr<std::vector<Metric>> GetMetricHistoryForRuns(std::string_view t,
                                                        const std::vector<std::string>& ids,
                                                        std::string_view key,
                                                        std::optional<int64_t> start,
                                                        std::optional<int64_t> end) override {
    return target_.GetMetricHistoryForRuns(t, ids, key, start, end);
  }
  StatusOr<ResultPage<Run>> SearchRuns(std::string_view t, const SearchRunsQuery& q) override {
    return target_.SearchRuns(t, q);
  }
  Status LogInputs(std::string_view t, std::string_view id,
                   const std::vector<DatasetInput>& datasets,
                   const std::vector<ModelInput>& models) override {
    return target_.LogInputs(t, id, datasets, models);
  }
  Status LogOutputs(std::string_view t, std::string_view id,
                    const std::vector<ModelOutput>& models) override {
    return target_.LogOutputs(t, id, models);
  }
  StatusOr<LoggedModel> CreateLoggedModel(std::string_view t, const LoggedModel& m) override {
    return target_.CreateLoggedModel(t, m);
  }
  StatusOr<LoggedModel> GetLoggedModel(std::string_view t, std::string_view id,
                                       bool allow_deleted) override {
    return target_.GetLoggedModel(t, id, allow_deleted);
  }
  StatusOr<LoggedModel> FinalizeLoggedModel(std::string_view t, std::string_view id,
                                            LoggedModelStatus s, int64_t now) override {
    return target_.FinalizeLoggedModel(t, id, s, now);
  }
  Status DeleteLoggedModel(std::string_view t, std::string_view id, int64_t now) override {
    return target_.DeleteLoggedModel(t, id, now);
  }
  Status SetLoggedModelTags(std::string_view t, std::string_view id, const std::vector<Tag>& tags,
                            int64_t now) override {
    return target_.SetLoggedModelTags(t, id, tags, now);
  }
  Status DeleteLoggedModelTag(std::string_view t, std::string_view id, std::string_view key,
                              int64_t now) override {
    return target_.DeleteLoggedModelTag(t, id, key, now);
  }
  Status LogLoggedModelParams(std::string_view t, std::string_view id,
                              const std::vector<Param>& params, int64_t now) override {
    return target_.LogLoggedModelParams(t, id, params, now);
  }
  StatusOr<ResultPage<LoggedModel>> SearchLoggedModels(std::string_view t,
                                                       const SearchLoggedModelsQuery& q) override {
    return target_.SearchLoggedModels(t, q);
  }
  Status ImportExperiment(std::string_view t, const Experiment& e) override {
    return target_.ImportExperiment(t, e);
  }
  Status ImportRun(std::string_view t, const RunImport& r) override {
    return target_.ImportRun(t, r);
  }
  Status ImportLoggedModel(std::string_view t, const LoggedModel& m) override {
    return target_.ImportLoggedModel(t, m);
  }

 private:
  TrackingStore& target_;
};

}  // namespace cairn::metadata
