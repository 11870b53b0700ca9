#include "metadata/sql/sql_tracking_helpers.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>

#include "metadata/names.h"
#include "metadata/sql/sql_metric_history.h"
#include "metadata/sql/sql_search.h"
#include "metadata/store_rules.h"

namespace cairn::metadata::sql_store {

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

double LoadedValue(double value, int64_t is_nan) {
  return is_nan != 0 ? std::numeric_limits<double>::quiet_NaN() : value;
}

// Records a run's metric that names a logged model in that model's history and latest values.
Status LogLoggedModelMetric(Connection& db, std::string_view tenant, std::string_view run_id,
                            int64_t experiment_id, const Metric& m) {
  std::string dataset_name = m.dataset_name.value_or("");
  std::string dataset_digest = m.dataset_digest.value_or("");
  ASSIGN_OR_RETURN(
      Statement history,
      db.Prepare("INSERT INTO logged_model_metrics (model_id, key, dataset_name, "
                 "dataset_digest, timestamp, step, value, is_nan, run_uuid, experiment_id, "
                 "tenant_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"));
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

// ---- Row readers ----

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

StatusOr<Statement> SendExperimentTags(Connection& db, std::string_view tenant,
                                       const std::vector<int64_t>& ids) {
  ASSIGN_OR_RETURN(Statement s,
                   db.Prepare("SELECT experiment_id, key, value FROM experiment_tags "
                              "WHERE tenant_id = ? AND experiment_id " +
                              sql::InJsonInts(db.dialect()) + " ORDER BY experiment_id, key"));
  s.Bind(tenant, JsonArray(ids));
  RETURN_IF_ERROR(s.Send());
  return s;
}

Status ReadExperimentTags(Statement& s, std::vector<Experiment>& experiments) {
  auto index = IndexById(experiments, [](const Experiment& e) { return e.experiment_id; });
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    auto it = index.find(std::to_string(s.Int(0)));
    if (it != index.end()) experiments[it->second].tags.push_back({s.Text(1), s.Text(2)});
  }
  return Status::Ok();
}

Status LoadExperimentTags(Connection& db, std::string_view tenant,
                          std::vector<Experiment>& experiments) {
  if (experiments.empty()) return Status::Ok();
  std::vector<int64_t> ids;
  ids.reserve(experiments.size());
  for (const Experiment& e : experiments) ids.push_back(*ParseExperimentId(e.experiment_id));
  ASSIGN_OR_RETURN(Statement s, SendExperimentTags(db, tenant, ids));
  return ReadExperimentTags(s, experiments);
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
  // A new tag goes after the run's others; a changed one keeps its place (seq).
  ASSIGN_OR_RETURN(Statement s,
                   db.Prepare("INSERT INTO run_tags (run_uuid, key, value, tenant_id, seq) VALUES "
                              "(?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM run_tags WHERE "
                              "run_uuid = ?)) ON CONFLICT (run_uuid, key) DO UPDATE SET value = "
                              "excluded.value"));
  return s.Bind(run_id, key, value, tenant, run_id).Run();
}

Status SetRunName(Connection& db, std::string_view run_id, std::string_view name) {
  ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE runs SET name = ? WHERE run_uuid = ?"));
  return s.Bind(name, run_id).Run();
}

// Loads metrics (latest), params, tags, inputs and outputs of `runs` in one query per kind.
Status LoadRunChildren(Connection& db, std::vector<Run>& runs) {
  if (runs.empty()) return Status::Ok();
  ChildRows<Run> children(db, runs, [](const Run& r) { return r.info.run_id; });
  auto for_each_row = [&](std::string_view sql, auto&& fn) { return children.Attach(sql, fn); };
  RETURN_IF_ERROR(for_each_row(
      "SELECT run_uuid, key, value, timestamp, step, is_nan FROM latest_metrics WHERE run_uuid " +
          sql::InJsonTexts(db.dialect()) + " ORDER BY run_uuid, key",
      [](Run& run, const Statement& s) {
        Metric m;
        m.key = s.Text(1);
        m.value = LoadedValue(s.Double(2), s.Int(5));
        m.timestamp = s.Int(3);
        m.step = s.Int(4);
        m.run_id = run.info.run_id;
        run.metrics.push_back(std::move(m));
      }));
  RETURN_IF_ERROR(for_each_row("SELECT run_uuid, key, value FROM params WHERE run_uuid " +
                                   sql::InJsonTexts(db.dialect()) + " ORDER BY run_uuid, key",
                               [](Run& run, const Statement& s) {
                                 run.params.push_back({s.Text(1), s.Text(2)});
                               }));
  RETURN_IF_ERROR(for_each_row("SELECT run_uuid, key, value FROM run_tags WHERE run_uuid " +
                                   sql::InJsonTexts(db.dialect()) + " ORDER BY run_uuid, seq, key",
                               [](Run& run, const Statement& s) {
                                 run.tags.push_back({s.Text(1), s.Text(2)});
                               }));

  // Dataset inputs, then their tags, matched by input id.
  std::unordered_map<int64_t, std::pair<size_t, size_t>> inputs;  // input id -> (run, position)
  RETURN_IF_ERROR(for_each_row(
      "SELECT i.run_uuid, i.input_id, d.name, d.digest, d.source_type, d.source, d.schema, "
      "d.profile FROM inputs i JOIN datasets d ON d.dataset_id = i.dataset_id WHERE i.run_uuid " +
          sql::InJsonTexts(db.dialect()) + " ORDER BY i.run_uuid, i.input_id",
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
        "t.input_id = i.input_id WHERE i.run_uuid " +
            sql::InJsonTexts(db.dialect()) + " ORDER BY t.input_id, t.name",
        [&](Run& run, const Statement& s) {
          auto it = inputs.find(s.Int(1));
          if (it == inputs.end()) return;
          run.dataset_inputs[it->second.second].tags.push_back({s.Text(2), s.Text(3)});
        }));
  }
  RETURN_IF_ERROR(
      for_each_row("SELECT run_uuid, model_id FROM run_model_inputs WHERE run_uuid " +
                       sql::InJsonTexts(db.dialect()) + " ORDER BY run_uuid, model_id",
                   [](Run& run, const Statement& s) { run.model_inputs.push_back({s.Text(1)}); }));
  RETURN_IF_ERROR(for_each_row("SELECT run_uuid, model_id, step FROM run_outputs WHERE run_uuid " +
                                   sql::InJsonTexts(db.dialect()) +
                                   " ORDER BY run_uuid, step, model_id",
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
  ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT " + std::string(kRunColumns) + " FROM " +
                                           sql::JsonTexts(db.dialect()) + " j " +
                                           std::string(sql::OrderedJoin(db.dialect())) +
                                           " runs r ON "
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
  ChildRows<LoggedModel> children(db, models, [](const LoggedModel& m) { return m.model_id; });
  auto for_each_row = [&](std::string_view sql, auto&& fn) { return children.Attach(sql, fn); };
  RETURN_IF_ERROR(
      for_each_row("SELECT model_id, key, value FROM logged_model_tags WHERE model_id " +
                       sql::InJsonTexts(db.dialect()) + " ORDER BY model_id, key",
                   [](LoggedModel& m, const Statement& s) {
                     m.tags.push_back({s.Text(1), s.Text(2)});
                   }));
  RETURN_IF_ERROR(
      for_each_row("SELECT model_id, key, value FROM logged_model_params WHERE model_id " +
                       sql::InJsonTexts(db.dialect()) + " ORDER BY model_id, key",
                   [](LoggedModel& m, const Statement& s) {
                     m.params.push_back({s.Text(1), s.Text(2)});
                   }));
  RETURN_IF_ERROR(for_each_row(
      "SELECT model_id, key, value, is_nan, timestamp, step, run_uuid, dataset_name, "
      "dataset_digest FROM logged_model_latest_metrics WHERE model_id " +
          sql::InJsonTexts(db.dialect()) + " ORDER BY model_id, key, dataset_name, dataset_digest",
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

}  // namespace cairn::metadata::sql_store
