#include "metadata/sqlite/sqlite_metadata_store.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>
#include <unordered_map>

#include "metadata/migrations/migration.h"
#include "metadata/names.h"
#include "metadata/sqlite/sqlite_db.h"
#include "metadata/sqlite/sqlite_metric_history.h"
#include "metadata/sqlite/sqlite_migrator.h"
#include "metadata/sqlite/sqlite_rows.h"
#include "metadata/sqlite/sqlite_search.h"

namespace cairn::metadata {
namespace {

using sqlite::Connection;
using sqlite::JsonArray;
using sqlite::KeyValueTable;
using sqlite::OrdersBy;
using sqlite::RunPagedQuery;
using sqlite::Statement;
using sqlite::Transaction;

constexpr std::string_view kRunNameTag = "mlflow.runName";
// A search clause matching at least this many child rows counts as broad (see SearchRuns).
constexpr int64_t kBroadClauseRows = 1000;
constexpr std::string_view kDatasetContextTag = "mlflow.data.context";

// ---- Enum spellings as stored ----

LifecycleStage ParseStage(std::string_view text) {
  return text == "deleted" ? LifecycleStage::kDeleted : LifecycleStage::kActive;
}

RunStatus ParseRunStatus(std::string_view text) {
  return RunStatusFromName(text).value_or(RunStatus::kRunning);
}

LoggedModelStatus ParseLoggedModelStatus(std::string_view text) {
  return LoggedModelStatusFromName(text).value_or(LoggedModelStatus::kUnspecified);
}

// Filters may name logged model statuses by their short form ('READY').
std::string NormalizeLoggedModelStatus(std::string_view text) {
  if (text == "PENDING" || text == "READY" || text == "UPLOAD_FAILED") {
    return "LOGGED_MODEL_" + std::string(text);
  }
  return std::string(text);
}

// ---- Small helpers ----

// Experiment ids are decimal strings of non-negative integers.
std::optional<int64_t> ParseExperimentId(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

std::string JoinUri(std::string_view root, std::string_view leaf) {
  std::string out(root);
  if (!out.empty() && out.back() != '/') out += '/';
  out += leaf;
  return out;
}

std::string ViewTypeCondition(ViewType view_type, std::string_view column) {
  std::string sql(column);
  switch (view_type) {
    case ViewType::kActiveOnly:
      return sql + " = 'active'";
    case ViewType::kDeletedOnly:
      return sql + " = 'deleted'";
    case ViewType::kAll:
      break;
  }
  return sql + " IN ('active', 'deleted')";
}

Status ExperimentNotFound(std::string_view id) {
  return NotFound("No Experiment with id=" + std::string(id) + " exists");
}
Status ExperimentNotActive(std::string_view id) {
  return InvalidArgument("The experiment " + std::string(id) +
                         " must be in the 'active' state. Current state is deleted.");
}
Status RunNotFound(std::string_view id) {
  return NotFound("Run with id=" + std::string(id) + " not found");
}
Status RunNotActive(std::string_view id) {
  return InvalidArgument("The run " + std::string(id) +
                         " must be in the 'active' state. Current state is deleted.");
}
Status LoggedModelNotFound(std::string_view id) {
  return NotFound("Logged model with ID '" + std::string(id) + "' not found.");
}

// NaN is stored as value 0 with is_nan = 1 (SQLite binds NaN as NULL).
double StoredValue(double value) { return std::isnan(value) ? 0.0 : value; }
int64_t StoredIsNan(double value) { return std::isnan(value) ? 1 : 0; }
double LoadedValue(double value, int64_t is_nan) {
  return is_nan != 0 ? std::numeric_limits<double>::quiet_NaN() : value;
}

// The order that decides the latest metric: step, then timestamp, then a non-NaN value beats
// NaN, then the larger value.
auto LatestKey(const Metric& m) {
  bool nan = std::isnan(m.value);
  return std::make_tuple(m.step, m.timestamp, nan ? 0 : 1, nan ? 0.0 : m.value);
}

// Records a run's metric that names a logged model in that model's history and latest values.
Status LogLoggedModelMetric(Connection& db, std::string_view tenant, std::string_view run_id,
                            int64_t experiment_id, const Metric& m) {
  std::string dataset_name = m.dataset_name.value_or("");
  std::string dataset_digest = m.dataset_digest.value_or("");
  ASSIGN_OR_RETURN(
      Statement history,
      db.Prepare("INSERT OR IGNORE INTO logged_model_metrics (model_id, key, dataset_name, "
                 "dataset_digest, timestamp, step, value, is_nan, run_uuid, experiment_id, "
                 "tenant_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  RETURN_IF_ERROR(history
                      .Bind(*m.model_id, m.key, dataset_name, dataset_digest, m.timestamp, m.step,
                            StoredValue(m.value), StoredIsNan(m.value), run_id, experiment_id,
                            tenant)
                      .Run());
  ASSIGN_OR_RETURN(
      Statement latest,
      db.Prepare("INSERT INTO logged_model_latest_metrics (model_id, key, dataset_name, "
                 "dataset_digest, value, timestamp, step, is_nan, run_uuid, tenant_id) VALUES "
                 "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (model_id, key, dataset_name, "
                 "dataset_digest) DO UPDATE SET value = excluded.value, timestamp = "
                 "excluded.timestamp, step = excluded.step, is_nan = excluded.is_nan, run_uuid "
                 "= excluded.run_uuid WHERE (excluded.step, excluded.timestamp, 1 - "
                 "excluded.is_nan, excluded.value) > (logged_model_latest_metrics.step, "
                 "logged_model_latest_metrics.timestamp, 1 - logged_model_latest_metrics.is_nan, "
                 "logged_model_latest_metrics.value)"));
  return latest
      .Bind(*m.model_id, m.key, dataset_name, dataset_digest, StoredValue(m.value), m.timestamp,
            m.step, StoredIsNan(m.value), run_id, tenant)
      .Run();
}

// Rejects a batch that gives one key two different values; returns the distinct params.
StatusOr<std::vector<const Param*>> DistinctParams(const std::vector<Param>& params) {
  std::vector<const Param*> distinct;
  std::unordered_map<std::string_view, const Param*> by_key;
  std::vector<std::string> conflicting;
  for (const Param& param : params) {
    auto [it, inserted] = by_key.emplace(param.key, &param);
    if (inserted) {
      distinct.push_back(&param);
    } else if (it->second->value != param.value) {
      conflicting.push_back(param.key);
    }
  }
  if (!conflicting.empty()) {
    std::string keys;
    for (const std::string& key : conflicting) {
      if (!keys.empty()) keys += ", ";
      keys += "'" + key + "'";
    }
    return InvalidArgument("Duplicate parameter keys have been submitted: [" + keys +
                           "]. Please ensure the request contains only one param value per "
                           "param key.");
  }
  return distinct;
}

// ---- Row readers ----

constexpr std::string_view kExperimentColumns =
    "e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage, e.creation_time, "
    "e.last_update_time";

Experiment ReadExperiment(const Statement& s) {
  Experiment e;
  e.experiment_id = std::to_string(s.Int(0));
  e.name = s.Text(1);
  e.artifact_location = s.Text(2);
  e.lifecycle_stage = ParseStage(s.TextView(3));
  e.creation_time = s.Int(4);
  e.last_update_time = s.Int(5);
  return e;
}

constexpr std::string_view kRunColumns =
    "r.run_uuid, r.experiment_id, r.name, r.user_id, r.status, r.start_time, r.end_time, "
    "r.artifact_uri, r.lifecycle_stage";

RunInfo ReadRunInfo(const Statement& s) {
  RunInfo info;
  info.run_id = s.Text(0);
  info.experiment_id = std::to_string(s.Int(1));
  info.run_name = s.Text(2);
  info.user_id = s.Text(3);
  info.status = ParseRunStatus(s.TextView(4));
  info.start_time = s.Int(5);
  info.end_time = s.OptionalInt(6);
  info.artifact_uri = s.Text(7);
  info.lifecycle_stage = ParseStage(s.TextView(8));
  return info;
}

constexpr std::string_view kLoggedModelColumns =
    "m.model_id, m.experiment_id, m.name, m.creation_timestamp_ms, "
    "m.last_updated_timestamp_ms, m.artifact_uri, m.status, m.creator_id, m.model_type, "
    "m.source_run_id, m.status_message, m.lifecycle_stage";

LoggedModel ReadLoggedModel(const Statement& s) {
  LoggedModel m;
  m.model_id = s.Text(0);
  m.experiment_id = std::to_string(s.Int(1));
  m.name = s.Text(2);
  m.creation_timestamp_ms = s.Int(3);
  m.last_updated_timestamp_ms = s.Int(4);
  m.artifact_uri = s.Text(5);
  m.status = ParseLoggedModelStatus(s.TextView(6));
  m.creator_id = s.Text(7);
  m.model_type = s.Text(8);
  m.source_run_id = s.Text(9);
  m.status_message = s.Text(10);
  m.lifecycle_stage = ParseStage(s.TextView(11));
  return m;
}

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
                                                   std::string_view experiment_id) {
  std::optional<int64_t> id = ParseExperimentId(experiment_id);
  if (!id) return std::optional<Experiment>();
  ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT " + std::string(kExperimentColumns) +
                                           " FROM experiments e WHERE e.tenant_id = ? AND "
                                           "e.experiment_id = ?"));
  s.Bind(tenant, *id);
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<Experiment>();
  return std::optional<Experiment>(ReadExperiment(s));
}

StatusOr<Experiment> RequireExperiment(Connection& db, std::string_view tenant,
                                       std::string_view experiment_id) {
  ASSIGN_OR_RETURN(std::optional<Experiment> e, FindExperiment(db, tenant, experiment_id));
  if (!e) return ExperimentNotFound(experiment_id);
  return std::move(*e);
}

StatusOr<Experiment> RequireActiveExperiment(Connection& db, std::string_view tenant,
                                             std::string_view experiment_id) {
  ASSIGN_OR_RETURN(Experiment e, RequireExperiment(db, tenant, experiment_id));
  if (e.lifecycle_stage != LifecycleStage::kActive) return ExperimentNotActive(experiment_id);
  return e;
}

Status LoadExperimentTags(Connection& db, std::string_view tenant,
                          std::vector<Experiment>& experiments) {
  if (experiments.empty()) return Status::Ok();
  std::vector<int64_t> ids;
  ids.reserve(experiments.size());
  for (const Experiment& e : experiments) ids.push_back(*ParseExperimentId(e.experiment_id));
  auto index = IndexById(experiments, [](const Experiment& e) { return e.experiment_id; });
  ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT experiment_id, key, value FROM experiment_tags "
                                           "WHERE tenant_id = ? AND experiment_id IN (SELECT "
                                           "value FROM json_each(?)) ORDER BY experiment_id, key"));
  s.Bind(tenant, JsonArray(ids));
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    auto it = index.find(std::to_string(s.Int(0)));
    if (it != index.end()) experiments[it->second].tags.push_back({s.Text(1), s.Text(2)});
  }
  return Status::Ok();
}

Status UpsertExperimentTag(Connection& db, std::string_view tenant, int64_t experiment_id,
                           const Tag& tag) {
  ASSIGN_OR_RETURN(Statement s,
                   db.Prepare("INSERT INTO experiment_tags (tenant_id, experiment_id, key, value) "
                              "VALUES (?, ?, ?, ?) ON CONFLICT (tenant_id, experiment_id, key) DO "
                              "UPDATE SET value = excluded.value"));
  return s.Bind(tenant, experiment_id, tag.key, tag.value).Run();
}

// ---- Runs ----

StatusOr<RunInfo> RequireRun(Connection& db, std::string_view tenant, std::string_view run_id) {
  ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT " + std::string(kRunColumns) +
                                           " FROM runs r WHERE r.run_uuid = ? AND "
                                           "r.tenant_id = ?"));
  s.Bind(run_id, tenant);
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return RunNotFound(run_id);
  return ReadRunInfo(s);
}

// The run's experiment id, after checking that the run exists and is active.
StatusOr<int64_t> RequireActiveRun(Connection& db, std::string_view tenant,
                                   std::string_view run_id) {
  ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT lifecycle_stage, experiment_id FROM runs "
                                           "WHERE run_uuid = ? AND tenant_id = ?"));
  s.Bind(run_id, tenant);
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return RunNotFound(run_id);
  if (s.TextView(0) != "active") return RunNotActive(run_id);
  return s.Int(1);
}

Status UpsertRunTag(Connection& db, std::string_view tenant, std::string_view run_id,
                    std::string_view key, std::string_view value) {
  ASSIGN_OR_RETURN(Statement s, db.Prepare("INSERT INTO run_tags (run_uuid, key, value, tenant_id) "
                                           "VALUES (?, ?, ?, ?) ON CONFLICT (run_uuid, key) DO "
                                           "UPDATE SET value = excluded.value"));
  return s.Bind(run_id, key, value, tenant).Run();
}

Status SetRunName(Connection& db, std::string_view run_id, std::string_view name) {
  ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE runs SET name = ? WHERE run_uuid = ?"));
  return s.Bind(name, run_id).Run();
}

// Loads metrics (latest), params, tags, inputs and outputs of `runs` in one query per kind.
Status LoadRunChildren(Connection& db, std::vector<Run>& runs) {
  if (runs.empty()) return Status::Ok();
  std::vector<std::string> ids;
  ids.reserve(runs.size());
  for (const Run& run : runs) ids.push_back(run.info.run_id);
  std::string json = JsonArray(ids);
  auto index = IndexById(runs, [](const Run& r) { return r.info.run_id; });
  auto for_each_row = [&](std::string_view sql, auto&& fn) -> Status {
    ASSIGN_OR_RETURN(Statement s, db.Prepare(sql));
    s.Bind(json);
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) return Status::Ok();
      auto it = index.find(std::string(s.TextView(0)));
      if (it != index.end()) fn(runs[it->second], s);
    }
  };
  RETURN_IF_ERROR(for_each_row(
      "SELECT run_uuid, key, value, timestamp, step, is_nan FROM latest_metrics WHERE run_uuid "
      "IN (SELECT value FROM json_each(?)) ORDER BY run_uuid, key",
      [](Run& run, const Statement& s) {
        Metric m;
        m.key = s.Text(1);
        m.value = LoadedValue(s.Double(2), s.Int(5));
        m.timestamp = s.Int(3);
        m.step = s.Int(4);
        m.run_id = run.info.run_id;
        run.metrics.push_back(std::move(m));
      }));
  RETURN_IF_ERROR(
      for_each_row("SELECT run_uuid, key, value FROM params WHERE run_uuid IN (SELECT value FROM "
                   "json_each(?)) ORDER BY run_uuid, key",
                   [](Run& run, const Statement& s) {
                     run.params.push_back({s.Text(1), s.Text(2)});
                   }));
  RETURN_IF_ERROR(
      for_each_row("SELECT run_uuid, key, value FROM run_tags WHERE run_uuid IN (SELECT value FROM "
                   "json_each(?)) ORDER BY run_uuid, key",
                   [](Run& run, const Statement& s) {
                     run.tags.push_back({s.Text(1), s.Text(2)});
                   }));

  // Dataset inputs, then their tags, matched by input id.
  std::unordered_map<int64_t, std::pair<size_t, size_t>> inputs;  // input id -> (run, position)
  RETURN_IF_ERROR(for_each_row(
      "SELECT i.run_uuid, i.input_id, d.name, d.digest, d.source_type, d.source, d.schema, "
      "d.profile FROM inputs i JOIN datasets d ON d.dataset_id = i.dataset_id WHERE i.run_uuid "
      "IN (SELECT value FROM json_each(?)) ORDER BY i.run_uuid, i.input_id",
      [&](Run& run, const Statement& s) {
        DatasetInput input;
        input.dataset.name = s.Text(2);
        input.dataset.digest = s.Text(3);
        input.dataset.source_type = s.Text(4);
        input.dataset.source = s.Text(5);
        input.dataset.schema = s.OptionalText(6);
        input.dataset.profile = s.OptionalText(7);
        inputs[s.Int(1)] = {static_cast<size_t>(&run - runs.data()), run.dataset_inputs.size()};
        run.dataset_inputs.push_back(std::move(input));
      }));
  if (!inputs.empty()) {
    RETURN_IF_ERROR(for_each_row(
        "SELECT i.run_uuid, t.input_id, t.name, t.value FROM inputs i JOIN input_tags t ON "
        "t.input_id = i.input_id WHERE i.run_uuid IN (SELECT value FROM json_each(?)) ORDER BY "
        "t.input_id, t.name",
        [&](Run& run, const Statement& s) {
          auto it = inputs.find(s.Int(1));
          if (it == inputs.end()) return;
          run.dataset_inputs[it->second.second].tags.push_back({s.Text(2), s.Text(3)});
        }));
  }
  RETURN_IF_ERROR(for_each_row(
      "SELECT run_uuid, model_id FROM run_model_inputs WHERE run_uuid IN (SELECT value FROM "
      "json_each(?)) ORDER BY run_uuid, model_id",
      [](Run& run, const Statement& s) { run.model_inputs.push_back({s.Text(1)}); }));
  RETURN_IF_ERROR(for_each_row(
      "SELECT run_uuid, model_id, step FROM run_outputs WHERE run_uuid IN (SELECT value FROM "
      "json_each(?)) ORDER BY run_uuid, step, model_id",
      [](Run& run, const Statement& s) {
        run.model_outputs.push_back({s.Text(1), s.Int(2)});
      }));
  return Status::Ok();
}

// The runs with the given ids (of one tenant, already checked), in the order of `ids`.
StatusOr<std::vector<Run>> LoadRunsById(Connection& db, const std::vector<std::string>& ids) {
  std::vector<Run> runs;
  if (ids.empty()) return runs;
  runs.reserve(ids.size());
  ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT " + std::string(kRunColumns) +
                                           " FROM json_each(?) j CROSS JOIN runs r ON "
                                           "r.run_uuid = j.value ORDER BY j.key"));
  s.Bind(JsonArray(ids));
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    runs.emplace_back().info = ReadRunInfo(s);
  }
  return runs;
}

StatusOr<Run> LoadRun(Connection& db, std::string_view tenant, std::string_view run_id) {
  std::vector<Run> runs(1);
  ASSIGN_OR_RETURN(runs[0].info, RequireRun(db, tenant, run_id));
  RETURN_IF_ERROR(LoadRunChildren(db, runs));
  return std::move(runs[0]);
}

// Inserts params that are not there yet; a key already logged with another value is
// INVALID_ARGUMENT. The statements (insert-if-absent, read existing value) and `owner_label`
// ("run ID", "logged model ID") distinguish runs from logged models.
Status InsertWriteOnceParams(Connection& db, std::string_view tenant, std::string_view owner_id,
                             const std::vector<Param>& params, std::string_view insert_sql,
                             std::string_view select_sql, std::string_view owner_label) {
  ASSIGN_OR_RETURN(std::vector<const Param*> distinct, DistinctParams(params));
  for (const Param* param : distinct) {
    {
      ASSIGN_OR_RETURN(Statement insert, db.Prepare(insert_sql));
      RETURN_IF_ERROR(insert.Bind(owner_id, param->key, param->value, tenant).Run());
    }
    if (db.Changes() > 0) continue;
    ASSIGN_OR_RETURN(Statement existing, db.Prepare(select_sql));
    existing.Bind(owner_id, param->key);
    ASSIGN_OR_RETURN(bool row, existing.Step());
    if (!row) return Internal("param vanished during insert");
    if (existing.TextView(0) != param->value) {
      return InvalidArgument("Changing param values is not allowed. Param with key='" + param->key +
                             "' was already logged with value='" + existing.Text(0) + "' for " +
                             std::string(owner_label) + "='" + std::string(owner_id) +
                             "'. Attempted logging new value '" + param->value + "'.");
    }
  }
  return Status::Ok();
}

// ---- Logged models ----

StatusOr<LoggedModel> RequireLoggedModel(Connection& db, std::string_view tenant,
                                         std::string_view model_id, bool allow_deleted) {
  ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT " + std::string(kLoggedModelColumns) +
                                           " FROM logged_models m WHERE m.model_id = ? AND "
                                           "m.tenant_id = ?"));
  s.Bind(model_id, tenant);
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return LoggedModelNotFound(model_id);
  LoggedModel model = ReadLoggedModel(s);
  if (!allow_deleted && model.lifecycle_stage != LifecycleStage::kActive) {
    return LoggedModelNotFound(model_id);
  }
  return model;
}

Status LoadLoggedModelChildren(Connection& db, std::vector<LoggedModel>& models) {
  if (models.empty()) return Status::Ok();
  std::vector<std::string> ids;
  ids.reserve(models.size());
  for (const LoggedModel& m : models) ids.push_back(m.model_id);
  std::string json = JsonArray(ids);
  auto index = IndexById(models, [](const LoggedModel& m) { return m.model_id; });
  auto for_each_row = [&](std::string_view sql, auto&& fn) -> Status {
    ASSIGN_OR_RETURN(Statement s, db.Prepare(sql));
    s.Bind(json);
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) return Status::Ok();
      auto it = index.find(std::string(s.TextView(0)));
      if (it != index.end()) fn(models[it->second], s);
    }
  };
  RETURN_IF_ERROR(for_each_row(
      "SELECT model_id, key, value FROM logged_model_tags WHERE model_id IN (SELECT value FROM "
      "json_each(?)) ORDER BY model_id, key",
      [](LoggedModel& m, const Statement& s) {
        m.tags.push_back({s.Text(1), s.Text(2)});
      }));
  RETURN_IF_ERROR(for_each_row(
      "SELECT model_id, key, value FROM logged_model_params WHERE model_id IN (SELECT value "
      "FROM json_each(?)) ORDER BY model_id, key",
      [](LoggedModel& m, const Statement& s) {
        m.params.push_back({s.Text(1), s.Text(2)});
      }));
  RETURN_IF_ERROR(for_each_row(
      "SELECT model_id, key, value, is_nan, timestamp, step, run_uuid, dataset_name, "
      "dataset_digest FROM logged_model_latest_metrics WHERE model_id IN (SELECT value FROM "
      "json_each(?)) ORDER BY model_id, key, dataset_name, dataset_digest",
      [](LoggedModel& m, const Statement& s) {
        Metric metric;
        metric.key = s.Text(1);
        metric.value = LoadedValue(s.Double(2), s.Int(3));
        metric.timestamp = s.Int(4);
        metric.step = s.Int(5);
        metric.run_id = s.Text(6);
        metric.model_id = m.model_id;
        if (!s.TextView(7).empty()) metric.dataset_name = s.Text(7);
        if (!s.TextView(8).empty()) metric.dataset_digest = s.Text(8);
        m.metrics.push_back(std::move(metric));
      }));
  return Status::Ok();
}

StatusOr<LoggedModel> LoadLoggedModel(Connection& db, std::string_view tenant,
                                      std::string_view model_id, bool allow_deleted) {
  std::vector<LoggedModel> models(1);
  ASSIGN_OR_RETURN(models[0], RequireLoggedModel(db, tenant, model_id, allow_deleted));
  RETURN_IF_ERROR(LoadLoggedModelChildren(db, models));
  return std::move(models[0]);
}

Status TouchLoggedModel(Connection& db, std::string_view model_id, int64_t now_ms) {
  ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE logged_models SET last_updated_timestamp_ms = "
                                           "? WHERE model_id = ?"));
  return s.Bind(now_ms, model_id).Run();
}

// ---- Search helpers ----

SqlDialect MakeSqliteDialect() {
  SqlDialect dialect;
  dialect.like = [](std::string_view lhs, std::string_view pattern, bool case_insensitive) {
    std::string sql = "cairn_like(";
    sql += lhs;
    sql += ", ";
    sql += pattern;
    sql += case_insensitive ? ", 1)" : ", 0)";
    return sql;
  };
  return dialect;
}

}  // namespace

namespace sqlite {

std::optional<int64_t> ExperimentIdFromText(std::string_view text) {
  return ParseExperimentId(text);
}

StatusOr<Experiment> ActiveExperiment(Connection& db, std::string_view tenant,
                                      std::string_view experiment_id) {
  return RequireActiveExperiment(db, tenant, experiment_id);
}

}  // namespace sqlite

// ---- Lifecycle ----

SqliteMetadataStore::SqliteMetadataStore(std::string path, SqliteOptions options)
    : path_(std::move(path)), options_(options), dialect_(MakeSqliteDialect()) {}

SqliteMetadataStore::~SqliteMetadataStore() {
  if (checkpoint_thread_.joinable()) {
    {
      MutexLock lock(checkpoint_mu_);
      stopping_ = true;
    }
    checkpoint_cv_.notify_all();
    checkpoint_thread_.join();
  }
  // Readers first: the writer, closed last, then checkpoints the WAL into the database file.
  idle_readers_.clear();
  checkpointer_.reset();
  if (writer_ != nullptr) {
    writer_->SetWalHook([](int) {});
    // Refreshes the query planner's statistics where SQLite thinks they are stale; cheap.
    writer_->Exec("PRAGMA analysis_limit=400; PRAGMA optimize").IgnoreError();
    writer_.reset();
  }
}

StatusOr<std::unique_ptr<SqliteMetadataStore>> SqliteMetadataStore::Open(const std::string& path,
                                                                         SqliteOptions options) {
  std::unique_ptr<SqliteMetadataStore> store(new SqliteMetadataStore(path, options));
  RETURN_IF_ERROR(store->Init());
  return store;
}

Status SqliteMetadataStore::Init() {
  bool in_memory = path_ == ":memory:" || path_.empty();
  sqlite::ConnectionOptions connection_options;
  connection_options.busy_timeout = options_.busy_timeout;
  connection_options.synchronous_full = options_.synchronous_full;
  bool background_checkpoints = !in_memory && options_.checkpoint_frames > 0;
  connection_options.wal_autocheckpoint = !background_checkpoints;
  // No other thread can see the store yet; the locks only satisfy the annotations.
  MutexLock write_lock(write_mu_);
  ASSIGN_OR_RETURN(writer_, Connection::Open(path_, connection_options));
  RETURN_IF_ERROR(sqlite::Migrate(*writer_, migrations::SqliteMigrations()));
  // A private in-memory database exists only on the writer connection.
  reads_on_writer_ = in_memory || options_.reader_connections <= 0;
  if (in_memory) return Status::Ok();

  sqlite::ConnectionOptions reader_options = connection_options;
  reader_options.read_only = true;
  reader_options.wal_autocheckpoint = true;
  for (int i = 0; i < options_.reader_connections; ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<Connection> reader, Connection::Open(path_, reader_options));
    MutexLock pool_lock(pool_mu_);
    idle_readers_.push_back(std::move(reader));
  }
  if (background_checkpoints) {
    ASSIGN_OR_RETURN(checkpointer_, Connection::Open(path_, reader_options));
    // Runs on the writer thread after each commit. Ask for a checkpoint each time the WAL has
    // grown by `threshold` frames since the last request (or since the WAL restarted).
    int threshold = options_.checkpoint_frames;
    writer_->SetWalHook([this, threshold, next = threshold, last = 0](int frames) mutable {
      if (frames < last) next = threshold;
      last = frames;
      if (frames < next) return;
      next = frames + threshold;
      {
        MutexLock lock(checkpoint_mu_);
        checkpoint_requested_ = true;
      }
      checkpoint_cv_.notify_one();
    });
    checkpoint_thread_ = std::thread([this] { CheckpointLoop(); });
  }
  return Status::Ok();
}

void SqliteMetadataStore::CheckpointLoop() {
  MutexLock lock(checkpoint_mu_);
  while (true) {
    while (!stopping_ && !checkpoint_requested_) lock.Wait(checkpoint_cv_);
    if (stopping_) return;
    checkpoint_requested_ = false;
    lock.Unlock();
    // A failed passive checkpoint is retried on the next request; the WAL only grows meanwhile.
    checkpointer_->CheckpointPassive().IgnoreError();
    lock.Lock();
  }
}

struct SqliteMetadataStore::PendingWrite {
  const ConnectionFn* fn = nullptr;
  Status status;      // written by the group's runner before `done`
  bool done = false;  // guarded by group_mu_
};

Status SqliteMetadataStore::Write(const ConnectionFn& fn) {
  PendingWrite self;
  self.fn = &fn;
  MutexLock lock(group_mu_);
  pending_writes_.push_back(&self);
  while (!self.done) {
    if (group_running_) {
      lock.Wait(group_cv_);
      continue;
    }
    // Nobody is writing: run everything queued so far (this write included) as one group.
    group_running_ = true;
    std::vector<PendingWrite*> group;
    group.swap(pending_writes_);
    lock.Unlock();
    RunWriteGroup(group);
    lock.Lock();
    for (PendingWrite* p : group) p->done = true;
    group_running_ = false;
    group_cv_.notify_all();
  }
  return self.status;
}

void SqliteMetadataStore::RunWriteGroup(const std::vector<PendingWrite*>& group) {
  MutexLock lock(write_mu_);
  auto txn = Transaction::Begin(*writer_, Transaction::Kind::kImmediate);
  if (!txn.ok()) {
    for (PendingWrite* p : group) p->status = txn.status();
    return;
  }
  for (PendingWrite* p : group) {
    Status s = writer_->Exec("SAVEPOINT cairn_write");
    if (s.ok()) {
      s = (*p->fn)(*writer_);
      if (s.ok()) {
        s = writer_->Exec("RELEASE cairn_write");
      } else {
        // Undo only this write; the others in the group stand.
        writer_->Exec("ROLLBACK TO cairn_write; RELEASE cairn_write").IgnoreError();
      }
    }
    p->status = s;
  }
  Status commit = txn->Commit();
  if (!commit.ok()) {
    for (PendingWrite* p : group) {
      if (p->status.ok()) p->status = commit;
    }
  }
}

Status SqliteMetadataStore::Read(const ConnectionFn& fn) {
  if (reads_on_writer_) {
    MutexLock lock(write_mu_);
    ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*writer_, Transaction::Kind::kDeferred));
    RETURN_IF_ERROR(fn(*writer_));
    return txn.Commit();
  }
  std::unique_ptr<Connection> reader;
  {
    MutexLock lock(pool_mu_);
    while (idle_readers_.empty()) lock.Wait(pool_cv_);
    reader = std::move(idle_readers_.back());
    idle_readers_.pop_back();
  }
  Status status;
  {
    auto txn = Transaction::Begin(*reader, Transaction::Kind::kDeferred);
    if (!txn.ok()) {
      status = txn.status();
    } else {
      status = fn(*reader);
      if (status.ok()) status = txn->Commit();
    }
  }
  {
    MutexLock lock(pool_mu_);
    idle_readers_.push_back(std::move(reader));
  }
  pool_cv_.notify_one();
  return status;
}

StatusOr<int> SqliteMetadataStore::SchemaVersionForTest() {
  MutexLock lock(write_mu_);
  return sqlite::SchemaVersion(*writer_);
}

StatusOr<int> SqliteMetadataStore::SynchronousForTest() {
  MutexLock lock(write_mu_);
  ASSIGN_OR_RETURN(Statement pragma, writer_->Prepare("PRAGMA synchronous"));
  ASSIGN_OR_RETURN(bool row, pragma.Step());
  if (!row) return Internal("PRAGMA synchronous returned no row");
  return static_cast<int>(pragma.Int(0));
}

// ---- Experiments ----

Status SqliteMetadataStore::EnsureDefaultExperiment(std::string_view tenant,
                                                    std::string_view artifact_root,
                                                    int64_t now_ms) {
  return Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("INSERT INTO experiments (tenant_id, experiment_id, name, "
                                "artifact_location, lifecycle_stage, creation_time, "
                                "last_update_time) VALUES (?, 0, 'Default', ?, 'active', ?, ?) "
                                "ON CONFLICT DO NOTHING"));
    return s.Bind(tenant, JoinUri(artifact_root, "0"), now_ms, now_ms).Run();
  });
}

StatusOr<std::string> SqliteMetadataStore::CreateExperiment(
    std::string_view tenant, std::string_view name, std::string_view artifact_location,
    std::string_view artifact_root, const std::vector<Tag>& tags, int64_t now_ms) {
  int64_t id = 0;
  Status status = Write([&](Connection& db) -> Status {
    {
      ASSIGN_OR_RETURN(Statement taken, db.Prepare("SELECT 1 FROM experiments WHERE tenant_id = "
                                                   "? AND name = ?"));
      taken.Bind(tenant, name);
      ASSIGN_OR_RETURN(bool row, taken.Step());
      if (row) return AlreadyExists("Experiment(name=" + std::string(name) + ") already exists.");
    }
    {
      ASSIGN_OR_RETURN(Statement next, db.Prepare("SELECT COALESCE(MAX(experiment_id), 0) + 1 "
                                                  "FROM experiments WHERE tenant_id = ?"));
      next.Bind(tenant);
      ASSIGN_OR_RETURN(bool row, next.Step());
      if (!row) return Internal("no experiment id");
      id = next.Int(0);
    }
    std::string location = artifact_location.empty() ? JoinUri(artifact_root, std::to_string(id))
                                                     : std::string(artifact_location);
    ASSIGN_OR_RETURN(Statement insert,
                     db.Prepare("INSERT INTO experiments (tenant_id, experiment_id, name, "
                                "artifact_location, lifecycle_stage, creation_time, "
                                "last_update_time) VALUES (?, ?, ?, ?, 'active', ?, ?)"));
    RETURN_IF_ERROR(insert.Bind(tenant, id, name, location, now_ms, now_ms).Run());
    for (const Tag& tag : tags) RETURN_IF_ERROR(UpsertExperimentTag(db, tenant, id, tag));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::to_string(id);
}

StatusOr<Experiment> SqliteMetadataStore::GetExperiment(std::string_view tenant,
                                                        std::string_view experiment_id) {
  std::vector<Experiment> found;
  RETURN_IF_ERROR(Read([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Experiment e, RequireExperiment(db, tenant, experiment_id));
    found.push_back(std::move(e));
    return LoadExperimentTags(db, tenant, found);
  }));
  return std::move(found[0]);
}

StatusOr<Experiment> SqliteMetadataStore::GetExperimentByName(std::string_view tenant,
                                                              std::string_view name) {
  std::vector<Experiment> found;
  RETURN_IF_ERROR(Read([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("SELECT " + std::string(kExperimentColumns) +
                                " FROM experiments e WHERE e.tenant_id = ? AND e.name = ? ORDER "
                                "BY e.lifecycle_stage = 'active' DESC LIMIT 1"));
    s.Bind(tenant, name);
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) {
      return NotFound("Could not find experiment with name '" + std::string(name) + "'");
    }
    found.push_back(ReadExperiment(s));
    return LoadExperimentTags(db, tenant, found);
  }));
  return std::move(found[0]);
}

StatusOr<ResultPage<Experiment>> SqliteMetadataStore::SearchExperiments(
    std::string_view tenant, const SearchExperimentsQuery& query) {
  SearchSchema schema;
  schema.id_expr = "e.experiment_id";
  schema.attributes = {
      {"name", {"e.name", ValueKind::kString}},
      {"experiment_id", {"e.experiment_id", ValueKind::kNumber}},
      {"creation_time", {"e.creation_time", ValueKind::kNumber}},
      {"last_update_time", {"e.last_update_time", ValueKind::kNumber}},
  };
  schema.tags = KeyValueTable("experiment_tags", "experiment_id", tenant);

  SqlParams params(PlaceholderStyle::kQuestion);
  std::string sql =
      "SELECT " + std::string(kExperimentColumns) + " FROM experiments e WHERE e.tenant_id = ";
  sql += params.Add(std::string(tenant));
  sql += " AND " + ViewTypeCondition(query.view_type, "e.lifecycle_stage");
  ASSIGN_OR_RETURN(std::string where, CompileFilter(query.filter, schema, dialect_, params));
  if (!where.empty()) sql += " AND " + where;
  ASSIGN_OR_RETURN(std::string order, CompileOrderBy(query.order_by, schema, params));
  sql += " ORDER BY ";
  if (order.empty()) {
    sql += "e.creation_time DESC, e.experiment_id ASC";
  } else {
    sql += order;
    if (!OrdersBy(query.order_by, "experiment_id")) sql += ", e.experiment_id ASC";
  }

  ResultPage<Experiment> page;
  RETURN_IF_ERROR(Read([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(
        page, RunPagedQuery<Experiment>(db, sql, params, query.page,
                                        [](const Statement& s) { return ReadExperiment(s); }));
    return LoadExperimentTags(db, tenant, page.items);
  }));
  return page;
}

Status SqliteMetadataStore::RenameExperiment(std::string_view tenant,
                                             std::string_view experiment_id,
                                             std::string_view new_name, int64_t now_ms) {
  return Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Experiment e, RequireExperiment(db, tenant, experiment_id));
    if (e.lifecycle_stage != LifecycleStage::kActive) {
      return InvalidArgument("Cannot rename a non-active experiment.");
    }
    if (e.name != new_name) {
      ASSIGN_OR_RETURN(Statement taken, db.Prepare("SELECT 1 FROM experiments WHERE tenant_id = "
                                                   "? AND name = ?"));
      taken.Bind(tenant, new_name);
      ASSIGN_OR_RETURN(bool row, taken.Step());
      if (row) {
        return AlreadyExists("Experiment(name=" + std::string(new_name) + ") already exists.");
      }
    }
    ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE experiments SET name = ?, last_update_time "
                                             "= ? WHERE tenant_id = ? AND experiment_id = ?"));
    return s.Bind(new_name, now_ms, tenant, *ParseExperimentId(experiment_id)).Run();
  });
}

Status SqliteMetadataStore::DeleteExperiment(std::string_view tenant,
                                             std::string_view experiment_id, int64_t now_ms) {
  return Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Experiment e, RequireExperiment(db, tenant, experiment_id));
    if (e.lifecycle_stage != LifecycleStage::kActive) return ExperimentNotFound(experiment_id);
    int64_t id = *ParseExperimentId(experiment_id);
    {
      ASSIGN_OR_RETURN(
          Statement s,
          db.Prepare("UPDATE experiments SET lifecycle_stage = 'deleted', "
                     "last_update_time = ? WHERE tenant_id = ? AND experiment_id = ?"));
      RETURN_IF_ERROR(s.Bind(now_ms, tenant, id).Run());
    }
    ASSIGN_OR_RETURN(Statement runs,
                     db.Prepare("UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? "
                                "WHERE tenant_id = ? AND experiment_id = ? AND lifecycle_stage = "
                                "'active'"));
    return runs.Bind(now_ms, tenant, id).Run();
  });
}

Status SqliteMetadataStore::RestoreExperiment(std::string_view tenant,
                                              std::string_view experiment_id, int64_t now_ms) {
  return Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Experiment e, RequireExperiment(db, tenant, experiment_id));
    if (e.lifecycle_stage != LifecycleStage::kDeleted) return ExperimentNotFound(experiment_id);
    int64_t id = *ParseExperimentId(experiment_id);
    {
      ASSIGN_OR_RETURN(
          Statement s,
          db.Prepare("UPDATE experiments SET lifecycle_stage = 'active', "
                     "last_update_time = ? WHERE tenant_id = ? AND experiment_id = ?"));
      RETURN_IF_ERROR(s.Bind(now_ms, tenant, id).Run());
    }
    ASSIGN_OR_RETURN(Statement runs,
                     db.Prepare("UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL "
                                "WHERE tenant_id = ? AND experiment_id = ? AND lifecycle_stage = "
                                "'deleted'"));
    return runs.Bind(tenant, id).Run();
  });
}

Status SqliteMetadataStore::SetExperimentTag(std::string_view tenant,
                                             std::string_view experiment_id, const Tag& tag) {
  return Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireActiveExperiment(db, tenant, experiment_id).status());
    return UpsertExperimentTag(db, tenant, *ParseExperimentId(experiment_id), tag);
  });
}

Status SqliteMetadataStore::DeleteExperimentTag(std::string_view tenant,
                                                std::string_view experiment_id,
                                                std::string_view key) {
  return Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireActiveExperiment(db, tenant, experiment_id).status());
    ASSIGN_OR_RETURN(Statement s, db.Prepare("DELETE FROM experiment_tags WHERE tenant_id = ? "
                                             "AND experiment_id = ? AND key = ?"));
    RETURN_IF_ERROR(s.Bind(tenant, *ParseExperimentId(experiment_id), key).Run());
    if (db.Changes() == 0) {
      return NotFound("No tag with name: " + std::string(key) + " in experiment with id " +
                      std::string(experiment_id));
    }
    return Status::Ok();
  });
}

// ---- Runs ----

StatusOr<Run> SqliteMetadataStore::CreateRun(std::string_view tenant, const RunInfo& info,
                                             const std::vector<Tag>& tags) {
  Run run;
  RETURN_IF_ERROR(Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Experiment e, RequireActiveExperiment(db, tenant, info.experiment_id));
    {
      ASSIGN_OR_RETURN(Statement taken, db.Prepare("SELECT 1 FROM runs WHERE run_uuid = ?"));
      taken.Bind(info.run_id);
      ASSIGN_OR_RETURN(bool row, taken.Step());
      if (row) return AlreadyExists("Run with id=" + info.run_id + " already exists");
    }
    // The run name and the mlflow.runName tag are one value: the explicit name wins.
    std::string name = info.run_name;
    if (name.empty()) {
      for (const Tag& tag : tags) {
        if (tag.key == kRunNameTag) name = tag.value;
      }
    }
    {
      ASSIGN_OR_RETURN(Statement insert,
                       db.Prepare("INSERT INTO runs (run_uuid, tenant_id, experiment_id, name, "
                                  "user_id, status, start_time, end_time, artifact_uri, "
                                  "lifecycle_stage) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active')"));
      RETURN_IF_ERROR(insert
                          .Bind(info.run_id, tenant, *ParseExperimentId(e.experiment_id), name,
                                info.user_id, RunStatusName(info.status), info.start_time,
                                info.end_time, info.artifact_uri)
                          .Run());
    }
    for (const Tag& tag : tags) {
      if (tag.key == kRunNameTag) continue;
      RETURN_IF_ERROR(UpsertRunTag(db, tenant, info.run_id, tag.key, tag.value));
    }
    if (!name.empty()) RETURN_IF_ERROR(UpsertRunTag(db, tenant, info.run_id, kRunNameTag, name));
    ASSIGN_OR_RETURN(run, LoadRun(db, tenant, info.run_id));
    return Status::Ok();
  }));
  return run;
}

StatusOr<Run> SqliteMetadataStore::GetRun(std::string_view tenant, std::string_view run_id) {
  Run run;
  RETURN_IF_ERROR(Read([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(run, LoadRun(db, tenant, run_id));
    return Status::Ok();
  }));
  return run;
}

StatusOr<RunInfo> SqliteMetadataStore::UpdateRun(std::string_view tenant, std::string_view run_id,
                                                 std::optional<RunStatus> status,
                                                 std::optional<int64_t> end_time,
                                                 std::optional<std::string> run_name) {
  RunInfo info;
  RETURN_IF_ERROR(Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireActiveRun(db, tenant, run_id).status());
    if (run_name && run_name->empty()) run_name.reset();
    std::optional<std::string> status_name;
    if (status) status_name = std::string(RunStatusName(*status));
    {
      ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE runs SET status = COALESCE(?, status), "
                                               "end_time = COALESCE(?, end_time), name = "
                                               "COALESCE(?, name) WHERE run_uuid = ?"));
      RETURN_IF_ERROR(s.Bind(status_name, end_time, run_name, run_id).Run());
    }
    if (run_name) RETURN_IF_ERROR(UpsertRunTag(db, tenant, run_id, kRunNameTag, *run_name));
    ASSIGN_OR_RETURN(info, RequireRun(db, tenant, run_id));
    return Status::Ok();
  }));
  return info;
}

Status SqliteMetadataStore::DeleteRun(std::string_view tenant, std::string_view run_id,
                                      int64_t now_ms) {
  return Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireRun(db, tenant, run_id).status());
    ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE runs SET lifecycle_stage = 'deleted', "
                                             "deleted_time = ? WHERE run_uuid = ?"));
    return s.Bind(now_ms, run_id).Run();
  });
}

Status SqliteMetadataStore::RestoreRun(std::string_view tenant, std::string_view run_id) {
  return Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireRun(db, tenant, run_id).status());
    ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE runs SET lifecycle_stage = 'active', "
                                             "deleted_time = NULL WHERE run_uuid = ?"));
    return s.Bind(run_id).Run();
  });
}

Status SqliteMetadataStore::LogBatch(std::string_view tenant, std::string_view run_id,
                                     const std::vector<Metric>& metrics,
                                     const std::vector<Param>& params,
                                     const std::vector<Tag>& tags) {
  return Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(int64_t experiment_id, RequireActiveRun(db, tenant, run_id));
    if (!params.empty()) {
      RETURN_IF_ERROR(InsertWriteOnceParams(
          db, tenant, run_id, params,
          "INSERT INTO params (run_uuid, key, value, tenant_id) VALUES (?, ?, ?, ?) ON CONFLICT "
          "(run_uuid, key) DO NOTHING",
          "SELECT value FROM params WHERE run_uuid = ? AND key = ?", "run ID"));
    }

    if (!metrics.empty()) {
      // The history gets one chunk per key, its points in the order logged; latest_metrics gets
      // each key's best point of the batch.
      struct KeyPoints {
        std::string_view key;
        std::vector<const Metric*> points;
        const Metric* best;
      };
      std::vector<KeyPoints> by_key;
      std::unordered_map<std::string_view, size_t> index;
      for (const Metric& m : metrics) {
        auto [it, inserted] = index.emplace(m.key, by_key.size());
        if (inserted) by_key.push_back({m.key, {}, &m});
        KeyPoints& entry = by_key[it->second];
        entry.points.push_back(&m);
        if (LatestKey(m) > LatestKey(*entry.best)) entry.best = &m;
        if (m.model_id) RETURN_IF_ERROR(LogLoggedModelMetric(db, tenant, run_id, experiment_id, m));
      }
      ASSIGN_OR_RETURN(
          Statement latest,
          db.Prepare("INSERT INTO latest_metrics (run_uuid, key, value, timestamp, step, "
                     "is_nan, tenant_id) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_uuid, "
                     "key) DO UPDATE SET value = excluded.value, timestamp = "
                     "excluded.timestamp, step = excluded.step, is_nan = excluded.is_nan WHERE "
                     "(excluded.step, excluded.timestamp, 1 - excluded.is_nan, excluded.value) "
                     "> (latest_metrics.step, latest_metrics.timestamp, 1 - "
                     "latest_metrics.is_nan, latest_metrics.value)"));
      for (const KeyPoints& entry : by_key) {
        RETURN_IF_ERROR(sqlite::AppendMetricChunk(db, tenant, run_id, entry.key, entry.points));
        const Metric& m = *entry.best;
        latest.Reset();
        RETURN_IF_ERROR(latest
                            .Bind(run_id, entry.key, StoredValue(m.value), m.timestamp, m.step,
                                  StoredIsNan(m.value), tenant)
                            .Run());
      }
    }

    const Tag* run_name = nullptr;
    for (const Tag& tag : tags) {
      RETURN_IF_ERROR(UpsertRunTag(db, tenant, run_id, tag.key, tag.value));
      if (tag.key == kRunNameTag) run_name = &tag;
    }
    if (run_name != nullptr) RETURN_IF_ERROR(SetRunName(db, run_id, run_name->value));
    return Status::Ok();
  });
}

Status SqliteMetadataStore::DeleteRunTag(std::string_view tenant, std::string_view run_id,
                                         std::string_view key) {
  return Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireActiveRun(db, tenant, run_id).status());
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("DELETE FROM run_tags WHERE run_uuid = ? AND key = ?"));
    RETURN_IF_ERROR(s.Bind(run_id, key).Run());
    if (db.Changes() == 0) {
      return NotFound("No tag with name: " + std::string(key) + " in run with id " +
                      std::string(run_id));
    }
    if (key == kRunNameTag) RETURN_IF_ERROR(SetRunName(db, run_id, ""));
    return Status::Ok();
  });
}

StatusOr<ResultPage<Metric>> SqliteMetadataStore::GetMetricHistory(std::string_view tenant,
                                                                   std::string_view run_id,
                                                                   std::string_view key,
                                                                   const Page& page) {
  ResultPage<Metric> result;
  RETURN_IF_ERROR(Read([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireRun(db, tenant, run_id).status());
    ASSIGN_OR_RETURN(sqlite::MetricHistory history,
                     sqlite::MetricHistory::Load(
                         db, run_id, key, std::numeric_limits<int64_t>::min(),
                         std::numeric_limits<int64_t>::max(), sqlite::HistoryOrder::kTimestamp));
    auto begin = static_cast<size_t>(std::max<int64_t>(page.offset, 0));
    auto limit = static_cast<size_t>(std::max<int64_t>(page.max_results, 0));
    for (size_t i = begin; i < history.size() && i - begin < limit; ++i) {
      result.items.push_back(history.At(i, key, run_id));
    }
    result.has_more = history.size() > begin && history.size() - begin > limit;
    return Status::Ok();
  }));
  return result;
}

StatusOr<std::vector<Metric>> SqliteMetadataStore::GetMetricHistoryForRuns(
    std::string_view tenant, const std::vector<std::string>& run_ids, std::string_view key,
    std::optional<int64_t> start_step, std::optional<int64_t> end_step) {
  std::vector<Metric> result;
  RETURN_IF_ERROR(Read([&](Connection& db) -> Status {
    std::string json = JsonArray(run_ids);
    {
      // Every run must exist for this tenant.
      ASSIGN_OR_RETURN(Statement s,
                       db.Prepare("SELECT j.value FROM json_each(?) j WHERE NOT EXISTS (SELECT 1 "
                                  "FROM runs r WHERE r.run_uuid = j.value AND r.tenant_id = ?) "
                                  "LIMIT 1"));
      s.Bind(json, tenant);
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (row) return RunNotFound(s.TextView(0));
    }
    for (const std::string& run_id : run_ids) {
      ASSIGN_OR_RETURN(
          sqlite::MetricHistory history,
          sqlite::MetricHistory::Load(
              db, run_id, key, start_step.value_or(std::numeric_limits<int64_t>::min()),
              end_step.value_or(std::numeric_limits<int64_t>::max()), sqlite::HistoryOrder::kStep));
      for (size_t i = 0; i < history.size(); ++i) result.push_back(history.At(i, key, run_id));
    }
    return Status::Ok();
  }));
  return result;
}

StatusOr<ResultPage<Run>> SqliteMetadataStore::SearchRuns(std::string_view tenant,
                                                          const SearchRunsQuery& query) {
  std::vector<int64_t> experiment_ids;
  for (const std::string& id : query.experiment_ids) {
    if (auto parsed = ParseExperimentId(id)) experiment_ids.push_back(*parsed);
  }
  if (experiment_ids.empty()) return ResultPage<Run>{};

  std::string tenant_text(tenant);
  SearchSchema schema;
  schema.id_expr = "r.run_uuid";
  schema.attributes = {
      {"run_id", {"r.run_uuid", ValueKind::kString, /*allow_in=*/true}},
      {"run_name", {"r.name", ValueKind::kString}},
      {"status", {"r.status", ValueKind::kString, /*allow_in=*/true}},
      {"user_id", {"r.user_id", ValueKind::kString, /*allow_in=*/true}},
      {"artifact_uri", {"r.artifact_uri", ValueKind::kString}},
      {"start_time", {"r.start_time", ValueKind::kNumber}},
      {"end_time", {"r.end_time", ValueKind::kNumber}},
  };
  schema.metrics = KeyValueTable("latest_metrics", "run_uuid", tenant);
  schema.metrics->is_nan_column = "is_nan";
  schema.params = KeyValueTable("params", "run_uuid", tenant);
  schema.tags = KeyValueTable("run_tags", "run_uuid", tenant);
  schema.datasets = [this, &tenant_text](const filter::Clause& clause,
                                         SqlParams& params) -> StatusOr<std::string> {
    std::string sql = "r.run_uuid IN (SELECT i.run_uuid FROM inputs i ";
    std::string column;
    if (clause.key == "name" || clause.key == "digest") {
      sql += "JOIN datasets d ON d.dataset_id = i.dataset_id WHERE i.tenant_id = ";
      sql += params.Add(tenant_text);
      column = "d." + clause.key;
    } else if (clause.key == "context") {
      sql += "JOIN input_tags t ON t.input_id = i.input_id WHERE i.tenant_id = ";
      sql += params.Add(tenant_text);
      sql += " AND t.name = ";
      sql += params.Add(std::string(kDatasetContextTag));
      column = "t.value";
    } else {
      return InvalidArgument("Invalid dataset key '" + clause.key + "' specified.");
    }
    sql += " AND ";
    ASSIGN_OR_RETURN(std::string cmp,
                     CompileComparison(column, ValueKind::kString, clause, dialect_, params));
    sql += cmp;
    sql += ")";
    return sql;
  };

  // Two steps: the ids of the page (sorting ids and sort keys only, mostly from indexes), then
  // the page's runs and their children by id.
  ResultPage<Run> page;
  RETURN_IF_ERROR(Read([&](Connection& db) -> Status {
    // Plans. When the runs_by_experiment index yields rows in the requested order (one
    // experiment, one lifecycle stage, ordered by start time), a child clause that matches many
    // rows is compiled as a correlated EXISTS, so the search walks that index and stops at the
    // page's end instead of first collecting every matching id; a clause that matches few rows
    // stays an IN list, which drives the search from those rows. Ordered by one metric instead,
    // with every child clause broad, the search walks latest_metrics_by_key_value in value order
    // (then the runs without the metric, which sort last), again stopping at the page's end.
    const bool one_range = experiment_ids.size() == 1 && query.view_type != ViewType::kAll;
    const bool by_start_time =
        std::all_of(query.order_by.begin(), query.order_by.end(), [](const filter::OrderBy& o) {
          return o.entity == filter::Entity::kAttribute && o.key == "start_time";
        });
    const bool by_one_metric =
        query.order_by.size() == 1 && query.order_by[0].entity == filter::Entity::kMetric;
    std::vector<const filter::Clause*> broad;
    bool all_broad = true;
    if (one_range && (by_start_time || by_one_metric)) {
      for (const filter::Clause& clause : query.filter.clauses) {
        if (clause.entity == filter::Entity::kAttribute) continue;
        all_broad = all_broad && clause.entity != filter::Entity::kDataset;
        SqlParams probe_params(PlaceholderStyle::kQuestion);
        StatusOr<std::string> children =
            CompileChildMatches(clause, schema, dialect_, probe_params);
        if (!children.ok()) continue;  // compiled (and reported) below
        ASSIGN_OR_RETURN(Statement probe,
                         db.Prepare("SELECT COUNT(*) FROM (" + *children + " LIMIT " +
                                    std::to_string(kBroadClauseRows) + ")"));
        probe.BindAll(probe_params.values());
        ASSIGN_OR_RETURN(bool row, probe.Step());
        if (row && probe.Int(0) >= kBroadClauseRows) {
          broad.push_back(&clause);
        } else {
          all_broad = false;
        }
      }
    }
    schema.correlate = [&broad](const filter::Clause& clause) {
      return std::find(broad.begin(), broad.end(), &clause) != broad.end();
    };

    // "FROM runs r [CROSS JOIN ...] WHERE <tenant, experiments, stage, filter>" into `sql`.
    auto append_runs = [&](std::string& sql, SqlParams& params) -> Status {
      sql += "r.tenant_id = ";
      sql += params.Add(tenant_text);
      if (experiment_ids.size() == 1) {
        sql += " AND r.experiment_id = ";
        sql += params.Add(experiment_ids[0]);
      } else {
        sql += " AND r.experiment_id IN (SELECT value FROM json_each(";
        sql += params.Add(JsonArray(experiment_ids));
        sql += "))";
      }
      sql += " AND " + ViewTypeCondition(query.view_type, "r.lifecycle_stage");
      ASSIGN_OR_RETURN(std::string where, CompileFilter(query.filter, schema, dialect_, params));
      if (!where.empty()) sql += " AND " + where;
      return Status::Ok();
    };
    auto read_id = [](const Statement& s) { return s.Text(0); };

    ResultPage<std::string> ids;
    if (one_range && by_one_metric && all_broad) {
      const filter::OrderBy& order = query.order_by[0];
      const char* direction = order.ascending ? " ASC" : " DESC";
      // Runs with a (non-NaN) value, in value order; CROSS JOIN keeps the metric index outside.
      SqlParams with_params(PlaceholderStyle::kQuestion);
      std::string with =
          "SELECT r.run_uuid FROM latest_metrics lm CROSS JOIN runs r ON r.run_uuid = "
          "lm.run_uuid WHERE lm.tenant_id = ";
      with += with_params.Add(tenant_text);
      with += " AND lm.key = ";
      with += with_params.Add(order.key);
      with += " AND lm.is_nan = 0 AND ";
      RETURN_IF_ERROR(append_runs(with, with_params));
      with += std::string(" ORDER BY lm.value") + direction + ", r.start_time DESC, r.run_uuid ASC";
      const SqlParams count_params = with_params;  // RunPagedQuery appends LIMIT and OFFSET
      ASSIGN_OR_RETURN(ids, RunPagedQuery<std::string>(db, with, with_params, query.page, read_id));
      if (!ids.has_more) {
        // The rest of the page comes from the runs without a value. Where they start in this
        // page's terms: right after the last run with a value if the page holds any, else at
        // the page offset minus the number of runs with a value.
        int64_t offset = std::max<int64_t>(query.page.offset, 0);
        int64_t skip = 0;
        if (ids.items.empty()) {
          ASSIGN_OR_RETURN(Statement counter, db.Prepare("SELECT COUNT(*) FROM (" + with + ")"));
          counter.BindAll(count_params.values());
          ASSIGN_OR_RETURN(bool row, counter.Step());
          int64_t valued = row ? counter.Int(0) : 0;
          skip = std::max<int64_t>(offset - valued, 0);
        }
        SqlParams without_params(PlaceholderStyle::kQuestion);
        std::string without = "SELECT r.run_uuid FROM runs r WHERE ";
        RETURN_IF_ERROR(append_runs(without, without_params));
        without +=
            " AND NOT EXISTS (SELECT 1 FROM latest_metrics lm WHERE lm.run_uuid = "
            "r.run_uuid AND lm.key = ";
        without += without_params.Add(order.key);
        without += " AND lm.is_nan = 0) ORDER BY r.start_time DESC, r.run_uuid ASC";
        Page rest{
            std::max<int64_t>(query.page.max_results, 0) - static_cast<int64_t>(ids.items.size()),
            skip};
        ASSIGN_OR_RETURN(ResultPage<std::string> tail,
                         RunPagedQuery<std::string>(db, without, without_params, rest, read_id));
        ids.items.insert(ids.items.end(), tail.items.begin(), tail.items.end());
        ids.has_more = tail.has_more;
      }
    } else {
      SqlParams params(PlaceholderStyle::kQuestion);
      std::string sql = "SELECT r.run_uuid FROM runs r WHERE ";
      RETURN_IF_ERROR(append_runs(sql, params));
      ASSIGN_OR_RETURN(std::string order, CompileOrderBy(query.order_by, schema, params));
      sql += " ORDER BY ";
      if (!order.empty()) sql += order + ", ";
      if (!OrdersBy(query.order_by, "start_time")) sql += "r.start_time DESC, ";
      sql += "r.run_uuid ASC";
      ASSIGN_OR_RETURN(ids, RunPagedQuery<std::string>(db, sql, params, query.page, read_id));
    }
    page.has_more = ids.has_more;
    ASSIGN_OR_RETURN(page.items, LoadRunsById(db, ids.items));
    return LoadRunChildren(db, page.items);
  }));
  return page;
}

Status SqliteMetadataStore::LogInputs(std::string_view tenant, std::string_view run_id,
                                      const std::vector<DatasetInput>& datasets,
                                      const std::vector<ModelInput>& models) {
  return Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(int64_t experiment_id, RequireActiveRun(db, tenant, run_id));
    for (const DatasetInput& input : datasets) {
      const Dataset& d = input.dataset;
      int64_t dataset_id = 0;
      {
        ASSIGN_OR_RETURN(Statement find,
                         db.Prepare("SELECT dataset_id FROM datasets WHERE tenant_id = ? AND "
                                    "experiment_id = ? AND name = ? AND digest = ?"));
        find.Bind(tenant, experiment_id, d.name, d.digest);
        ASSIGN_OR_RETURN(bool row, find.Step());
        if (row) dataset_id = find.Int(0);
      }
      if (dataset_id == 0) {
        ASSIGN_OR_RETURN(Statement insert,
                         db.Prepare("INSERT INTO datasets (tenant_id, experiment_id, name, "
                                    "digest, source_type, source, schema, profile) VALUES (?, ?, "
                                    "?, ?, ?, ?, ?, ?)"));
        RETURN_IF_ERROR(insert
                            .Bind(tenant, experiment_id, d.name, d.digest, d.source_type, d.source,
                                  d.schema, d.profile)
                            .Run());
        dataset_id = db.LastInsertRowid();
      }
      {
        ASSIGN_OR_RETURN(Statement find, db.Prepare("SELECT 1 FROM inputs WHERE run_uuid = ? "
                                                    "AND dataset_id = ?"));
        find.Bind(run_id, dataset_id);
        ASSIGN_OR_RETURN(bool row, find.Step());
        if (row) continue;
      }
      int64_t input_id = 0;
      {
        ASSIGN_OR_RETURN(Statement insert, db.Prepare("INSERT INTO inputs (tenant_id, "
                                                      "dataset_id, run_uuid) VALUES (?, ?, ?)"));
        RETURN_IF_ERROR(insert.Bind(tenant, dataset_id, run_id).Run());
        input_id = db.LastInsertRowid();
      }
      for (const Tag& tag : input.tags) {
        ASSIGN_OR_RETURN(Statement insert,
                         db.Prepare("INSERT INTO input_tags (input_id, name, value, tenant_id) "
                                    "VALUES (?, ?, ?, ?) ON CONFLICT (input_id, name) DO UPDATE "
                                    "SET value = excluded.value"));
        RETURN_IF_ERROR(insert.Bind(input_id, tag.key, tag.value, tenant).Run());
      }
    }
    for (const ModelInput& model : models) {
      ASSIGN_OR_RETURN(Statement insert,
                       db.Prepare("INSERT OR IGNORE INTO run_model_inputs (run_uuid, model_id, "
                                  "tenant_id) VALUES (?, ?, ?)"));
      RETURN_IF_ERROR(insert.Bind(run_id, model.model_id, tenant).Run());
    }
    return Status::Ok();
  });
}

Status SqliteMetadataStore::LogOutputs(std::string_view tenant, std::string_view run_id,
                                       const std::vector<ModelOutput>& models) {
  return Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireActiveRun(db, tenant, run_id).status());
    for (const ModelOutput& model : models) {
      ASSIGN_OR_RETURN(Statement insert,
                       db.Prepare("INSERT OR IGNORE INTO run_outputs (run_uuid, model_id, step, "
                                  "tenant_id) VALUES (?, ?, ?, ?)"));
      RETURN_IF_ERROR(insert.Bind(run_id, model.model_id, model.step, tenant).Run());
    }
    return Status::Ok();
  });
}

// ---- Logged models ----

StatusOr<LoggedModel> SqliteMetadataStore::CreateLoggedModel(std::string_view tenant,
                                                             const LoggedModel& model) {
  LoggedModel created;
  RETURN_IF_ERROR(Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Experiment e, RequireActiveExperiment(db, tenant, model.experiment_id));
    {
      ASSIGN_OR_RETURN(Statement taken,
                       db.Prepare("SELECT 1 FROM logged_models WHERE model_id = ?"));
      taken.Bind(model.model_id);
      ASSIGN_OR_RETURN(bool row, taken.Step());
      if (row) return AlreadyExists("Logged model with ID '" + model.model_id + "' exists.");
    }
    {
      ASSIGN_OR_RETURN(Statement insert,
                       db.Prepare("INSERT INTO logged_models (model_id, tenant_id, experiment_id, "
                                  "name, artifact_uri, status, creation_timestamp_ms, "
                                  "last_updated_timestamp_ms, creator_id, model_type, "
                                  "source_run_id, status_message, lifecycle_stage) VALUES (?, ?, "
                                  "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active')"));
      RETURN_IF_ERROR(insert
                          .Bind(model.model_id, tenant, *ParseExperimentId(e.experiment_id),
                                model.name, model.artifact_uri, LoggedModelStatusName(model.status),
                                model.creation_timestamp_ms, model.last_updated_timestamp_ms,
                                model.creator_id, model.model_type, model.source_run_id,
                                model.status_message)
                          .Run());
    }
    for (const Tag& tag : model.tags) {
      ASSIGN_OR_RETURN(Statement s,
                       db.Prepare("INSERT INTO logged_model_tags (model_id, key, value, "
                                  "tenant_id) VALUES (?, ?, ?, ?) ON CONFLICT (model_id, key) DO "
                                  "UPDATE SET value = excluded.value"));
      RETURN_IF_ERROR(s.Bind(model.model_id, tag.key, tag.value, tenant).Run());
    }
    if (!model.params.empty()) {
      RETURN_IF_ERROR(InsertWriteOnceParams(
          db, tenant, model.model_id, model.params,
          "INSERT INTO logged_model_params (model_id, key, value, tenant_id) VALUES (?, ?, ?, ?) "
          "ON CONFLICT (model_id, key) DO NOTHING",
          "SELECT value FROM logged_model_params WHERE model_id = ? AND key = ?",
          "logged model ID"));
    }
    ASSIGN_OR_RETURN(created, LoadLoggedModel(db, tenant, model.model_id, false));
    return Status::Ok();
  }));
  return created;
}

StatusOr<LoggedModel> SqliteMetadataStore::GetLoggedModel(std::string_view tenant,
                                                          std::string_view model_id,
                                                          bool allow_deleted) {
  LoggedModel model;
  RETURN_IF_ERROR(Read([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(model, LoadLoggedModel(db, tenant, model_id, allow_deleted));
    return Status::Ok();
  }));
  return model;
}

StatusOr<LoggedModel> SqliteMetadataStore::FinalizeLoggedModel(std::string_view tenant,
                                                               std::string_view model_id,
                                                               LoggedModelStatus status,
                                                               int64_t now_ms) {
  LoggedModel model;
  RETURN_IF_ERROR(Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireLoggedModel(db, tenant, model_id, false).status());
    {
      ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE logged_models SET status = ?, "
                                               "last_updated_timestamp_ms = ? WHERE model_id = ?"));
      RETURN_IF_ERROR(s.Bind(LoggedModelStatusName(status), now_ms, model_id).Run());
    }
    ASSIGN_OR_RETURN(model, LoadLoggedModel(db, tenant, model_id, false));
    return Status::Ok();
  }));
  return model;
}

Status SqliteMetadataStore::DeleteLoggedModel(std::string_view tenant, std::string_view model_id,
                                              int64_t now_ms) {
  return Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireLoggedModel(db, tenant, model_id, false).status());
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("UPDATE logged_models SET lifecycle_stage = 'deleted', "
                                "last_updated_timestamp_ms = ? WHERE model_id = ?"));
    return s.Bind(now_ms, model_id).Run();
  });
}

Status SqliteMetadataStore::SetLoggedModelTags(std::string_view tenant, std::string_view model_id,
                                               const std::vector<Tag>& tags, int64_t now_ms) {
  return Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireLoggedModel(db, tenant, model_id, false).status());
    for (const Tag& tag : tags) {
      ASSIGN_OR_RETURN(Statement s,
                       db.Prepare("INSERT INTO logged_model_tags (model_id, key, value, "
                                  "tenant_id) VALUES (?, ?, ?, ?) ON CONFLICT (model_id, key) DO "
                                  "UPDATE SET value = excluded.value"));
      RETURN_IF_ERROR(s.Bind(model_id, tag.key, tag.value, tenant).Run());
    }
    return TouchLoggedModel(db, model_id, now_ms);
  });
}

Status SqliteMetadataStore::DeleteLoggedModelTag(std::string_view tenant, std::string_view model_id,
                                                 std::string_view key, int64_t now_ms) {
  return Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireLoggedModel(db, tenant, model_id, false).status());
    {
      ASSIGN_OR_RETURN(Statement s, db.Prepare("DELETE FROM logged_model_tags WHERE model_id = ? "
                                               "AND key = ?"));
      RETURN_IF_ERROR(s.Bind(model_id, key).Run());
    }
    if (db.Changes() == 0) {
      return NotFound("No tag with key '" + std::string(key) + "' found for model with ID '" +
                      std::string(model_id) + "'.");
    }
    return TouchLoggedModel(db, model_id, now_ms);
  });
}

Status SqliteMetadataStore::LogLoggedModelParams(std::string_view tenant, std::string_view model_id,
                                                 const std::vector<Param>& params, int64_t now_ms) {
  return Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireLoggedModel(db, tenant, model_id, false).status());
    RETURN_IF_ERROR(InsertWriteOnceParams(
        db, tenant, model_id, params,
        "INSERT INTO logged_model_params (model_id, key, value, tenant_id) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (model_id, key) DO NOTHING",
        "SELECT value FROM logged_model_params WHERE model_id = ? AND key = ?", "logged model ID"));
    return TouchLoggedModel(db, model_id, now_ms);
  });
}

StatusOr<ResultPage<LoggedModel>> SqliteMetadataStore::SearchLoggedModels(
    std::string_view tenant, const SearchLoggedModelsQuery& query) {
  std::vector<int64_t> experiment_ids;
  for (const std::string& id : query.experiment_ids) {
    if (auto parsed = ParseExperimentId(id)) experiment_ids.push_back(*parsed);
  }
  if (experiment_ids.empty()) return ResultPage<LoggedModel>{};

  std::string tenant_text(tenant);
  SearchSchema schema;
  schema.id_expr = "m.model_id";
  AttributeColumn status_column{"m.status", ValueKind::kString, /*allow_in=*/true};
  status_column.normalize = NormalizeLoggedModelStatus;
  schema.attributes = {
      {"model_id", {"m.model_id", ValueKind::kString, /*allow_in=*/true}},
      {"name", {"m.name", ValueKind::kString, /*allow_in=*/true}},
      {"model_type", {"m.model_type", ValueKind::kString, /*allow_in=*/true}},
      {"status", status_column},
      {"source_run_id", {"m.source_run_id", ValueKind::kString, /*allow_in=*/true}},
      {"creation_timestamp", {"m.creation_timestamp_ms", ValueKind::kNumber}},
      {"last_updated_timestamp", {"m.last_updated_timestamp_ms", ValueKind::kNumber}},
  };
  schema.params = KeyValueTable("logged_model_params", "model_id", tenant);
  schema.tags = KeyValueTable("logged_model_tags", "model_id", tenant);

  // Metrics: the latest value per dataset, restricted to the given datasets when there are any.
  auto metric_table =
      [&tenant_text](std::vector<std::pair<std::string, std::optional<std::string>>> datasets) {
        ChildTable child;
        child.table = "logged_model_latest_metrics";
        child.id_columns = "model_id";
        child.is_nan_column = "is_nan";
        child.scope = [tenant_text, datasets = std::move(datasets)](SqlParams& params,
                                                                    std::string& sql) {
          sql += " AND tenant_id = ";
          sql += params.Add(tenant_text);
          if (datasets.empty()) return;
          sql += " AND (";
          for (size_t i = 0; i < datasets.size(); ++i) {
            if (i > 0) sql += " OR ";
            sql += "(dataset_name = ";
            sql += params.Add(datasets[i].first);
            if (datasets[i].second) {
              sql += " AND dataset_digest = ";
              sql += params.Add(*datasets[i].second);
            }
            sql += ")";
          }
          sql += ")";
        };
        return child;
      };
  schema.metrics = metric_table(query.datasets);

  SqlParams params(PlaceholderStyle::kQuestion);
  std::string sql =
      "SELECT " + std::string(kLoggedModelColumns) + " FROM logged_models m WHERE m.tenant_id = ";
  sql += params.Add(tenant_text);
  sql += " AND m.experiment_id IN (SELECT value FROM json_each(";
  sql += params.Add(JsonArray(experiment_ids));
  sql += ")) AND m.lifecycle_stage = 'active'";
  ASSIGN_OR_RETURN(std::string where, CompileFilter(query.filter, schema, dialect_, params));
  if (!where.empty()) sql += " AND " + where;

  std::string order;
  bool orders_by_model_id = false;
  for (const LoggedModelOrder& o : query.order_by) {
    std::string expr;
    if (o.field_name.rfind("metrics.", 0) == 0) {
      std::vector<std::pair<std::string, std::optional<std::string>>> datasets;
      if (o.dataset_name) datasets.emplace_back(*o.dataset_name, o.dataset_digest);
      ChildTable metrics = metric_table(std::move(datasets));
      expr = MetricSortExpr(metrics, schema.id_expr, o.field_name.substr(8), params);
    } else {
      std::string field = o.field_name;
      if (field == "creation_time") field = "creation_timestamp";
      if (field == "last_updated_time") field = "last_updated_timestamp";
      auto it = schema.attributes.find(field);
      if (it == schema.attributes.end()) {
        return InvalidArgument("Invalid order by field name: " + o.field_name);
      }
      expr = it->second.expr;
      orders_by_model_id = orders_by_model_id || field == "model_id";
    }
    if (!order.empty()) order += ", ";
    order += OrderTerm(expr, o.ascending);
  }
  sql += " ORDER BY ";
  if (order.empty()) {
    sql += "m.creation_timestamp_ms DESC, m.model_id ASC";
  } else {
    sql += order;
    if (!orders_by_model_id) sql += ", m.model_id ASC";
  }

  ResultPage<LoggedModel> page;
  RETURN_IF_ERROR(Read([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(
        page, RunPagedQuery<LoggedModel>(db, sql, params, query.page,
                                         [](const Statement& s) { return ReadLoggedModel(s); }));
    return LoadLoggedModelChildren(db, page.items);
  }));
  return page;
}

}  // namespace cairn::metadata
