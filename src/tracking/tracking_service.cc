#include "tracking/tracking_service.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <tuple>

#include "tracking/validation.h"

namespace cairn::tracking {
namespace {

constexpr std::string_view kRunNameTag = "mlflow.runName";
constexpr std::string_view kUserTag = "mlflow.user";

const metadata::Tag* FindTag(const std::vector<metadata::Tag>& tags, std::string_view key) {
  const metadata::Tag* found = nullptr;
  for (const auto& t : tags) {
    if (t.key == key) found = &t;  // the last occurrence wins, as in a batch
  }
  return found;
}

Status ValidateModelId(std::string_view model_id) {
  if (model_id.empty()) return InvalidArgument("Missing value for required parameter 'model_id'");
  if (model_id.size() > 256) return InvalidArgument("Invalid model ID");
  return Status::Ok();
}

}  // namespace

TrackingService::TrackingService(metadata::TrackingStore& store, const Clock& clock,
                                 IdGenerator& ids, TrackingOptions options)
    : store_(store), clock_(clock), ids_(ids), options_(std::move(options)) {}

Status TrackingService::EnsureTenant(const RequestScope& scope) {
  {
    MutexLock lock(mu_);
    if (known_tenants_.find(scope.tenant) != known_tenants_.end()) return Status::Ok();
  }
  RETURN_IF_ERROR(store_.EnsureDefaultExperiment(scope.tenant, options_.default_artifact_root,
                                                 clock_.NowMillis()));
  MutexLock lock(mu_);
  known_tenants_.emplace(scope.tenant);
  return Status::Ok();
}

StatusOr<std::string> TrackingService::CreateExperiment(const RequestScope& scope,
                                                        std::string_view name,
                                                        std::string_view artifact_location,
                                                        const std::vector<metadata::Tag>& tags) {
  RETURN_IF_ERROR(ValidateExperimentName(name));
  for (const auto& t : tags) RETURN_IF_ERROR(ValidateExperimentTag(t));
  if (!artifact_location.empty()) {
    if (artifact_location.find('#') != std::string_view::npos) {
      return InvalidArgument("'artifact_location' URL can't include fragments or params.");
    }
    if (artifact_location.rfind("runs:", 0) == 0) {
      return InvalidArgument("'artifact_location' value cannot be a runs:/ URI.");
    }
    if (artifact_location.find("..") != std::string_view::npos) {
      return InvalidArgument("'artifact_location' must not contain '..'.");
    }
  }
  RETURN_IF_ERROR(EnsureTenant(scope));
  std::string location(artifact_location);
  if (!location.empty()) {
    // As MLflow's server does: relative to the server's working directory.
    std::error_code ec;
    std::filesystem::path cwd = std::filesystem::current_path(ec);
    if (!ec) location = ResolveLocalArtifactLocation(location, cwd.generic_string());
  }
  return store_.CreateExperiment(scope.tenant, name, location, options_.default_artifact_root, tags,
                                 clock_.NowMillis());
}

StatusOr<metadata::Experiment> TrackingService::GetExperiment(const RequestScope& scope,
                                                              std::string_view id) {
  RETURN_IF_ERROR(ValidateExperimentId(id));
  RETURN_IF_ERROR(EnsureTenant(scope));
  return store_.GetExperiment(scope.tenant, id);
}

StatusOr<metadata::Experiment> TrackingService::GetExperimentByName(const RequestScope& scope,
                                                                    std::string_view name) {
  if (name.empty()) {
    return InvalidArgument("Missing value for required parameter 'experiment_name'");
  }
  RETURN_IF_ERROR(EnsureTenant(scope));
  return store_.GetExperimentByName(scope.tenant, name);
}

StatusOr<metadata::ResultPage<metadata::Experiment>> TrackingService::SearchExperiments(
    const RequestScope& scope, const metadata::SearchExperimentsQuery& query) {
  if (query.page.max_results < 1 || query.page.max_results > kMaxSearchExperimentsResults) {
    return InvalidArgument(
        "Invalid value for parameter 'max_results' supplied. It must be a positive integer "
        "no greater than 50000");
  }
  RETURN_IF_ERROR(EnsureTenant(scope));
  return store_.SearchExperiments(scope.tenant, query);
}

Status TrackingService::RenameExperiment(const RequestScope& scope, std::string_view id,
                                         std::string_view name) {
  RETURN_IF_ERROR(ValidateExperimentId(id));
  RETURN_IF_ERROR(ValidateExperimentName(name));
  RETURN_IF_ERROR(EnsureTenant(scope));
  return store_.RenameExperiment(scope.tenant, id, name, clock_.NowMillis());
}

Status TrackingService::DeleteExperiment(const RequestScope& scope, std::string_view id) {
  RETURN_IF_ERROR(ValidateExperimentId(id));
  RETURN_IF_ERROR(EnsureTenant(scope));
  RETURN_IF_ERROR(store_.DeleteExperiment(scope.tenant, id, clock_.NowMillis()));
  return on_experiment_deleted_ ? on_experiment_deleted_(scope, id) : Status::Ok();
}

Status TrackingService::RestoreExperiment(const RequestScope& scope, std::string_view id) {
  RETURN_IF_ERROR(ValidateExperimentId(id));
  RETURN_IF_ERROR(EnsureTenant(scope));
  return store_.RestoreExperiment(scope.tenant, id, clock_.NowMillis());
}

Status TrackingService::SetExperimentTag(const RequestScope& scope, std::string_view id,
                                         const metadata::Tag& tag) {
  RETURN_IF_ERROR(ValidateExperimentId(id));
  RETURN_IF_ERROR(ValidateExperimentTag(tag));
  RETURN_IF_ERROR(EnsureTenant(scope));
  return store_.SetExperimentTag(scope.tenant, id, tag);
}

Status TrackingService::DeleteExperimentTag(const RequestScope& scope, std::string_view id,
                                            std::string_view key) {
  RETURN_IF_ERROR(ValidateExperimentId(id));
  RETURN_IF_ERROR(ValidateKey(key, "tag"));
  RETURN_IF_ERROR(EnsureTenant(scope));
  return store_.DeleteExperimentTag(scope.tenant, id, key);
}

StatusOr<metadata::Run> TrackingService::CreateRun(const RequestScope& scope,
                                                   CreateRunRequest request) {
  if (request.experiment_id.empty()) request.experiment_id = "0";
  RETURN_IF_ERROR(ValidateExperimentId(request.experiment_id));
  std::vector<metadata::Metric> no_metrics;
  std::vector<metadata::Param> no_params;
  RETURN_IF_ERROR(ValidateAndTruncateBatch(no_metrics, no_params, request.tags));
  RETURN_IF_ERROR(EnsureTenant(scope));

  const metadata::Tag* name_tag = FindTag(request.tags, kRunNameTag);
  if (!request.run_name.empty() && name_tag != nullptr && name_tag->value != request.run_name) {
    return InvalidArgument(
        "Both 'run_name' argument and 'mlflow.runName' tag are specified, "
        "but with different values (run_name='" +
        request.run_name + "', mlflow.runName='" + name_tag->value + "').");
  }
  std::string run_name = request.run_name;
  if (run_name.empty() && name_tag != nullptr) run_name = name_tag->value;
  if (run_name.empty()) run_name = ids_.RunName();

  // The store checks that the experiment exists and is active, and derives the artifact URI from
  // its artifact location, in the write itself: no read of the experiment beforehand.
  metadata::RunInfo info;
  info.run_id = ids_.Hex32();
  info.experiment_id = request.experiment_id;
  info.run_name = run_name;
  info.user_id = request.user_id;
  if (info.user_id.empty()) {
    if (const auto* user = FindTag(request.tags, kUserTag)) info.user_id = user->value;
  }
  info.status = metadata::RunStatus::kRunning;
  info.start_time = request.start_time.value_or(clock_.NowMillis());
  info.lifecycle_stage = metadata::LifecycleStage::kActive;

  std::vector<metadata::Tag> tags;
  tags.reserve(request.tags.size() + 1);
  // As MLflow: a given mlflow.runName tag keeps its place; otherwise it comes last.
  bool has_name_tag = false;
  for (auto& t : request.tags) {
    if (t.key != kRunNameTag) {
      tags.push_back(std::move(t));
    } else if (!has_name_tag) {
      has_name_tag = true;
      tags.push_back({std::string(kRunNameTag), run_name});
    }
  }
  if (!has_name_tag) tags.push_back({std::string(kRunNameTag), run_name});
  return store_.CreateRun(scope.tenant, info, tags);
}

StatusOr<metadata::Run> TrackingService::GetRun(const RequestScope& scope,
                                                std::string_view run_id) {
  RETURN_IF_ERROR(ValidateRunId(run_id));
  return store_.GetRun(scope.tenant, run_id);
}

StatusOr<metadata::RunInfo> TrackingService::UpdateRun(const RequestScope& scope,
                                                       std::string_view run_id,
                                                       std::optional<metadata::RunStatus> status,
                                                       std::optional<int64_t> end_time,
                                                       std::optional<std::string> run_name) {
  RETURN_IF_ERROR(ValidateRunId(run_id));
  if (run_name && run_name->empty()) run_name.reset();
  return store_.UpdateRun(scope.tenant, run_id, status, end_time, std::move(run_name));
}

Status TrackingService::DeleteRun(const RequestScope& scope, std::string_view run_id) {
  RETURN_IF_ERROR(ValidateRunId(run_id));
  RETURN_IF_ERROR(store_.DeleteRun(scope.tenant, run_id, clock_.NowMillis()));
  return on_run_deleted_ ? on_run_deleted_(scope, run_id) : Status::Ok();
}

Status TrackingService::RestoreRun(const RequestScope& scope, std::string_view run_id) {
  RETURN_IF_ERROR(ValidateRunId(run_id));
  return store_.RestoreRun(scope.tenant, run_id);
}

Status TrackingService::LogBatch(const RequestScope& scope, std::string_view run_id,
                                 std::vector<metadata::Metric> metrics,
                                 std::vector<metadata::Param> params,
                                 std::vector<metadata::Tag> tags) {
  RETURN_IF_ERROR(ValidateRunId(run_id));
  RETURN_IF_ERROR(ValidateAndTruncateBatch(metrics, params, tags));
  return store_.LogBatch(scope.tenant, run_id, metrics, params, tags);
}

void TrackingService::LogBatchAsync(const RequestScope& scope, metadata::RunBatch batch,
                                    std::function<void(Status)> done) {
  Status valid = ValidateRunId(batch.run_id);
  if (valid.ok()) valid = ValidateAndTruncateBatch(batch.metrics, batch.params, batch.tags);
  if (!valid.ok()) {
    done(std::move(valid));
    return;
  }
  store_.LogBatchAsync(scope.tenant, std::move(batch), std::move(done));
}

Status TrackingService::DeleteRunTag(const RequestScope& scope, std::string_view run_id,
                                     std::string_view key) {
  RETURN_IF_ERROR(ValidateRunId(run_id));
  if (key.empty()) return InvalidArgument("Missing value for required parameter 'key'");
  return store_.DeleteRunTag(scope.tenant, run_id, key);
}

StatusOr<metadata::ResultPage<metadata::Metric>> TrackingService::GetMetricHistory(
    const RequestScope& scope, std::string_view run_id, std::string_view key,
    const metadata::Page& page) {
  RETURN_IF_ERROR(ValidateRunId(run_id));
  if (key.empty()) return InvalidArgument("Missing value for required parameter 'metric_key'");
  if (page.max_results < 1) {
    return InvalidArgument("Invalid value for parameter 'max_results': must be positive");
  }
  // The store answers NOT_FOUND for a missing run (an empty page means no such metric), checked in
  // the same read as the history: loading the whole run here cost six more queries per call.
  return store_.GetMetricHistory(scope.tenant, run_id, key, page);
}

StatusOr<std::vector<metadata::Metric>> TrackingService::GetMetricHistoryBulkInterval(
    const RequestScope& scope, const std::vector<std::string>& run_ids, std::string_view key,
    std::optional<int64_t> start_step, std::optional<int64_t> end_step, int64_t max_results) {
  if (run_ids.empty()) {
    return InvalidArgument(
        "GetMetricHistoryBulkInterval request must specify at least one run_id.");
  }
  if (run_ids.size() > 100) {
    return InvalidArgument(
        "GetMetricHistoryBulkInterval request cannot specify more than 100 run_ids. Received " +
        std::to_string(run_ids.size()) + " run_ids.");
  }
  for (const auto& id : run_ids) RETURN_IF_ERROR(ValidateRunId(id));
  if (key.empty()) return InvalidArgument("Missing value for required parameter 'metric_key'");
  if (start_step.has_value() != end_step.has_value()) {
    return InvalidArgument(
        "If either start step or end step are specified, both must be specified.");
  }
  if (start_step && end_step && *start_step > *end_step) {
    return InvalidArgument("end_step must be greater than start_step. Found start_step=" +
                           std::to_string(*start_step) +
                           " and end_step=" + std::to_string(*end_step) + ".");
  }
  if (max_results < 1 || max_results > 2500) {
    return InvalidArgument("max_results must be between 1 and 2500.");
  }
  ASSIGN_OR_RETURN(auto metrics, store_.GetMetricHistoryForRuns(scope.tenant, run_ids, key,
                                                                start_step, end_step));
  // The store answers run by run in request order; each run is sampled on its own.
  std::vector<metadata::Metric> out;
  size_t begin = 0;
  while (begin < metrics.size()) {
    size_t end = begin + 1;
    while (end < metrics.size() && metrics[end].run_id == metrics[begin].run_id) ++end;
    std::vector<metadata::Metric> run(std::make_move_iterator(metrics.begin() + begin),
                                      std::make_move_iterator(metrics.begin() + end));
    for (auto& m : SampleMetricHistory(std::move(run), max_results)) out.push_back(std::move(m));
    begin = end;
  }
  return out;
}

std::vector<metadata::Metric> SampleMetricHistory(std::vector<metadata::Metric> history,
                                                  int64_t max_results) {
  // MLflow's order: step, timestamp, value (NaN stored as 0), NaN last among equals.
  auto key = [](const metadata::Metric& m) {
    bool nan = std::isnan(m.value);
    return std::make_tuple(m.step, m.timestamp, nan ? 0.0 : m.value, nan);
  };
  std::stable_sort(history.begin(), history.end(),
                   [&key](const auto& a, const auto& b) { return key(a) < key(b); });
  const size_t n = history.size();
  const size_t buckets = static_cast<size_t>(std::max<int64_t>(1, max_results));
  if (n == 0) return history;
  // NTILE(buckets): the first n % buckets buckets hold one row more than the others; the first
  // row of each is kept.
  std::vector<metadata::Metric> out;
  const size_t size = n / buckets;
  const size_t larger = n % buckets;
  for (size_t b = 0, start = 0; b < buckets && start < n; ++b) {
    out.push_back(history[start]);
    start += size + (b < larger ? 1 : 0);
  }
  // The last point is always there, replacing the last sample when the answer is full.
  if (key(out.back()) != key(history.back())) {
    if (out.size() >= buckets) {
      out.back() = history.back();
    } else {
      out.push_back(history.back());
    }
  }
  return out;
}

StatusOr<metadata::ResultPage<metadata::Run>> TrackingService::SearchRuns(
    const RequestScope& scope, const metadata::SearchRunsQuery& query) {
  if (query.page.max_results < 1 || query.page.max_results > kMaxSearchRunsResults) {
    return InvalidArgument(
        "Invalid value for parameter 'max_results' supplied. It must be at most 50000, but "
        "got value " +
        std::to_string(query.page.max_results));
  }
  for (const auto& id : query.experiment_ids) RETURN_IF_ERROR(ValidateExperimentId(id));
  RETURN_IF_ERROR(EnsureTenant(scope));
  return store_.SearchRuns(scope.tenant, query);
}

Status TrackingService::LogInputs(const RequestScope& scope, std::string_view run_id,
                                  const std::vector<metadata::DatasetInput>& datasets,
                                  const std::vector<metadata::ModelInput>& models) {
  RETURN_IF_ERROR(ValidateRunId(run_id));
  RETURN_IF_ERROR(ValidateDatasetInputs(datasets));
  for (const auto& m : models) RETURN_IF_ERROR(ValidateModelId(m.model_id));
  return store_.LogInputs(scope.tenant, run_id, datasets, models);
}

Status TrackingService::LogOutputs(const RequestScope& scope, std::string_view run_id,
                                   const std::vector<metadata::ModelOutput>& models) {
  RETURN_IF_ERROR(ValidateRunId(run_id));
  for (const auto& m : models) RETURN_IF_ERROR(ValidateModelId(m.model_id));
  return store_.LogOutputs(scope.tenant, run_id, models);
}

StatusOr<metadata::LoggedModel> TrackingService::CreateLoggedModel(
    const RequestScope& scope, CreateLoggedModelRequest request) {
  RETURN_IF_ERROR(ValidateExperimentId(request.experiment_id));
  std::vector<metadata::Metric> no_metrics;
  if (request.params.size() > kMaxParamsPerBatch) {
    return InvalidArgument(
        "A logged model can be created with at most 100 params; log the rest "
        "with LogLoggedModelParams.");
  }
  RETURN_IF_ERROR(ValidateAndTruncateBatch(no_metrics, request.params, request.tags));
  if (!request.source_run_id.empty()) RETURN_IF_ERROR(ValidateRunId(request.source_run_id));
  RETURN_IF_ERROR(EnsureTenant(scope));
  ASSIGN_OR_RETURN(metadata::Experiment experiment,
                   store_.GetExperiment(scope.tenant, request.experiment_id));
  if (experiment.lifecycle_stage != metadata::LifecycleStage::kActive) {
    return InvalidArgument("The experiment " + experiment.experiment_id +
                           " must be in the 'active' state. Current state is deleted.");
  }
  metadata::LoggedModel model;
  model.model_id = "m-" + ids_.Hex32();
  model.experiment_id = experiment.experiment_id;
  model.name = request.name.empty() ? ids_.RunName() : request.name;
  model.creation_timestamp_ms = clock_.NowMillis();
  model.last_updated_timestamp_ms = model.creation_timestamp_ms;
  model.artifact_uri = experiment.artifact_location + "/models/" + model.model_id + "/artifacts";
  model.status = metadata::LoggedModelStatus::kPending;
  model.creator_id = request.creator_id;
  model.model_type = request.model_type;
  model.source_run_id = request.source_run_id;
  model.tags = std::move(request.tags);
  model.params = std::move(request.params);
  return store_.CreateLoggedModel(scope.tenant, model);
}

StatusOr<metadata::LoggedModel> TrackingService::GetLoggedModel(const RequestScope& scope,
                                                                std::string_view model_id,
                                                                bool allow_deleted) {
  RETURN_IF_ERROR(ValidateModelId(model_id));
  return store_.GetLoggedModel(scope.tenant, model_id, allow_deleted);
}

StatusOr<metadata::LoggedModel> TrackingService::FinalizeLoggedModel(
    const RequestScope& scope, std::string_view model_id, metadata::LoggedModelStatus status) {
  RETURN_IF_ERROR(ValidateModelId(model_id));
  if (status != metadata::LoggedModelStatus::kReady &&
      status != metadata::LoggedModelStatus::kUploadFailed) {
    return InvalidArgument(
        "Invalid status: a logged model can only be finalized as LOGGED_MODEL_READY or "
        "LOGGED_MODEL_UPLOAD_FAILED");
  }
  return store_.FinalizeLoggedModel(scope.tenant, model_id, status, clock_.NowMillis());
}

Status TrackingService::DeleteLoggedModel(const RequestScope& scope, std::string_view model_id) {
  RETURN_IF_ERROR(ValidateModelId(model_id));
  return store_.DeleteLoggedModel(scope.tenant, model_id, clock_.NowMillis());
}

Status TrackingService::SetLoggedModelTags(const RequestScope& scope, std::string_view model_id,
                                           std::vector<metadata::Tag> tags) {
  RETURN_IF_ERROR(ValidateModelId(model_id));
  std::vector<metadata::Metric> no_metrics;
  std::vector<metadata::Param> no_params;
  RETURN_IF_ERROR(ValidateAndTruncateBatch(no_metrics, no_params, tags));
  return store_.SetLoggedModelTags(scope.tenant, model_id, tags, clock_.NowMillis());
}

Status TrackingService::DeleteLoggedModelTag(const RequestScope& scope, std::string_view model_id,
                                             std::string_view key) {
  RETURN_IF_ERROR(ValidateModelId(model_id));
  if (key.empty()) return InvalidArgument("Missing value for required parameter 'tag_key'");
  return store_.DeleteLoggedModelTag(scope.tenant, model_id, key, clock_.NowMillis());
}

Status TrackingService::LogLoggedModelParams(const RequestScope& scope, std::string_view model_id,
                                             std::vector<metadata::Param> params) {
  RETURN_IF_ERROR(ValidateModelId(model_id));
  std::vector<metadata::Metric> no_metrics;
  std::vector<metadata::Tag> no_tags;
  RETURN_IF_ERROR(ValidateAndTruncateBatch(no_metrics, params, no_tags));
  return store_.LogLoggedModelParams(scope.tenant, model_id, params, clock_.NowMillis());
}

StatusOr<metadata::ResultPage<metadata::LoggedModel>> TrackingService::SearchLoggedModels(
    const RequestScope& scope, const metadata::SearchLoggedModelsQuery& query) {
  if (query.experiment_ids.empty()) {
    return InvalidArgument("Missing value for required parameter 'experiment_ids'");
  }
  for (const auto& id : query.experiment_ids) RETURN_IF_ERROR(ValidateExperimentId(id));
  if (query.page.max_results < 1 || query.page.max_results > 50000) {
    return InvalidArgument("Invalid value for parameter 'max_results'");
  }
  RETURN_IF_ERROR(EnsureTenant(scope));
  return store_.SearchLoggedModels(scope.tenant, query);
}

}  // namespace cairn::tracking
