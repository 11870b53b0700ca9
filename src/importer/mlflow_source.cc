#include "importer/mlflow_source.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <limits>
#include <map>
#include <utility>

#include "base/python_json.h"
#include "metadata/names.h"
#include "pg/connection.h"
#include "sql/sql.h"
#include "sqlite/connection.h"

namespace cairn::importer {
namespace {

using metadata::Metric;
using metadata::Tag;
using sql::Statement;

double MetricValue(const Statement& s, int value_column, int is_nan_column) {
  if (!s.IsNull(is_nan_column) && s.Int(is_nan_column) != 0) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (s.IsNull(value_column)) return std::numeric_limits<double>::quiet_NaN();
  return s.Double(value_column);
}

std::string TextOr(const Statement& s, int column, std::string fallback = "") {
  return s.IsNull(column) ? std::move(fallback) : s.Text(column);
}

int64_t IntOr(const Statement& s, int column, int64_t fallback = 0) {
  return s.IsNull(column) ? fallback : s.Int(column);
}

bool SafeWorkspaceName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

constexpr std::string_view kTraceNameTag = "mlflow.traceName";
constexpr std::string_view kSessionKey = "mlflow.trace.session";
constexpr std::string_view kTokenUsageKey = "mlflow.trace.tokenUsage";
constexpr std::string_view kCostKey = "mlflow.trace.cost";
constexpr std::array<std::string_view, 6> kTokenColumns = {"input_tokens",
                                                           "output_tokens",
                                                           "total_tokens",
                                                           "cache_read_input_tokens",
                                                           "cache_creation_input_tokens",
                                                           "cache_creation_input_tokens_above_1hr"};
constexpr std::array<std::string_view, 3> kCostColumns = {"input_cost", "output_cost",
                                                          "total_cost"};

}  // namespace

MlflowSource::MlflowSource(std::unique_ptr<sqlite::Connection> lite,
                           std::unique_ptr<pg::Connection> pg, std::string workspace)
    : lite_(std::move(lite)), pg_(std::move(pg)), workspace_(std::move(workspace)) {
  db_ = lite_ != nullptr ? std::make_unique<sql::Connection>(*lite_)
                         : std::make_unique<sql::Connection>(*pg_);
}

MlflowSource::~MlflowSource() = default;

StatusOr<std::unique_ptr<MlflowSource>> MlflowSource::Open(const std::string& path,
                                                           std::string workspace) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return NotFound("no MLflow database at '" + path + "'");
  }
  if (!SafeWorkspaceName(workspace)) {
    return InvalidArgument("workspace names are 1 to 63 letters, digits, '_' or '-'");
  }
  sqlite::ConnectionOptions options;
  options.foreign_read_only = true;
  options.busy_timeout = std::chrono::milliseconds(30000);
  auto db = sqlite::Connection::Open(path, options);
  if (!db.ok()) {
    return InvalidArgument(
        "'" + path + "' is not a readable SQLite database: " + std::string(db.status().message()));
  }
  std::unique_ptr<MlflowSource> source(
      new MlflowSource(std::move(db).value(), nullptr, std::move(workspace)));
  RETURN_IF_ERROR(source->Init("'" + path + "'"));
  return source;
}

StatusOr<std::unique_ptr<MlflowSource>> MlflowSource::OpenPostgres(const std::string& conninfo,
                                                                   std::string workspace) {
  if (!SafeWorkspaceName(workspace)) {
    return InvalidArgument("workspace names are 1 to 63 letters, digits, '_' or '-'");
  }
  pg::ConnectionOptions options;
  options.application_name = "cairn-import";
  // Every statement of the import reads one consistent snapshot, and writes nothing.
  options.session_setup =
      "SET default_transaction_read_only = on; "
      "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
  ASSIGN_OR_RETURN(auto db, pg::Connection::Open(conninfo, options));
  std::unique_ptr<MlflowSource> source(
      new MlflowSource(nullptr, std::move(db), std::move(workspace)));
  RETURN_IF_ERROR(source->Init("the PostgreSQL database"));
  return source;
}

Status MlflowSource::Init(const std::string& name) {
  for (std::string_view table : {"experiments", "runs", "alembic_version", "metrics", "params"}) {
    ASSIGN_OR_RETURN(bool present, HasTable(table));
    if (!present) {
      return InvalidArgument(name + " is not an MLflow tracking database (no table '" +
                             std::string(table) + "')");
    }
  }
  ASSIGN_OR_RETURN(Statement version, db_->Prepare("SELECT version_num FROM alembic_version"));
  ASSIGN_OR_RETURN(bool row, version.Step());
  if (row) schema_version_ = version.Text(0);
  return Status::Ok();
}

StatusOr<bool> MlflowSource::HasTable(std::string_view table) {
  ASSIGN_OR_RETURN(
      Statement s,
      db_->Prepare(db_->postgres() ? "SELECT 1 FROM information_schema.tables WHERE "
                                     "table_schema = current_schema() AND table_name = ?"
                                   : "SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                                     "name = ?"));
  s.Bind(table);
  return s.Step();
}

StatusOr<bool> MlflowSource::HasColumn(std::string_view table, std::string_view column) {
  ASSIGN_OR_RETURN(
      Statement s,
      db_->Prepare(db_->postgres() ? "SELECT 1 FROM information_schema.columns WHERE "
                                     "table_schema = current_schema() AND table_name = ? AND "
                                     "column_name = ?"
                                   : "SELECT 1 FROM pragma_table_info(?) WHERE name = ?"));
  s.Bind(table, column);
  return s.Step();
}

StatusOr<std::string> MlflowSource::WorkspaceClause(std::string_view table,
                                                    std::string_view alias) {
  ASSIGN_OR_RETURN(bool has, HasColumn(table, "workspace"));
  if (!has) return std::string();
  // The name was checked to be [A-Za-z0-9_-] in Open, so it is safe as a literal.
  return " AND " + std::string(alias) + ".workspace = '" + workspace_ + "'";
}

StatusOr<std::vector<metadata::Experiment>> MlflowSource::Experiments() {
  ASSIGN_OR_RETURN(std::string ws, WorkspaceClause("experiments", "e"));
  std::vector<metadata::Experiment> out;
  std::map<int64_t, size_t> index;
  {
    ASSIGN_OR_RETURN(Statement s,
                     db_->Prepare("SELECT e.experiment_id, e.name, e.artifact_location, "
                                  "e.lifecycle_stage, e.creation_time, e.last_update_time FROM "
                                  "experiments e WHERE 1 = 1" +
                                  ws + " ORDER BY e.experiment_id"));
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      metadata::Experiment e;
      e.experiment_id = std::to_string(s.Int(0));
      e.name = s.Text(1);
      e.artifact_location = TextOr(s, 2);
      e.lifecycle_stage = metadata::LifecycleFromName(TextOr(s, 3, "active"))
                              .value_or(metadata::LifecycleStage::kActive);
      e.creation_time = IntOr(s, 4);
      e.last_update_time = IntOr(s, 5, e.creation_time);
      index[s.Int(0)] = out.size();
      out.push_back(std::move(e));
    }
  }
  ASSIGN_OR_RETURN(Statement tags, db_->Prepare("SELECT experiment_id, key, value FROM "
                                                "experiment_tags ORDER BY experiment_id, key"));
  while (true) {
    ASSIGN_OR_RETURN(bool row, tags.Step());
    if (!row) break;
    auto it = index.find(tags.Int(0));
    if (it == index.end()) continue;
    out[it->second].tags.push_back(Tag{tags.Text(1), TextOr(tags, 2)});
  }
  return out;
}

StatusOr<std::vector<std::string>> MlflowSource::RunIds() {
  ASSIGN_OR_RETURN(std::string ws, WorkspaceClause("experiments", "e"));
  ASSIGN_OR_RETURN(Statement s, db_->Prepare("SELECT r.run_uuid FROM runs r JOIN experiments e ON "
                                             "e.experiment_id = r.experiment_id WHERE 1 = 1" +
                                             ws + " ORDER BY r.experiment_id, r.run_uuid"));
  std::vector<std::string> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(s.Text(0));
  }
  return out;
}

StatusOr<metadata::RunImport> MlflowSource::Run(std::string_view run_id) {
  metadata::RunImport run;
  {
    ASSIGN_OR_RETURN(Statement s,
                     db_->Prepare("SELECT run_uuid, experiment_id, name, user_id, status, "
                                  "start_time, end_time, artifact_uri, lifecycle_stage, "
                                  "deleted_time FROM runs WHERE run_uuid = ?"));
    s.Bind(run_id);
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return NotFound("Run with id=" + std::string(run_id) + " not found");
    metadata::RunInfo& info = run.info;
    info.run_id = s.Text(0);
    info.experiment_id = std::to_string(s.Int(1));
    info.run_name = TextOr(s, 2);
    info.user_id = TextOr(s, 3);
    info.status = metadata::RunStatusFromName(TextOr(s, 4, "RUNNING"))
                      .value_or(metadata::RunStatus::kRunning);
    info.start_time = IntOr(s, 5);
    info.end_time = s.OptionalInt(6);
    info.artifact_uri = TextOr(s, 7);
    info.lifecycle_stage = metadata::LifecycleFromName(TextOr(s, 8, "active"))
                               .value_or(metadata::LifecycleStage::kActive);
    run.deleted_time = s.OptionalInt(9);
  }
  {
    ASSIGN_OR_RETURN(Statement s,
                     db_->Prepare("SELECT key, value FROM tags WHERE run_uuid = ? ORDER BY key"));
    s.Bind(run_id);
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      run.tags.push_back(Tag{s.Text(0), TextOr(s, 1)});
    }
  }
  {
    ASSIGN_OR_RETURN(Statement s,
                     db_->Prepare("SELECT key, value FROM params WHERE run_uuid = ? ORDER BY key"));
    s.Bind(run_id);
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      run.params.push_back(metadata::Param{s.Text(0), TextOr(s, 1)});
    }
  }
  {
    ASSIGN_OR_RETURN(Statement s, db_->Prepare("SELECT key, value, timestamp, step, is_nan FROM "
                                               "metrics WHERE run_uuid = ? ORDER BY key, "
                                               "timestamp, step, value"));
    s.Bind(run_id);
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      Metric m;
      m.key = s.Text(0);
      m.value = MetricValue(s, 1, 4);
      m.timestamp = IntOr(s, 2);
      m.step = IntOr(s, 3);
      run.metric_history.push_back(std::move(m));
    }
  }
  ASSIGN_OR_RETURN(bool has_inputs, HasTable("inputs"));
  if (!has_inputs) return run;
  {
    ASSIGN_OR_RETURN(Statement s,
                     db_->Prepare("SELECT i.input_uuid, d.name, d.digest, d.dataset_source_type, "
                                  "d.dataset_source, d.dataset_schema, d.dataset_profile FROM "
                                  "inputs i JOIN datasets d ON d.dataset_uuid = i.source_id WHERE "
                                  "i.source_type = 'DATASET' AND i.destination_type = 'RUN' AND "
                                  "i.destination_id = ? ORDER BY d.name, d.digest"));
    s.Bind(run_id);
    std::vector<std::string> input_ids;
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      metadata::DatasetInput input;
      input.dataset.name = s.Text(1);
      input.dataset.digest = s.Text(2);
      input.dataset.source_type = TextOr(s, 3);
      input.dataset.source = TextOr(s, 4);
      input.dataset.schema = s.OptionalText(5);
      input.dataset.profile = s.OptionalText(6);
      input_ids.push_back(s.Text(0));
      run.dataset_inputs.push_back(std::move(input));
    }
    for (size_t i = 0; i < input_ids.size(); ++i) {
      ASSIGN_OR_RETURN(Statement t, db_->Prepare("SELECT name, value FROM input_tags WHERE "
                                                 "input_uuid = ? ORDER BY name"));
      t.Bind(input_ids[i]);
      while (true) {
        ASSIGN_OR_RETURN(bool row, t.Step());
        if (!row) break;
        run.dataset_inputs[i].tags.push_back(Tag{t.Text(0), t.Text(1)});
      }
    }
  }
  {
    ASSIGN_OR_RETURN(Statement s,
                     db_->Prepare("SELECT destination_id FROM inputs WHERE source_type = "
                                  "'RUN_INPUT' AND source_id = ? AND destination_type = "
                                  "'MODEL_INPUT' ORDER BY destination_id"));
    s.Bind(run_id);
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      run.model_inputs.push_back(metadata::ModelInput{s.Text(0)});
    }
  }
  {
    ASSIGN_OR_RETURN(Statement s,
                     db_->Prepare("SELECT destination_id, step FROM inputs WHERE source_type = "
                                  "'RUN_OUTPUT' AND source_id = ? AND destination_type = "
                                  "'MODEL_OUTPUT' ORDER BY destination_id, step"));
    s.Bind(run_id);
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      run.model_outputs.push_back(metadata::ModelOutput{s.Text(0), IntOr(s, 1)});
    }
  }
  return run;
}

StatusOr<std::vector<Metric>> MlflowSource::MetricHistory(std::string_view run_id,
                                                          std::string_view key) {
  ASSIGN_OR_RETURN(Statement s, db_->Prepare("SELECT value, timestamp, step, is_nan FROM metrics "
                                             "WHERE run_uuid = ? AND key = ? ORDER BY timestamp, "
                                             "step, value"));
  s.Bind(run_id, key);
  std::vector<Metric> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    Metric m;
    m.key = std::string(key);
    m.value = MetricValue(s, 0, 3);
    m.timestamp = IntOr(s, 1);
    m.step = IntOr(s, 2);
    out.push_back(std::move(m));
  }
  return out;
}

StatusOr<std::vector<metadata::LoggedModel>> MlflowSource::LoggedModels() {
  ASSIGN_OR_RETURN(bool present, HasTable("logged_models"));
  if (!present) return std::vector<metadata::LoggedModel>{};
  ASSIGN_OR_RETURN(std::string ws, WorkspaceClause("experiments", "e"));
  std::vector<metadata::LoggedModel> out;
  std::map<std::string, size_t> index;
  {
    ASSIGN_OR_RETURN(
        Statement s,
        db_->Prepare("SELECT m.model_id, m.experiment_id, m.name, m.artifact_location, "
                     "m.creation_timestamp_ms, m.last_updated_timestamp_ms, m.status, "
                     "m.lifecycle_stage, m.model_type, m.source_run_id, m.status_message FROM "
                     "logged_models m JOIN experiments e ON e.experiment_id = m.experiment_id "
                     "WHERE 1 = 1" +
                     ws + " ORDER BY m.experiment_id, m.model_id"));
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      metadata::LoggedModel m;
      m.model_id = s.Text(0);
      m.experiment_id = std::to_string(s.Int(1));
      m.name = s.Text(2);
      m.artifact_uri = TextOr(s, 3);
      m.creation_timestamp_ms = IntOr(s, 4);
      m.last_updated_timestamp_ms = IntOr(s, 5);
      int64_t status = IntOr(s, 6);
      m.status = status >= 0 && status <= 3 ? static_cast<metadata::LoggedModelStatus>(status)
                                            : metadata::LoggedModelStatus::kUnspecified;
      m.lifecycle_stage = metadata::LifecycleFromName(TextOr(s, 7, "active"))
                              .value_or(metadata::LifecycleStage::kActive);
      m.model_type = TextOr(s, 8);
      m.source_run_id = TextOr(s, 9);
      m.status_message = TextOr(s, 10);
      index[m.model_id] = out.size();
      out.push_back(std::move(m));
    }
  }
  auto each = [&](std::string_view sql, auto&& add) -> Status {
    ASSIGN_OR_RETURN(Statement s, db_->Prepare(sql));
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) return Status::Ok();
      auto it = index.find(s.Text(0));
      if (it != index.end()) add(out[it->second], s);
    }
  };
  RETURN_IF_ERROR(
      each("SELECT model_id, tag_key, tag_value FROM logged_model_tags ORDER BY "
           "model_id, tag_key",
           [](metadata::LoggedModel& m, const Statement& s) {
             m.tags.push_back(Tag{s.Text(1), s.Text(2)});
           }));
  RETURN_IF_ERROR(
      each("SELECT model_id, param_key, param_value FROM logged_model_params ORDER BY "
           "model_id, param_key",
           [](metadata::LoggedModel& m, const Statement& s) {
             m.params.push_back(metadata::Param{s.Text(1), s.Text(2)});
           }));
  RETURN_IF_ERROR(
      each("SELECT model_id, metric_name, metric_timestamp_ms, metric_step, "
           "metric_value, run_id, dataset_name, dataset_digest FROM "
           "logged_model_metrics ORDER BY model_id, metric_name, "
           "metric_timestamp_ms, metric_step",
           [](metadata::LoggedModel& m, const Statement& s) {
             Metric metric;
             metric.key = s.Text(1);
             metric.timestamp = IntOr(s, 2);
             metric.step = IntOr(s, 3);
             metric.value = s.IsNull(4) ? std::numeric_limits<double>::quiet_NaN() : s.Double(4);
             metric.run_id = TextOr(s, 5);
             metric.dataset_name = s.OptionalText(6);
             metric.dataset_digest = s.OptionalText(7);
             m.metrics.push_back(std::move(metric));
           }));
  return out;
}

StatusOr<std::vector<metadata::RegisteredModelImport>> MlflowSource::RegisteredModels() {
  ASSIGN_OR_RETURN(bool present, HasTable("registered_models"));
  if (!present) return std::vector<metadata::RegisteredModelImport>{};
  std::vector<metadata::RegisteredModelImport> out;
  std::map<std::string, size_t> index;
  {
    ASSIGN_OR_RETURN(std::string ws, WorkspaceClause("registered_models", "m"));
    ASSIGN_OR_RETURN(Statement s,
                     db_->Prepare("SELECT m.name, m.creation_time, m.last_updated_time, "
                                  "m.description FROM registered_models m WHERE 1 = 1" +
                                  ws + " ORDER BY m.name"));
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      metadata::RegisteredModelImport m;
      m.model.name = s.Text(0);
      m.model.creation_timestamp = IntOr(s, 1);
      m.model.last_updated_timestamp = IntOr(s, 2, m.model.creation_timestamp);
      m.model.description = TextOr(s, 3);
      index[m.model.name] = out.size();
      out.push_back(std::move(m));
    }
  }
  auto each = [&](std::string_view table, std::string_view sql, auto&& add) -> Status {
    ASSIGN_OR_RETURN(std::string ws, WorkspaceClause(table, "t"));
    ASSIGN_OR_RETURN(Statement s, db_->Prepare(std::string(sql) + ws + " ORDER BY 1, 2"));
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) return Status::Ok();
      auto it = index.find(s.Text(0));
      if (it != index.end()) RETURN_IF_ERROR(add(out[it->second], s));
    }
  };
  RETURN_IF_ERROR(each("registered_model_tags",
                       "SELECT t.name, t.key, t.value FROM registered_model_tags t WHERE 1 = 1",
                       [](metadata::RegisteredModelImport& m, const Statement& s) {
                         m.model.tags.push_back(Tag{s.Text(1), TextOr(s, 2)});
                         return Status::Ok();
                       }));
  RETURN_IF_ERROR(each(
      "model_versions",
      "SELECT t.name, t.version, t.creation_time, t.last_updated_time, t.description, "
      "t.user_id, t.current_stage, t.source, t.storage_location, t.run_id, t.run_link, t.status, "
      "t.status_message FROM model_versions t WHERE 1 = 1",
      [](metadata::RegisteredModelImport& m, const Statement& s) {
        metadata::ImportedModelVersion v;
        v.version.name = s.Text(0);
        v.version.version = s.Int(1);
        v.version.creation_timestamp = IntOr(s, 2);
        v.version.last_updated_timestamp = IntOr(s, 3, v.version.creation_timestamp);
        v.version.description = TextOr(s, 4);
        v.version.user_id = TextOr(s, 5);
        std::string stage = TextOr(s, 6, "None");
        v.deleted = stage == "Deleted_Internal";
        v.version.current_stage =
            metadata::ModelStageFromName(stage).value_or(metadata::ModelStage::kNone);
        v.version.source = TextOr(s, 7);
        v.version.storage_location = TextOr(s, 8, v.version.source);
        v.version.run_id = TextOr(s, 9);
        v.version.run_link = TextOr(s, 10);
        v.version.status = metadata::ModelVersionStatusFromName(TextOr(s, 11, "READY"))
                               .value_or(metadata::ModelVersionStatus::kReady);
        v.version.status_message = TextOr(s, 12);
        m.versions.push_back(std::move(v));
        return Status::Ok();
      }));
  RETURN_IF_ERROR(each("model_version_tags",
                       "SELECT t.name, t.version, t.key, t.value FROM model_version_tags t WHERE "
                       "1 = 1",
                       [](metadata::RegisteredModelImport& m, const Statement& s) {
                         for (metadata::ImportedModelVersion& v : m.versions) {
                           if (v.version.version == s.Int(1)) {
                             v.version.tags.push_back(Tag{s.Text(2), TextOr(s, 3)});
                           }
                         }
                         return Status::Ok();
                       }));
  ASSIGN_OR_RETURN(bool aliases, HasTable("registered_model_aliases"));
  if (aliases) {
    RETURN_IF_ERROR(each("registered_model_aliases",
                         "SELECT t.name, t.alias, t.version FROM registered_model_aliases t "
                         "WHERE 1 = 1",
                         [](metadata::RegisteredModelImport& m, const Statement& s) {
                           m.model.aliases.push_back({s.Text(1), s.Int(2)});
                           return Status::Ok();
                         }));
  }
  return out;
}

StatusOr<std::vector<metadata::TraceInfo>> MlflowSource::Traces() {
  ASSIGN_OR_RETURN(bool present, HasTable("trace_info"));
  if (!present) return std::vector<metadata::TraceInfo>{};
  ASSIGN_OR_RETURN(std::string ws, WorkspaceClause("experiments", "e"));
  // Newer MLflow schemas keep some tags and metadata in trace_info columns and give them back
  // as the tag mlflow.traceName and the metadata below (store/tracking/dbmodels/models.py).
  std::vector<std::string> extra = {"trace_name", "session_id"};
  for (std::string_view column : kTokenColumns) extra.emplace_back(column);
  for (std::string_view column : kCostColumns) extra.emplace_back(column);
  ASSIGN_OR_RETURN(const bool columns_hold_promoted, HasColumn("trace_info", "trace_name"));
  std::string select;
  for (const std::string& column : extra) {
    ASSIGN_OR_RETURN(bool has, HasColumn("trace_info", column));
    select += has ? ", t." + column : ", NULL";
  }
  std::vector<metadata::TraceInfo> out;
  std::map<std::string, size_t> index;
  {
    ASSIGN_OR_RETURN(Statement s,
                     db_->Prepare("SELECT t.request_id, t.experiment_id, t.timestamp_ms, "
                                  "t.execution_time_ms, t.status, t.client_request_id, "
                                  "t.request_preview, t.response_preview" +
                                  select +
                                  " FROM trace_info t JOIN experiments e ON e.experiment_id = "
                                  "t.experiment_id WHERE 1 = 1" +
                                  ws + " ORDER BY t.experiment_id, t.request_id"));
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      metadata::TraceInfo t;
      t.trace_id = s.Text(0);
      t.experiment_id = std::to_string(s.Int(1));
      t.request_time_ms = IntOr(s, 2);
      t.execution_duration_ms = s.OptionalInt(3);
      t.state = metadata::TraceStateFromName(TextOr(s, 4, "STATE_UNSPECIFIED"))
                    .value_or(metadata::TraceState::kUnspecified);
      t.client_request_id = s.OptionalText(5);
      t.request_preview = s.OptionalText(6);
      t.response_preview = s.OptionalText(7);
      if (!s.IsNull(8)) t.tags.push_back(Tag{std::string(kTraceNameTag), s.Text(8)});
      if (!s.IsNull(9)) t.trace_metadata.push_back(Tag{std::string(kSessionKey), s.Text(9)});
      // Written as MLflow writes them: Python's json.dumps of the dict, in column order.
      boost::json::object tokens;
      for (size_t i = 0; i < kTokenColumns.size(); ++i) {
        const int column = 10 + static_cast<int>(i);
        if (!s.IsNull(column)) tokens[kTokenColumns[i]] = s.Int(column);
      }
      if (!tokens.empty()) {
        t.trace_metadata.push_back(Tag{std::string(kTokenUsageKey), json::PythonJsonDumps(tokens)});
      }
      boost::json::object cost;
      for (size_t i = 0; i < kCostColumns.size(); ++i) {
        const int column = 10 + static_cast<int>(kTokenColumns.size() + i);
        if (!s.IsNull(column)) cost[kCostColumns[i]] = s.Double(column);
      }
      if (!cost.empty()) {
        t.trace_metadata.push_back(Tag{std::string(kCostKey), json::PythonJsonDumps(cost)});
      }
      index[t.trace_id] = out.size();
      out.push_back(std::move(t));
    }
  }
  for (auto [table, into_tags] :
       {std::pair<std::string_view, bool>{"trace_tags", true},
        std::pair<std::string_view, bool>{"trace_request_metadata", false}}) {
    ASSIGN_OR_RETURN(bool has, HasTable(table));
    if (!has) continue;
    ASSIGN_OR_RETURN(Statement s, db_->Prepare("SELECT request_id, key, value FROM " +
                                               std::string(table) + " ORDER BY request_id, key"));
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      auto it = index.find(s.Text(0));
      if (it == index.end()) continue;
      metadata::TraceInfo& t = out[it->second];
      std::string key = s.Text(1);
      // With the columns, MLflow ignores rows of the keys they hold.
      bool promoted = into_tags ? key == kTraceNameTag
                                : key == kSessionKey || key == kTokenUsageKey || key == kCostKey;
      if (promoted && columns_hold_promoted) continue;
      std::vector<Tag>& into = into_tags ? t.tags : t.trace_metadata;
      into.push_back(Tag{std::move(key), TextOr(s, 2)});
    }
  }
  return out;
}

StatusOr<std::vector<metadata::Span>> MlflowSource::Spans(
    const std::vector<std::string>& trace_ids) {
  std::vector<metadata::Span> out;
  ASSIGN_OR_RETURN(bool present, HasTable("spans"));
  if (!present || trace_ids.empty()) return out;
  std::string placeholders;
  for (size_t i = 0; i < trace_ids.size(); ++i) placeholders += i == 0 ? "?" : ", ?";
  ASSIGN_OR_RETURN(Statement s,
                   db_->Prepare("SELECT trace_id, span_id, parent_span_id, name, type, status, "
                                "start_time_unix_nano, end_time_unix_nano, content FROM spans "
                                "WHERE trace_id IN (" +
                                placeholders + ") ORDER BY trace_id, span_id"));
  for (size_t i = 0; i < trace_ids.size(); ++i) s.BindText(static_cast<int>(i) + 1, trace_ids[i]);
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    metadata::Span span;
    span.trace_id = s.Text(0);
    span.span_id = s.Text(1);
    span.parent_span_id = s.OptionalText(2);
    span.name = s.OptionalText(3).value_or("");
    span.type = s.OptionalText(4);
    span.status = s.OptionalText(5).value_or("UNSET");
    span.start_time_ns = s.Int(6);
    span.end_time_ns = s.OptionalInt(7);
    span.content = s.OptionalText(8).value_or("");
    out.push_back(std::move(span));
  }
  return out;
}

StatusOr<int64_t> MlflowSource::CountTraceRows(std::string_view table) {
  ASSIGN_OR_RETURN(bool present, HasTable(table));
  if (!present) return int64_t{0};
  ASSIGN_OR_RETURN(std::string ws, WorkspaceClause("experiments", "e"));
  ASSIGN_OR_RETURN(Statement s,
                   db_->Prepare("SELECT count(*) FROM " + std::string(table) +
                                " x JOIN trace_info t ON t.request_id = x.trace_id JOIN "
                                "experiments e ON e.experiment_id = t.experiment_id WHERE 1 = 1" +
                                ws));
  ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.Int(0) : 0;
}

}  // namespace cairn::importer
