#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "metadata/sql_filter.h"
#include "metadata/types.h"
#include "sql/sql.h"

// Row readers, lookups and writes shared by SqlTrackingStore's translation units
// (sqlite_experiments.cc, sqlite_runs.cc, sqlite_logged_models.cc) and by the trace store.
// Every function runs on the caller's connection inside the caller's transaction. Internal to
// cairn_metadata_sqlite.
namespace cairn::metadata::sql_store {

using ::cairn::sql::Connection;
using ::cairn::sql::JsonArray;
using ::cairn::sql::Statement;
using ::cairn::sqlite::Transaction;

inline constexpr std::string_view kRunNameTag = "mlflow.runName";
// A search clause matching at least this many child rows counts as broad (see SearchRuns).
inline constexpr int64_t kBroadClauseRows = 1000;
inline constexpr std::string_view kDatasetContextTag = "mlflow.data.context";

// ---- Enum spellings as stored ----

LifecycleStage ParseStage(std::string_view text);

RunStatus ParseRunStatus(std::string_view text);

LoggedModelStatus ParseLoggedModelStatus(std::string_view text);

// Filters may name logged model statuses by their short form ('READY').
std::string NormalizeLoggedModelStatus(std::string_view text);

// ---- Small helpers ----

std::string ViewTypeCondition(ViewType view_type, std::string_view column);

// NaN is stored as value 0 with is_nan = 1 (SQLite binds NaN as NULL).
inline double StoredValue(double value) { return std::isnan(value) ? 0.0 : value; }
inline int64_t StoredIsNan(double value) { return std::isnan(value) ? 1 : 0; }
double LoadedValue(double value, int64_t is_nan);

// Records a run's metric that names a logged model in that model's history and latest values.
Status LogLoggedModelMetric(Connection& db, std::string_view tenant, std::string_view run_id,
                            int64_t experiment_id, const Metric& m);

// ---- Row readers ----

inline constexpr std::string_view kExperimentColumns =
    "e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage, e.creation_time, "
    "e.last_update_time";

Experiment ReadExperiment(const Statement& s);

inline constexpr std::string_view kRunColumns =
    "r.run_uuid, r.experiment_id, r.name, r.user_id, r.status, r.start_time, r.end_time, "
    "r.artifact_uri, r.lifecycle_stage";

RunInfo ReadRunInfo(const Statement& s);

inline constexpr std::string_view kLoggedModelColumns =
    "m.model_id, m.experiment_id, m.name, m.creation_timestamp_ms, "
    "m.last_updated_timestamp_ms, m.artifact_uri, m.status, m.creator_id, m.model_type, "
    "m.source_run_id, m.status_message, m.lifecycle_stage";

LoggedModel ReadLoggedModel(const Statement& s);

// Maps ids to positions in a result vector, for attaching child rows loaded in bulk.
template <typename T, typename IdFn>
std::unordered_map<std::string, size_t> IndexById(const std::vector<T>& items, IdFn id) {
  std::unordered_map<std::string, size_t> index;
  index.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) index.emplace(id(items[i]), i);
  return index;
}

// ---- Experiments ----

// The experiment row without tags, or nullopt.
StatusOr<std::optional<Experiment>> FindExperiment(Connection& db, std::string_view tenant,
                                                   std::string_view experiment_id);

StatusOr<Experiment> RequireExperiment(Connection& db, std::string_view tenant,
                                       std::string_view experiment_id);

StatusOr<Experiment> RequireActiveExperiment(Connection& db, std::string_view tenant,
                                             std::string_view experiment_id);

// The tags' query of experiments `ids`, sent (Statement::Send) so that it can share a round trip
// with the statements that follow; ReadExperimentTags adds its rows to `experiments`.
StatusOr<Statement> SendExperimentTags(Connection& db, std::string_view tenant,
                                       const std::vector<int64_t>& ids);
Status ReadExperimentTags(Statement& s, std::vector<Experiment>& experiments);

Status LoadExperimentTags(Connection& db, std::string_view tenant,
                          std::vector<Experiment>& experiments);

Status UpsertExperimentTag(Connection& db, std::string_view tenant, int64_t experiment_id,
                           const Tag& tag);

// ---- Runs ----

StatusOr<RunInfo> RequireRun(Connection& db, std::string_view tenant, std::string_view run_id);

// The run's experiment id, after checking that the run exists and is active.
StatusOr<int64_t> RequireActiveRun(Connection& db, std::string_view tenant,
                                   std::string_view run_id);

Status UpsertRunTag(Connection& db, std::string_view tenant, std::string_view run_id,
                    std::string_view key, std::string_view value);

Status SetRunName(Connection& db, std::string_view run_id, std::string_view name);

// Loads metrics (latest), params, tags, inputs and outputs of `runs` in one query per kind.
Status LoadRunChildren(Connection& db, std::vector<Run>& runs);

// The runs with the given ids (of one tenant, already checked), in the order of `ids`.
StatusOr<std::vector<Run>> LoadRunsById(Connection& db, const std::vector<std::string>& ids);

StatusOr<Run> LoadRun(Connection& db, std::string_view tenant, std::string_view run_id);

// Inserts params that are not there yet; a key already logged with another value is
// INVALID_ARGUMENT. The statements (insert-if-absent, read existing value) and `owner_label`
// ("run ID", "logged model ID") distinguish runs from logged models.
Status InsertWriteOnceParams(Connection& db, std::string_view tenant, std::string_view owner_id,
                             const std::vector<Param>& params, std::string_view insert_sql,
                             std::string_view select_sql, std::string_view owner_label);

// ---- Logged models ----

StatusOr<LoggedModel> RequireLoggedModel(Connection& db, std::string_view tenant,
                                         std::string_view model_id, bool allow_deleted);

Status LoadLoggedModelChildren(Connection& db, std::vector<LoggedModel>& models);

StatusOr<LoggedModel> LoadLoggedModel(Connection& db, std::string_view tenant,
                                      std::string_view model_id, bool allow_deleted);

Status TouchLoggedModel(Connection& db, std::string_view model_id, int64_t now_ms);

}  // namespace cairn::metadata::sql_store
