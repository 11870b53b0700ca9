#include "api/mlflow/tracking_handlers.h"

#include <algorithm>
#include <exception>
#include <string>
#include <tuple>
#include <utility>

#include "api/mlflow/codec.h"
#include "api/mlflow/request_message.h"
#include "api/mlflow/search_params.h"
#include "artifact/artifact_store.h"
#include "base/json.h"
#include "filter/filter.h"
#include "http/error_response.h"

namespace cairn::api::mlflow {
namespace {

namespace bj = boost::json;
using metadata::Tag;

constexpr int64_t kDefaultSearchRunsMax = 1000;
constexpr int64_t kDefaultSearchExperimentsMax = 1000;
constexpr int64_t kDefaultMetricHistoryMax = 25000;
constexpr int64_t kMaxMetricHistoryPage = 25000;
constexpr int64_t kDefaultLoggedModelsMax = 50;
constexpr std::string_view kLogModelHistoryTag = "mlflow.log-model.history";

// ---- Run batch writes (asynchronous) ----

StatusOr<metadata::RunBatch> LogMetricBatch(const bj::object& msg) {
  metadata::RunBatch batch;
  ASSIGN_OR_RETURN(batch.run_id, RequiredRunId(msg));
  ASSIGN_OR_RETURN(metadata::Metric metric, MetricFromJson(msg));
  batch.metrics.push_back(std::move(metric));
  return batch;
}

StatusOr<metadata::RunBatch> LogParamBatch(const bj::object& msg) {
  metadata::RunBatch batch;
  ASSIGN_OR_RETURN(batch.run_id, RequiredRunId(msg));
  ASSIGN_OR_RETURN(std::string key, RequiredString(msg, "key"));
  ASSIGN_OR_RETURN(std::string value, OptionalString(msg, "value"));
  batch.params.push_back({std::move(key), std::move(value)});
  return batch;
}

StatusOr<metadata::RunBatch> SetTagBatch(const bj::object& msg) {
  metadata::RunBatch batch;
  ASSIGN_OR_RETURN(batch.run_id, RequiredRunId(msg));
  ASSIGN_OR_RETURN(std::string key, RequiredString(msg, "key"));
  ASSIGN_OR_RETURN(std::string value, OptionalString(msg, "value"));
  batch.tags.push_back({std::move(key), std::move(value)});
  return batch;
}

StatusOr<metadata::RunBatch> LogBatchBatch(const bj::object& msg) {
  metadata::RunBatch batch;
  ASSIGN_OR_RETURN(batch.run_id, RequiredRunId(msg));
  ASSIGN_OR_RETURN(batch.metrics, MetricsFromJson(msg, "metrics"));
  ASSIGN_OR_RETURN(batch.params, ParamsFromJson(msg, "params"));
  ASSIGN_OR_RETURN(batch.tags, TagsFromJson(msg, "tags"));
  return batch;
}

}  // namespace

TrackingHandlers::TrackingHandlers(tracking::TrackingService& service, ArtifactLister lister,
                                   ArtifactUriResolver resolver)
    : service_(service), lister_(std::move(lister)), resolver_(std::move(resolver)) {}

void TrackingHandlers::Add(http::Router& router, http::Method method, std::string_view path,
                           Method fn, std::initializer_list<std::string_view> repeated,
                           uint64_t max_body_bytes) {
  std::vector<std::string_view> repeated_copy(repeated);
  auto handler = [this, fn, repeated_copy](http::Request& req) -> http::Response {
    StatusOr<bj::object> msg = ReadMessage(req, repeated_copy);
    if (!msg.ok()) return http::ErrorResponse(msg.status());
    JsonResult result = (this->*fn)(req, *msg);
    if (!result.ok()) return http::ErrorResponse(result.status());
    return http::Response::Json(200, bj::serialize(*result));
  };
  http::RouteOptions options;
  options.max_body_bytes = max_body_bytes;
  options.permission = MlflowRoutePermission(method, path);
  for (std::string_view prefix : {"/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/"}) {
    router.Add(method, std::string(prefix) + std::string(path), handler, options);
  }
}

void TrackingHandlers::AddBatchWrite(http::Router& router, std::string_view path, BatchParser parse,
                                     uint64_t max_body_bytes) {
  auto handler = [this, parse](http::Request& req, http::Responder responder) {
    StatusOr<bj::object> msg = ReadMessage(req, {});
    if (!msg.ok()) return responder.Send(http::ErrorResponse(msg.status()));
    StatusOr<metadata::RunBatch> batch = parse(*msg);
    if (!batch.ok()) return responder.Send(http::ErrorResponse(batch.status()));
    service_.LogBatchAsync(req.scope, std::move(batch).value(), [responder](Status status) {
      responder.Send(status.ok() ? http::Response::Json(200, "{}") : http::ErrorResponse(status));
    });
  };
  http::RouteOptions options;
  options.max_body_bytes = max_body_bytes;
  options.permission = http::Permission::kWrite;
  for (std::string_view prefix : {"/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/"}) {
    router.AddAsync(http::Method::kPost, std::string(prefix) + std::string(path), handler, options);
  }
}

void TrackingHandlers::Register(http::Router& router) {
  using M = http::Method;
  using T = TrackingHandlers;
  Add(router, M::kPost, "experiments/create", &T::CreateExperiment);
  Add(router, M::kGet, "experiments/get", &T::GetExperiment);
  Add(router, M::kGet, "experiments/get-by-name", &T::GetExperimentByName);
  Add(router, M::kPost, "experiments/search", &T::SearchExperiments, {"order_by"});
  Add(router, M::kGet, "experiments/search", &T::SearchExperiments, {"order_by"});
  Add(router, M::kPost, "experiments/delete", &T::DeleteExperiment);
  Add(router, M::kPost, "experiments/restore", &T::RestoreExperiment);
  Add(router, M::kPost, "experiments/update", &T::UpdateExperiment);
  Add(router, M::kPost, "experiments/set-experiment-tag", &T::SetExperimentTag);
  Add(router, M::kPost, "experiments/delete-experiment-tag", &T::DeleteExperimentTag);

  Add(router, M::kPost, "runs/create", &T::CreateRun);
  Add(router, M::kGet, "runs/get", &T::GetRun);
  Add(router, M::kPost, "runs/update", &T::UpdateRun);
  Add(router, M::kPost, "runs/delete", &T::DeleteRun);
  Add(router, M::kPost, "runs/restore", &T::RestoreRun);
  Add(router, M::kPost, "runs/search", &T::SearchRuns, {"experiment_ids", "order_by"});
  AddBatchWrite(router, "runs/log-metric", &LogMetricBatch);
  AddBatchWrite(router, "runs/log-parameter", &LogParamBatch);
  AddBatchWrite(router, "runs/set-tag", &SetTagBatch);
  Add(router, M::kPost, "runs/delete-tag", &T::DeleteTag);
  AddBatchWrite(router, "runs/log-batch", &LogBatchBatch, 8 << 20);
  Add(router, M::kPost, "runs/log-model", &T::LogModel, {}, 8 << 20);
  Add(router, M::kPost, "runs/log-inputs", &T::LogInputs, {}, 64 << 20);
  Add(router, M::kPost, "runs/outputs", &T::LogOutputs);
  Add(router, M::kGet, "metrics/get-history", &T::GetMetricHistory);
  Add(router, M::kGet, "metrics/get-history-bulk-interval", &T::GetMetricHistoryBulkInterval,
      {"run_ids"});
  Add(router, M::kGet, "metrics/get-history-bulk", &T::GetMetricHistoryBulk, {"run_id"});
  Add(router, M::kGet, "artifacts/list", &T::ListArtifacts);

  Add(router, M::kPost, "logged-models", &T::CreateLoggedModel);
  Add(router, M::kPost, "logged-models/search", &T::SearchLoggedModels, {"experiment_ids"});
  Add(router, M::kGet, "logged-models/{model_id}", &T::GetLoggedModel);
  Add(router, M::kPatch, "logged-models/{model_id}", &T::FinalizeLoggedModel);
  Add(router, M::kDelete, "logged-models/{model_id}", &T::DeleteLoggedModel);
  Add(router, M::kPatch, "logged-models/{model_id}/tags", &T::SetLoggedModelTags);
  Add(router, M::kDelete, "logged-models/{model_id}/tags/{tag_key}", &T::DeleteLoggedModelTag);
  Add(router, M::kPost, "logged-models/{model_id}/params", &T::LogLoggedModelParams);
  Add(router, M::kGet, "logged-models/{model_id}/artifacts/directories",
      &T::ListLoggedModelArtifacts);
}

// ---- Experiments ----

TrackingHandlers::JsonResult TrackingHandlers::CreateExperiment(const http::Request& req,
                                                                const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(msg, "name"));
  ASSIGN_OR_RETURN(std::string location, OptionalString(msg, "artifact_location"));
  ASSIGN_OR_RETURN(std::vector<Tag> tags, TagsFromJson(msg, "tags"));
  ASSIGN_OR_RETURN(std::string id, service_.CreateExperiment(req.scope, name, location, tags));
  return bj::object{{"experiment_id", id}};
}

TrackingHandlers::JsonResult TrackingHandlers::GetExperiment(const http::Request& req,
                                                             const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string id, RequiredString(msg, "experiment_id"));
  ASSIGN_OR_RETURN(metadata::Experiment e, service_.GetExperiment(req.scope, id));
  return bj::object{{"experiment", ExperimentToJson(e)}};
}

TrackingHandlers::JsonResult TrackingHandlers::GetExperimentByName(const http::Request& req,
                                                                   const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(msg, "experiment_name"));
  ASSIGN_OR_RETURN(metadata::Experiment e, service_.GetExperimentByName(req.scope, name));
  return bj::object{{"experiment", ExperimentToJson(e)}};
}

TrackingHandlers::JsonResult TrackingHandlers::SearchExperiments(const http::Request& req,
                                                                 const bj::object& msg) {
  metadata::SearchExperimentsQuery q;
  ASSIGN_OR_RETURN(q.page.max_results,
                   OptionalInt(msg, "max_results", kDefaultSearchExperimentsMax));
  ASSIGN_OR_RETURN(std::string token, OptionalString(msg, "page_token"));
  ASSIGN_OR_RETURN(q.page.offset, DecodePageToken(token));
  ASSIGN_OR_RETURN(std::string filter_text, OptionalString(msg, "filter"));
  ASSIGN_OR_RETURN(q.filter, filter::ParseFilter(filter_text, filter::SearchKind::kExperiments));
  ASSIGN_OR_RETURN(q.order_by, ParseOrderByList(msg, filter::SearchKind::kExperiments));
  if (auto it = msg.find("view_type"); it != msg.end() && !it->value().is_null()) {
    ASSIGN_OR_RETURN(q.view_type, ParseViewType(it->value(), "view_type"));
  }
  ASSIGN_OR_RETURN(auto page, service_.SearchExperiments(req.scope, q));
  bj::object out;
  PutList(out, "experiments", page.items, ExperimentToJson);
  AddNextPageToken(out, page, q.page);
  return out;
}

TrackingHandlers::JsonResult TrackingHandlers::DeleteExperiment(const http::Request& req,
                                                                const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string id, RequiredString(msg, "experiment_id"));
  RETURN_IF_ERROR(service_.DeleteExperiment(req.scope, id));
  return bj::object{};
}

TrackingHandlers::JsonResult TrackingHandlers::RestoreExperiment(const http::Request& req,
                                                                 const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string id, RequiredString(msg, "experiment_id"));
  RETURN_IF_ERROR(service_.RestoreExperiment(req.scope, id));
  return bj::object{};
}

TrackingHandlers::JsonResult TrackingHandlers::UpdateExperiment(const http::Request& req,
                                                                const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string id, RequiredString(msg, "experiment_id"));
  ASSIGN_OR_RETURN(std::string name, RequiredString(msg, "new_name"));
  RETURN_IF_ERROR(service_.RenameExperiment(req.scope, id, name));
  return bj::object{};
}

TrackingHandlers::JsonResult TrackingHandlers::SetExperimentTag(const http::Request& req,
                                                                const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string id, RequiredString(msg, "experiment_id"));
  ASSIGN_OR_RETURN(std::string key, RequiredString(msg, "key"));
  ASSIGN_OR_RETURN(std::string value, OptionalString(msg, "value"));
  RETURN_IF_ERROR(service_.SetExperimentTag(req.scope, id, {std::move(key), std::move(value)}));
  return bj::object{};
}

TrackingHandlers::JsonResult TrackingHandlers::DeleteExperimentTag(const http::Request& req,
                                                                   const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string id, RequiredString(msg, "experiment_id"));
  ASSIGN_OR_RETURN(std::string key, RequiredString(msg, "key"));
  RETURN_IF_ERROR(service_.DeleteExperimentTag(req.scope, id, key));
  return bj::object{};
}

// ---- Runs ----

TrackingHandlers::JsonResult TrackingHandlers::CreateRun(const http::Request& req,
                                                         const bj::object& msg) {
  tracking::TrackingService::CreateRunRequest r;
  ASSIGN_OR_RETURN(r.experiment_id, OptionalString(msg, "experiment_id"));
  ASSIGN_OR_RETURN(r.user_id, OptionalString(msg, "user_id"));
  ASSIGN_OR_RETURN(r.run_name, OptionalString(msg, "run_name"));
  ASSIGN_OR_RETURN(r.start_time, json::GetInt64(msg, "start_time"));
  ASSIGN_OR_RETURN(r.tags, TagsFromJson(msg, "tags"));
  ASSIGN_OR_RETURN(metadata::Run run, service_.CreateRun(req.scope, std::move(r)));
  return bj::object{{"run", RunToJson(run)}};
}

TrackingHandlers::JsonResult TrackingHandlers::GetRun(const http::Request& req,
                                                      const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string id, RequiredRunId(msg));
  ASSIGN_OR_RETURN(metadata::Run run, service_.GetRun(req.scope, id));
  return bj::object{{"run", RunToJson(run)}};
}

TrackingHandlers::JsonResult TrackingHandlers::UpdateRun(const http::Request& req,
                                                         const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string id, RequiredRunId(msg));
  std::optional<metadata::RunStatus> status;
  if (auto it = msg.find("status"); it != msg.end() && !it->value().is_null()) {
    ASSIGN_OR_RETURN(status, ParseRunStatus(it->value()));
  }
  ASSIGN_OR_RETURN(std::optional<int64_t> end_time, json::GetInt64(msg, "end_time"));
  ASSIGN_OR_RETURN(std::optional<std::string> run_name, json::GetString(msg, "run_name"));
  ASSIGN_OR_RETURN(metadata::RunInfo info,
                   service_.UpdateRun(req.scope, id, status, end_time, std::move(run_name)));
  return bj::object{{"run_info", RunInfoToJson(info)}};
}

TrackingHandlers::JsonResult TrackingHandlers::DeleteRun(const http::Request& req,
                                                         const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string id, RequiredRunId(msg));
  RETURN_IF_ERROR(service_.DeleteRun(req.scope, id));
  return bj::object{};
}

TrackingHandlers::JsonResult TrackingHandlers::RestoreRun(const http::Request& req,
                                                          const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string id, RequiredRunId(msg));
  RETURN_IF_ERROR(service_.RestoreRun(req.scope, id));
  return bj::object{};
}

TrackingHandlers::JsonResult TrackingHandlers::SearchRuns(const http::Request& req,
                                                          const bj::object& msg) {
  metadata::SearchRunsQuery q;
  ASSIGN_OR_RETURN(q.experiment_ids, StringsFromJson(msg, "experiment_ids"));
  ASSIGN_OR_RETURN(q.page.max_results, OptionalInt(msg, "max_results", kDefaultSearchRunsMax));
  ASSIGN_OR_RETURN(std::string token, OptionalString(msg, "page_token"));
  ASSIGN_OR_RETURN(q.page.offset, DecodePageToken(token));
  ASSIGN_OR_RETURN(std::string filter_text, OptionalString(msg, "filter"));
  ASSIGN_OR_RETURN(q.filter, filter::ParseFilter(filter_text, filter::SearchKind::kRuns));
  ASSIGN_OR_RETURN(q.order_by, ParseOrderByList(msg, filter::SearchKind::kRuns));
  if (auto it = msg.find("run_view_type"); it != msg.end() && !it->value().is_null()) {
    ASSIGN_OR_RETURN(q.view_type, ParseViewType(it->value(), "run_view_type"));
  }
  metadata::Page requested = q.page;
  ASSIGN_OR_RETURN(auto page, service_.SearchRuns(req.scope, q));
  bj::object out;
  PutList(out, "runs", page.items, RunToJson);
  AddNextPageToken(out, page, requested);
  return out;
}

TrackingHandlers::JsonResult TrackingHandlers::DeleteTag(const http::Request& req,
                                                         const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string id, RequiredRunId(msg));
  ASSIGN_OR_RETURN(std::string key, RequiredString(msg, "key"));
  RETURN_IF_ERROR(service_.DeleteRunTag(req.scope, id, key));
  return bj::object{};
}

TrackingHandlers::JsonResult TrackingHandlers::LogModel(const http::Request& req,
                                                        const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string id, RequiredRunId(msg));
  ASSIGN_OR_RETURN(std::string model_json, RequiredString(msg, "model_json"));
  ASSIGN_OR_RETURN(bj::object model, json::ParseObject(model_json));
  for (std::string_view field : {"artifact_path", "flavors", "utc_time_created", "run_id"}) {
    if (model.find(field) == model.end()) {
      return InvalidArgument("Model json is missing mandatory fields: " + std::string(field));
    }
  }
  // The history tag is a JSON list of every model logged to the run.
  ASSIGN_OR_RETURN(metadata::Run run, service_.GetRun(req.scope, id));
  bj::array history;
  for (const auto& t : run.tags) {
    if (t.key != kLogModelHistoryTag) continue;
    boost::system::error_code ec;
    bj::value v = bj::parse(t.value, ec);
    if (!ec && v.is_array()) history = std::move(v.as_array());
  }
  history.push_back(std::move(model));
  RETURN_IF_ERROR(service_.LogBatch(req.scope, id, {}, {},
                                    {{std::string(kLogModelHistoryTag), bj::serialize(history)}}));
  return bj::object{};
}

TrackingHandlers::JsonResult TrackingHandlers::LogInputs(const http::Request& req,
                                                         const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string id, RequiredRunId(msg));
  std::vector<metadata::DatasetInput> datasets;
  ASSIGN_OR_RETURN(const bj::array* arr, json::GetArray(msg, "datasets"));
  if (arr != nullptr) {
    for (const auto& v : *arr) {
      if (!v.is_object()) return InvalidArgument("Invalid value for parameter 'datasets'");
      const auto& o = v.as_object();
      metadata::DatasetInput in;
      ASSIGN_OR_RETURN(in.tags, TagsFromJson(o, "tags"));
      ASSIGN_OR_RETURN(const bj::object* ds, json::GetObject(o, "dataset"));
      if (ds == nullptr) return InvalidArgument("Missing value for required parameter 'dataset'");
      ASSIGN_OR_RETURN(in.dataset.name, RequiredString(*ds, "name"));
      ASSIGN_OR_RETURN(in.dataset.digest, RequiredString(*ds, "digest"));
      ASSIGN_OR_RETURN(in.dataset.source_type, RequiredString(*ds, "source_type"));
      ASSIGN_OR_RETURN(in.dataset.source, RequiredString(*ds, "source"));
      ASSIGN_OR_RETURN(in.dataset.schema, json::GetString(*ds, "schema"));
      ASSIGN_OR_RETURN(in.dataset.profile, json::GetString(*ds, "profile"));
      datasets.push_back(std::move(in));
    }
  }
  std::vector<metadata::ModelInput> models;
  ASSIGN_OR_RETURN(const bj::array* marr, json::GetArray(msg, "models"));
  if (marr != nullptr) {
    for (const auto& v : *marr) {
      if (!v.is_object()) return InvalidArgument("Invalid value for parameter 'models'");
      ASSIGN_OR_RETURN(std::string model_id, RequiredString(v.as_object(), "model_id"));
      models.push_back({std::move(model_id)});
    }
  }
  RETURN_IF_ERROR(service_.LogInputs(req.scope, id, datasets, models));
  return bj::object{};
}

TrackingHandlers::JsonResult TrackingHandlers::LogOutputs(const http::Request& req,
                                                          const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string id, RequiredRunId(msg));
  ASSIGN_OR_RETURN(const bj::array* arr, json::GetArray(msg, "models"));
  if (arr == nullptr) return InvalidArgument("Missing value for required parameter 'models'");
  std::vector<metadata::ModelOutput> models;
  for (const auto& v : *arr) {
    if (!v.is_object()) return InvalidArgument("Invalid value for parameter 'models'");
    const auto& o = v.as_object();
    ASSIGN_OR_RETURN(std::string model_id, RequiredString(o, "model_id"));
    ASSIGN_OR_RETURN(int64_t step, OptionalInt(o, "step", 0));
    models.push_back({std::move(model_id), step});
  }
  RETURN_IF_ERROR(service_.LogOutputs(req.scope, id, models));
  return bj::object{};
}

TrackingHandlers::JsonResult TrackingHandlers::GetMetricHistory(const http::Request& req,
                                                                const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string id, RequiredRunId(msg));
  ASSIGN_OR_RETURN(std::string key, RequiredString(msg, "metric_key"));
  metadata::Page page;
  ASSIGN_OR_RETURN(page.max_results, OptionalInt(msg, "max_results", kDefaultMetricHistoryMax));
  page.max_results = std::min(page.max_results, kMaxMetricHistoryPage);
  ASSIGN_OR_RETURN(std::string token, OptionalString(msg, "page_token"));
  ASSIGN_OR_RETURN(page.offset, DecodePageToken(token));
  ASSIGN_OR_RETURN(auto result, service_.GetMetricHistory(req.scope, id, key, page));
  bj::object out;
  if (!result.items.empty()) {
    bj::array arr;
    arr.reserve(result.items.size());
    for (const auto& m : result.items) {
      bj::object mo = MetricToJson(m);
      mo.erase("run_id");
      arr.push_back(std::move(mo));
    }
    out["metrics"] = std::move(arr);
  }
  AddNextPageToken(out, result, page);
  return out;
}

TrackingHandlers::JsonResult TrackingHandlers::GetMetricHistoryBulkInterval(
    const http::Request& req, const bj::object& msg) {
  ASSIGN_OR_RETURN(std::vector<std::string> run_ids, StringsFromJson(msg, "run_ids"));
  ASSIGN_OR_RETURN(std::string key, RequiredString(msg, "metric_key"));
  ASSIGN_OR_RETURN(std::optional<int64_t> start, json::GetInt64(msg, "start_step"));
  ASSIGN_OR_RETURN(std::optional<int64_t> end, json::GetInt64(msg, "end_step"));
  ASSIGN_OR_RETURN(int64_t max_results, OptionalInt(msg, "max_results", 2500));
  ASSIGN_OR_RETURN(auto metrics, service_.GetMetricHistoryBulkInterval(req.scope, run_ids, key,
                                                                       start, end, max_results));
  bj::array arr;
  arr.reserve(metrics.size());
  for (const auto& m : metrics) arr.push_back(MetricToJson(m));
  return bj::object{{"metrics", std::move(arr)}};
}

TrackingHandlers::JsonResult TrackingHandlers::GetMetricHistoryBulk(const http::Request& req,
                                                                    const bj::object& msg) {
  ASSIGN_OR_RETURN(std::vector<std::string> run_ids, StringsFromJson(msg, "run_id"));
  if (run_ids.empty()) {
    return InvalidArgument("GetMetricHistoryBulk request must specify at least one run_id.");
  }
  if (run_ids.size() > 100) {
    return InvalidArgument(
        "GetMetricHistoryBulk request cannot specify more than 100 run_ids. Received " +
        std::to_string(run_ids.size()) + " run_ids.");
  }
  ASSIGN_OR_RETURN(std::optional<std::string> key, json::GetString(msg, "metric_key"));
  if (!key) return InvalidArgument("GetMetricHistoryBulk request must specify a metric_key.");
  ASSIGN_OR_RETURN(int64_t max_results, OptionalInt(msg, "max_results", 25000));
  const size_t limit = static_cast<size_t>(std::clamp<int64_t>(max_results, 1, 25000));
  // As MLflow's SQL store answers: runs by id, each run's points by timestamp, step and value;
  // runs that do not exist have no points.
  std::sort(run_ids.begin(), run_ids.end());
  run_ids.erase(std::unique(run_ids.begin(), run_ids.end()), run_ids.end());
  bj::array arr;
  for (const auto& id : run_ids) {
    if (arr.size() >= limit) break;
    metadata::Page page{.max_results = static_cast<int64_t>(limit), .offset = 0};
    auto result = service_.GetMetricHistory(req.scope, id, *key, page);
    if (result.status().code() == StatusCode::kNotFound) continue;
    if (!result.ok()) return result.status();
    std::stable_sort(result->items.begin(), result->items.end(), [](const auto& a, const auto& b) {
      return std::tie(a.timestamp, a.step, a.value) < std::tie(b.timestamp, b.step, b.value);
    });
    for (auto& m : result->items) {
      if (arr.size() >= limit) break;
      m.run_id = id;
      arr.push_back(MetricToJson(m));
    }
  }
  return bj::object{{"metrics", std::move(arr)}};
}

TrackingHandlers::JsonResult TrackingHandlers::ListUnder(const http::Request& req,
                                                         const std::string& artifact_uri,
                                                         std::string_view path) {
  ASSIGN_OR_RETURN(std::string root, resolver_(artifact_uri));
  ASSIGN_OR_RETURN(std::string rel, artifact::NormalizeArtifactPath(path));
  std::string full = root;
  if (!rel.empty()) full += "/" + rel;
  ASSIGN_OR_RETURN(std::vector<artifact::FileInfo> files, lister_(req.scope.tenant, full));
  bj::object out;
  out["root_uri"] = artifact_uri;
  if (!files.empty()) {
    bj::array arr;
    for (const auto& f : files) {
      bj::object fo;
      fo["path"] = rel.empty() ? f.path : rel + "/" + f.path;
      fo["is_dir"] = f.is_dir;
      if (f.file_size) fo["file_size"] = *f.file_size;
      arr.push_back(std::move(fo));
    }
    out["files"] = std::move(arr);
  }
  return out;
}

TrackingHandlers::JsonResult TrackingHandlers::ListArtifacts(const http::Request& req,
                                                             const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string id, RequiredRunId(msg));
  ASSIGN_OR_RETURN(std::string path, OptionalString(msg, "path"));
  ASSIGN_OR_RETURN(metadata::Run run, service_.GetRun(req.scope, id));
  return ListUnder(req, run.info.artifact_uri, path);
}

// ---- Logged models ----

TrackingHandlers::JsonResult TrackingHandlers::CreateLoggedModel(const http::Request& req,
                                                                 const bj::object& msg) {
  tracking::TrackingService::CreateLoggedModelRequest r;
  ASSIGN_OR_RETURN(r.experiment_id, RequiredString(msg, "experiment_id"));
  ASSIGN_OR_RETURN(r.name, OptionalString(msg, "name"));
  ASSIGN_OR_RETURN(r.model_type, OptionalString(msg, "model_type"));
  ASSIGN_OR_RETURN(r.source_run_id, OptionalString(msg, "source_run_id"));
  ASSIGN_OR_RETURN(r.params, ParamsFromJson(msg, "params"));
  ASSIGN_OR_RETURN(r.tags, TagsFromJson(msg, "tags"));
  r.creator_id = req.scope.principal;
  ASSIGN_OR_RETURN(metadata::LoggedModel m, service_.CreateLoggedModel(req.scope, std::move(r)));
  return bj::object{{"model", LoggedModelToJson(m)}};
}

TrackingHandlers::JsonResult TrackingHandlers::GetLoggedModel(const http::Request& req,
                                                              const bj::object& msg) {
  ASSIGN_OR_RETURN(std::optional<bool> allow_deleted, json::GetBool(msg, "allow_deleted"));
  ASSIGN_OR_RETURN(
      metadata::LoggedModel m,
      service_.GetLoggedModel(req.scope, req.PathParam("model_id"), allow_deleted.value_or(false)));
  return bj::object{{"model", LoggedModelToJson(m)}};
}

TrackingHandlers::JsonResult TrackingHandlers::FinalizeLoggedModel(const http::Request& req,
                                                                   const bj::object& msg) {
  auto it = msg.find("status");
  if (it == msg.end() || it->value().is_null()) {
    return InvalidArgument("Missing value for required parameter 'status'");
  }
  ASSIGN_OR_RETURN(metadata::LoggedModelStatus status, ParseLoggedModelStatus(it->value()));
  ASSIGN_OR_RETURN(metadata::LoggedModel m,
                   service_.FinalizeLoggedModel(req.scope, req.PathParam("model_id"), status));
  return bj::object{{"model", LoggedModelToJson(m)}};
}

TrackingHandlers::JsonResult TrackingHandlers::DeleteLoggedModel(const http::Request& req,
                                                                 const bj::object& /*msg*/) {
  RETURN_IF_ERROR(service_.DeleteLoggedModel(req.scope, req.PathParam("model_id")));
  return bj::object{};
}

TrackingHandlers::JsonResult TrackingHandlers::SetLoggedModelTags(const http::Request& req,
                                                                  const bj::object& msg) {
  ASSIGN_OR_RETURN(std::vector<Tag> tags, TagsFromJson(msg, "tags"));
  RETURN_IF_ERROR(
      service_.SetLoggedModelTags(req.scope, req.PathParam("model_id"), std::move(tags)));
  ASSIGN_OR_RETURN(metadata::LoggedModel m,
                   service_.GetLoggedModel(req.scope, req.PathParam("model_id"), false));
  return bj::object{{"model", LoggedModelToJson(m)}};
}

TrackingHandlers::JsonResult TrackingHandlers::DeleteLoggedModelTag(const http::Request& req,
                                                                    const bj::object& /*msg*/) {
  RETURN_IF_ERROR(service_.DeleteLoggedModelTag(req.scope, req.PathParam("model_id"),
                                                req.PathParam("tag_key")));
  return bj::object{};
}

TrackingHandlers::JsonResult TrackingHandlers::LogLoggedModelParams(const http::Request& req,
                                                                    const bj::object& msg) {
  ASSIGN_OR_RETURN(std::vector<metadata::Param> params, ParamsFromJson(msg, "params"));
  RETURN_IF_ERROR(
      service_.LogLoggedModelParams(req.scope, req.PathParam("model_id"), std::move(params)));
  return bj::object{};
}

TrackingHandlers::JsonResult TrackingHandlers::SearchLoggedModels(const http::Request& req,
                                                                  const bj::object& msg) {
  metadata::SearchLoggedModelsQuery q;
  ASSIGN_OR_RETURN(q.experiment_ids, StringsFromJson(msg, "experiment_ids"));
  ASSIGN_OR_RETURN(q.page.max_results, OptionalInt(msg, "max_results", kDefaultLoggedModelsMax));
  ASSIGN_OR_RETURN(std::string token, OptionalString(msg, "page_token"));
  ASSIGN_OR_RETURN(q.page.offset, DecodePageToken(token));
  ASSIGN_OR_RETURN(std::string filter_text, OptionalString(msg, "filter"));
  ASSIGN_OR_RETURN(q.filter, filter::ParseFilter(filter_text, filter::SearchKind::kLoggedModels));
  ASSIGN_OR_RETURN(const bj::array* datasets, json::GetArray(msg, "datasets"));
  if (datasets != nullptr) {
    for (const auto& v : *datasets) {
      if (!v.is_object()) return InvalidArgument("Invalid value for parameter 'datasets'");
      ASSIGN_OR_RETURN(std::optional<std::string> name,
                       json::GetString(v.as_object(), "dataset_name"));
      if (!name || name->empty()) {
        return InvalidArgument("`dataset_name` in the `datasets` clause must be specified.");
      }
      ASSIGN_OR_RETURN(std::optional<std::string> digest,
                       json::GetString(v.as_object(), "dataset_digest"));
      q.datasets.emplace_back(std::move(*name), std::move(digest));
    }
  }
  ASSIGN_OR_RETURN(const bj::array* order, json::GetArray(msg, "order_by"));
  if (order != nullptr) {
    for (const auto& v : *order) {
      if (!v.is_object()) return InvalidArgument("Invalid value for parameter 'order_by'");
      const auto& o = v.as_object();
      metadata::LoggedModelOrder ob;
      ASSIGN_OR_RETURN(ob.field_name, RequiredString(o, "field_name"));
      ASSIGN_OR_RETURN(std::optional<bool> asc, json::GetBool(o, "ascending"));
      ob.ascending = asc.value_or(true);
      ASSIGN_OR_RETURN(ob.dataset_name, json::GetString(o, "dataset_name"));
      ASSIGN_OR_RETURN(ob.dataset_digest, json::GetString(o, "dataset_digest"));
      q.order_by.push_back(std::move(ob));
    }
  }
  metadata::Page requested = q.page;
  ASSIGN_OR_RETURN(auto page, service_.SearchLoggedModels(req.scope, q));
  bj::object out;
  PutList(out, "models", page.items, LoggedModelToJson);
  AddNextPageToken(out, page, requested);
  return out;
}

TrackingHandlers::JsonResult TrackingHandlers::ListLoggedModelArtifacts(const http::Request& req,
                                                                        const bj::object& msg) {
  ASSIGN_OR_RETURN(metadata::LoggedModel m,
                   service_.GetLoggedModel(req.scope, req.PathParam("model_id"), false));
  ASSIGN_OR_RETURN(std::string path, OptionalString(msg, "artifact_directory_path"));
  return ListUnder(req, m.artifact_uri, path);
}

}  // namespace cairn::api::mlflow
