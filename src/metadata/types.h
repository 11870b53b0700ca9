#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "filter/filter.h"

// Entities as the metadata stores hold them. Plain values; no behaviour. Every entity belongs to
// one tenant, which every store call takes explicitly.
namespace cairn::metadata {

struct Tag {
  std::string key;
  std::string value;
  bool operator==(const Tag&) const = default;
};

enum class LifecycleStage { kActive, kDeleted };
enum class ViewType { kActiveOnly = 1, kDeletedOnly = 2, kAll = 3 };
enum class RunStatus { kRunning = 1, kScheduled = 2, kFinished = 3, kFailed = 4, kKilled = 5 };

struct Experiment {
  std::string experiment_id;  // decimal string, unique per tenant; "0" is "Default"
  std::string name;
  std::string artifact_location;
  LifecycleStage lifecycle_stage = LifecycleStage::kActive;
  int64_t creation_time = 0;     // ms since epoch
  int64_t last_update_time = 0;  // ms since epoch
  std::vector<Tag> tags;
};

struct RunInfo {
  std::string run_id;  // 32 lower-case hex
  std::string experiment_id;
  std::string run_name;
  std::string user_id;
  RunStatus status = RunStatus::kRunning;
  int64_t start_time = 0;
  std::optional<int64_t> end_time;
  std::string artifact_uri;
  LifecycleStage lifecycle_stage = LifecycleStage::kActive;
};

struct Metric {
  std::string key;
  double value = 0;  // NaN and +-inf are stored faithfully
  int64_t timestamp = 0;
  int64_t step = 0;
  std::string run_id;  // filled on reads that span runs (bulk interval)
  std::optional<std::string> model_id;
  std::optional<std::string> dataset_name;
  std::optional<std::string> dataset_digest;
};

struct Param {
  std::string key;
  std::string value;
};

struct Dataset {
  std::string name;
  std::string digest;
  std::string source_type;
  std::string source;
  std::optional<std::string> schema;
  std::optional<std::string> profile;
};

struct DatasetInput {
  std::vector<Tag> tags;  // e.g. mlflow.data.context = "train"
  Dataset dataset;
};

struct ModelInput {
  std::string model_id;
};

struct ModelOutput {
  std::string model_id;
  int64_t step = 0;
};

struct Run {
  RunInfo info;
  std::vector<Metric> metrics;  // latest value per key: max (step, timestamp, value)
  std::vector<Param> params;
  std::vector<Tag> tags;
  std::vector<DatasetInput> dataset_inputs;
  std::vector<ModelInput> model_inputs;
  std::vector<ModelOutput> model_outputs;
};

enum class LoggedModelStatus { kUnspecified = 0, kPending = 1, kReady = 2, kUploadFailed = 3 };

struct LoggedModel {
  std::string model_id;  // "m-" + 32 hex
  std::string experiment_id;
  std::string name;
  int64_t creation_timestamp_ms = 0;
  int64_t last_updated_timestamp_ms = 0;
  std::string artifact_uri;
  LoggedModelStatus status = LoggedModelStatus::kPending;
  std::string creator_id;
  std::string model_type;
  std::string source_run_id;
  std::string status_message;
  LifecycleStage lifecycle_stage = LifecycleStage::kActive;
  std::vector<Tag> tags;
  std::vector<Param> params;
  std::vector<Metric> metrics;  // metrics logged with this model_id (latest per key/dataset)
};

// A run as another MLflow store holds it, for TrackingStore::ImportRun: everything about it,
// its whole metric history included.
struct RunImport {
  RunInfo info;                         // id, times, status, lifecycle stage kept as given
  std::optional<int64_t> deleted_time;  // ms since epoch, for a deleted run
  std::vector<Tag> tags;
  std::vector<Param> params;
  std::vector<Metric> metric_history;  // every point, in any order; model_id ignored
  std::vector<DatasetInput> dataset_inputs;
  std::vector<ModelInput> model_inputs;
  std::vector<ModelOutput> model_outputs;
};

// Paged search input shared by every search. `offset` is the decoded page token.
struct Page {
  int64_t max_results = 1000;
  int64_t offset = 0;
};

struct SearchExperimentsQuery {
  filter::Filter filter;
  std::vector<filter::OrderBy> order_by;
  ViewType view_type = ViewType::kActiveOnly;
  Page page;
};

struct SearchRunsQuery {
  std::vector<std::string> experiment_ids;
  filter::Filter filter;
  std::vector<filter::OrderBy> order_by;
  ViewType view_type = ViewType::kActiveOnly;
  Page page;
};

struct LoggedModelOrder {
  std::string field_name;  // attribute name or "metrics.<key>"
  bool ascending = true;
  std::optional<std::string> dataset_name;
  std::optional<std::string> dataset_digest;
};

struct SearchLoggedModelsQuery {
  std::vector<std::string> experiment_ids;
  filter::Filter filter;
  // Restricts metric filters and ordering to metrics logged against these datasets.
  std::vector<std::pair<std::string, std::optional<std::string>>> datasets;
  std::vector<LoggedModelOrder> order_by;
  Page page;
};

template <typename T>
struct ResultPage {
  std::vector<T> items;
  bool has_more = false;  // another page exists after this one
};

}  // namespace cairn::metadata
