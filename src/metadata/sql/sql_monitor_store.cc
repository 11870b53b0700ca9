#include "metadata/sql/sql_monitor_store.h"

#include <algorithm>
#include <string>

namespace cairn::metadata {
namespace {

using sql::Blob;
using sql::Connection;
using sql::Statement;

// Runs `s` to the end, appending what `read` makes of each row.
template <typename T, typename ReadFn>
Status Collect(Statement& s, std::vector<T>& out, ReadFn read) {
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Status::Ok();
    out.push_back(read(s));
  }
}

constexpr std::string_view kConfigColumns =
    "config_id, model_name, deployment_id, spec, created_at, updated_at";

DriftConfigRecord ReadConfig(const Statement& s, int first = 0) {
  DriftConfigRecord r;
  r.id = s.Text(first + 0);
  r.model_name = s.Text(first + 1);
  r.deployment_id = s.Text(first + 2);
  r.spec_json = s.Text(first + 3);
  r.created_at_ms = s.Int(first + 4);
  r.updated_at_ms = s.Int(first + 5);
  return r;
}

constexpr std::string_view kWindowColumns =
    "config_id, deployment_id, model_name, model_version, start_ms, end_ms, closed_at, "
    "predictions, results";

WindowRecord ReadWindow(const Statement& s) {
  WindowRecord w;
  w.config_id = s.Text(0);
  w.deployment_id = s.Text(1);
  w.model_name = s.Text(2);
  w.model_version = s.Text(3);
  w.start_ms = s.Int(4);
  w.end_ms = s.Int(5);
  w.closed_at_ms = s.Int(6);
  w.predictions = s.Int(7);
  w.results_json = s.Text(8);
  return w;
}

constexpr std::string_view kSummaryColumns =
    "deployment_id, request_id, log_offset, timestamp_ms, config_id, window_start, prediction, "
    "score, subject_id, label, labeled_at";

PredictionSummary ReadSummary(const Statement& s) {
  PredictionSummary p;
  p.deployment_id = s.Text(0);
  p.request_id = s.Text(1);
  p.offset = s.Int(2);
  p.timestamp_ms = s.Int(3);
  p.config_id = s.Text(4);
  p.window_start_ms = s.Int(5);
  p.prediction_json = s.Text(6);
  if (!s.IsNull(7)) p.score = s.Double(7);
  p.subject_id = s.OptionalText(8);
  p.label_json = s.OptionalText(9);
  p.labeled_at_ms = s.Int(10);
  return p;
}

constexpr std::string_view kAlertColumns =
    "alert_id, config_id, model_name, deployment_id, kind, severity, state, first_window_start, "
    "last_window_start, fired_at, updated_at, resolved_at, acknowledged_by, acknowledged_at, "
    "details";

AlertRecord ReadAlert(const Statement& s) {
  AlertRecord a;
  a.id = s.Text(0);
  a.config_id = s.Text(1);
  a.model_name = s.Text(2);
  a.deployment_id = s.Text(3);
  a.kind = s.Text(4);
  a.severity = s.Text(5);
  a.state = s.Text(6);
  a.first_window_start_ms = s.Int(7);
  a.last_window_start_ms = s.Int(8);
  a.fired_at_ms = s.Int(9);
  a.updated_at_ms = s.Int(10);
  a.resolved_at_ms = s.Int(11);
  a.acknowledged_by = s.Text(12);
  a.acknowledged_at_ms = s.Int(13);
  a.details_json = s.Text(14);
  return a;
}

constexpr std::string_view kActionColumns =
    "action_id, alert_id, config_id, action, target, status, attempts, detail, created_at, "
    "updated_at";

ActionRecord ReadAction(const Statement& s) {
  ActionRecord a;
  a.id = s.Text(0);
  a.alert_id = s.Text(1);
  a.config_id = s.Text(2);
  a.action = s.Text(3);
  a.target = s.Text(4);
  a.status = s.Text(5);
  a.attempts = static_cast<int>(s.Int(6));
  a.detail_json = s.Text(7);
  a.created_at_ms = s.Int(8);
  a.updated_at_ms = s.Int(9);
  return a;
}

std::string Sql(std::string_view a, std::string_view b, std::string_view c = "") {
  std::string out(a);
  out += b;
  out += c;
  return out;
}

}  // namespace

StatusOr<DriftConfigRecord> SqlMonitorStore::PutDriftConfig(std::string_view tenant,
                                                            const DriftConfigRecord& r) {
  DriftConfigRecord stored = r;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement find, db.Prepare("SELECT config_id, created_at FROM drift_configs "
                                                "WHERE tenant_id = ? AND model_name = ? AND "
                                                "deployment_id = ?"));
    ASSIGN_OR_RETURN(bool exists, find.Bind(tenant, r.model_name, r.deployment_id).Step());
    if (exists) {
      stored.id = find.Text(0);
      stored.created_at_ms = find.Int(1);
      ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE drift_configs SET spec = ?, updated_at = ? "
                                               "WHERE config_id = ?"));
      return s.Bind(r.spec_json, r.updated_at_ms, stored.id).Run();
    }
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare(Sql("INSERT INTO drift_configs (tenant_id, ", kConfigColumns,
                                    ") VALUES (?, ?, ?, ?, ?, ?, ?)")));
    return s
        .Bind(tenant, r.id, r.model_name, r.deployment_id, r.spec_json, r.created_at_ms,
              r.updated_at_ms)
        .Run();
  }));
  return stored;
}

StatusOr<std::vector<DriftConfigRecord>> SqlMonitorStore::ListDriftConfigs(
    std::string_view tenant, std::string_view model_name) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<std::vector<DriftConfigRecord>> {
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare(Sql("SELECT ", kConfigColumns,
                                    " FROM drift_configs WHERE tenant_id = ? AND (? = '' OR "
                                    "model_name = ?) ORDER BY created_at, config_id")));
    s.Bind(tenant, model_name, model_name);
    std::vector<DriftConfigRecord> out;
    RETURN_IF_ERROR(Collect(s, out, [](const Statement& st) { return ReadConfig(st); }));
    return out;
  });
}

StatusOr<std::vector<std::pair<std::string, DriftConfigRecord>>>
SqlMonitorStore::ListAllDriftConfigs() {
  using Rows = std::vector<std::pair<std::string, DriftConfigRecord>>;
  return db_->ReadValue([&](Connection& db) -> StatusOr<Rows> {
    ASSIGN_OR_RETURN(Statement s, db.Prepare(Sql("SELECT tenant_id, ", kConfigColumns,
                                                 " FROM drift_configs ORDER BY created_at")));
    Rows out;
    RETURN_IF_ERROR(Collect(
        s, out, [](const Statement& st) { return std::make_pair(st.Text(0), ReadConfig(st, 1)); }));
    return out;
  });
}

Status SqlMonitorStore::DeleteDriftConfig(std::string_view tenant, std::string_view id) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement s, db.Prepare("DELETE FROM drift_configs WHERE tenant_id = ? AND "
                                             "config_id = ?"));
    RETURN_IF_ERROR(s.Bind(tenant, id).Run());
    if (db.Changes() == 0) {
      return NotFound("Drift configuration '" + std::string(id) + "' not found");
    }
    ASSIGN_OR_RETURN(Statement state, db.Prepare("DELETE FROM monitor_state WHERE tenant_id = ? "
                                                 "AND config_id = ?"));
    return state.Bind(tenant, id).Run();
  });
}

StatusOr<int64_t> SqlMonitorStore::AddReference(std::string_view tenant, const ReferenceRecord& r) {
  int64_t version = 0;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement max, db.Prepare("SELECT COALESCE(MAX(version), 0) FROM "
                                               "reference_profiles WHERE tenant_id = ? AND "
                                               "deployment_id = ?"));
    ASSIGN_OR_RETURN(bool row, max.Bind(tenant, r.deployment_id).Step());
    version = (row ? max.Int(0) : 0) + 1;
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("INSERT INTO reference_profiles (tenant_id, deployment_id, "
                                "version, source, summary, profile, created_at) VALUES (?, ?, ?, "
                                "?, ?, ?, ?)"));
    return s
        .Bind(tenant, r.deployment_id, version, r.source, r.summary_json, Blob{r.profile},
              r.created_at_ms)
        .Run();
  }));
  return version;
}

StatusOr<ReferenceRecord> SqlMonitorStore::GetReference(std::string_view tenant,
                                                        std::string_view deployment_id,
                                                        std::optional<int64_t> version,
                                                        bool with_profile) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<ReferenceRecord> {
    ASSIGN_OR_RETURN(
        Statement s,
        db.Prepare(Sql("SELECT version, source, summary, created_at",
                       with_profile ? ", profile" : "",
                       " FROM reference_profiles WHERE tenant_id = ? AND deployment_id = ? AND "
                       "(? = 0 OR version = ?) ORDER BY version DESC LIMIT 1")));
    const int64_t v = version.value_or(0);
    ASSIGN_OR_RETURN(bool row, s.Bind(tenant, deployment_id, v, v).Step());
    if (!row) {
      return NotFound("Deployment '" + std::string(deployment_id) + "' has no reference profile" +
                      (version ? " version " + std::to_string(*version) : std::string()));
    }
    ReferenceRecord r;
    r.deployment_id = std::string(deployment_id);
    r.version = s.Int(0);
    r.source = s.Text(1);
    r.summary_json = s.Text(2);
    r.created_at_ms = s.Int(3);
    if (with_profile) r.profile = std::string(s.BlobView(4));
    return r;
  });
}

StatusOr<std::vector<ReferenceRecord>> SqlMonitorStore::ListReferences(
    std::string_view tenant, std::string_view deployment_id) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<std::vector<ReferenceRecord>> {
    ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT version, source, summary, created_at FROM "
                                             "reference_profiles WHERE tenant_id = ? AND "
                                             "deployment_id = ? ORDER BY version DESC"));
    s.Bind(tenant, deployment_id);
    std::vector<ReferenceRecord> out;
    RETURN_IF_ERROR(Collect(s, out, [&](const Statement& st) {
      ReferenceRecord r;
      r.deployment_id = std::string(deployment_id);
      r.version = st.Int(0);
      r.source = st.Text(1);
      r.summary_json = st.Text(2);
      r.created_at_ms = st.Int(3);
      return r;
    }));
    return out;
  });
}

Status SqlMonitorStore::PutWindow(std::string_view tenant, const WindowRecord& w,
                                  std::string_view state_json) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(
        Statement s,
        db.Prepare(
            Sql("INSERT INTO monitor_windows (tenant_id, ", kWindowColumns,
                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
                "(tenant_id, config_id, deployment_id, start_ms) DO UPDATE "
                "SET model_name = excluded.model_name, model_version = excluded.model_version, "
                "end_ms = excluded.end_ms, closed_at = excluded.closed_at, predictions = "
                "excluded.predictions, results = excluded.results")));
    RETURN_IF_ERROR(s.Bind(tenant, w.config_id, w.deployment_id, w.model_name, w.model_version,
                           w.start_ms, w.end_ms, w.closed_at_ms, w.predictions, w.results_json)
                        .Run());
    ASSIGN_OR_RETURN(Statement st, db.Prepare("INSERT INTO monitor_state (tenant_id, config_id, "
                                              "deployment_id, state) VALUES (?, ?, ?, ?) ON "
                                              "CONFLICT (tenant_id, config_id, deployment_id) DO "
                                              "UPDATE SET state = excluded.state"));
    return st.Bind(tenant, w.config_id, w.deployment_id, state_json).Run();
  });
}

Status SqlMonitorStore::UpdateWindowResults(std::string_view tenant, std::string_view config_id,
                                            std::string_view deployment_id, int64_t start_ms,
                                            std::string_view results_json) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE monitor_windows SET results = ? WHERE "
                                             "tenant_id = ? AND config_id = ? AND deployment_id = "
                                             "? AND start_ms = ?"));
    RETURN_IF_ERROR(s.Bind(results_json, tenant, config_id, deployment_id, start_ms).Run());
    return db.Changes() == 0 ? NotFound("Window not found") : Status::Ok();
  });
}

StatusOr<WindowRecord> SqlMonitorStore::GetWindow(std::string_view tenant,
                                                  std::string_view config_id,
                                                  std::string_view deployment_id,
                                                  int64_t start_ms) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<WindowRecord> {
    ASSIGN_OR_RETURN(Statement s, db.Prepare(Sql("SELECT ", kWindowColumns,
                                                 " FROM monitor_windows WHERE tenant_id = ? AND "
                                                 "config_id = ? AND deployment_id = ? AND "
                                                 "start_ms = ?")));
    ASSIGN_OR_RETURN(bool row, s.Bind(tenant, config_id, deployment_id, start_ms).Step());
    if (!row) return NotFound("Window not found");
    return ReadWindow(s);
  });
}

StatusOr<std::vector<WindowRecord>> SqlMonitorStore::ListWindows(std::string_view tenant,
                                                                 std::string_view model_name,
                                                                 std::string_view deployment_id,
                                                                 int64_t from_ms, int64_t to_ms,
                                                                 int limit) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<std::vector<WindowRecord>> {
    ASSIGN_OR_RETURN(
        Statement s,
        db.Prepare(Sql("SELECT ", kWindowColumns,
                       " FROM monitor_windows WHERE tenant_id = ? AND model_name = ? AND (? = '' "
                       "OR deployment_id = ?) AND start_ms >= ? AND (? = 0 OR start_ms < ?) "
                       "ORDER BY start_ms, deployment_id, config_id LIMIT ?")));
    s.Bind(tenant, model_name, deployment_id, deployment_id, from_ms, to_ms, to_ms,
           static_cast<int64_t>(limit));
    std::vector<WindowRecord> out;
    RETURN_IF_ERROR(Collect(s, out, [](const Statement& st) { return ReadWindow(st); }));
    return out;
  });
}

StatusOr<std::optional<std::string>> SqlMonitorStore::GetMonitorState(
    std::string_view tenant, std::string_view config_id, std::string_view deployment_id) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<std::optional<std::string>> {
    ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT state FROM monitor_state WHERE tenant_id = ? "
                                             "AND config_id = ? AND deployment_id = ?"));
    ASSIGN_OR_RETURN(bool row, s.Bind(tenant, config_id, deployment_id).Step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(s.Text(0));
  });
}

Status SqlMonitorStore::PutMonitorState(std::string_view tenant, std::string_view config_id,
                                        std::string_view deployment_id,
                                        std::string_view state_json) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement s, db.Prepare("INSERT INTO monitor_state (tenant_id, config_id, "
                                             "deployment_id, state) VALUES (?, ?, ?, ?) ON "
                                             "CONFLICT (tenant_id, config_id, deployment_id) DO "
                                             "UPDATE SET state = excluded.state"));
    return s.Bind(tenant, config_id, deployment_id, state_json).Run();
  });
}

StatusOr<std::vector<PredictionSummary>> SqlMonitorStore::AddPredictions(
    std::string_view tenant, std::span<const PredictionSummary> predictions) {
  std::vector<PredictionSummary> joined;
  if (predictions.empty()) return joined;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    joined.clear();
    ASSIGN_OR_RETURN(Statement insert,
                     db.Prepare("INSERT INTO monitor_predictions (tenant_id, "
                                "deployment_id, log_offset, request_id, timestamp_ms, config_id, "
                                "window_start, prediction, score, subject_id) VALUES (?, ?, ?, ?, "
                                "?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"));
    ASSIGN_OR_RETURN(
        Statement any_pending,
        db.Prepare("SELECT EXISTS (SELECT 1 FROM pending_labels WHERE tenant_id = ?)"));
    ASSIGN_OR_RETURN(bool row, any_pending.Bind(tenant).Step());
    const bool pending = row && any_pending.Int(0) != 0;
    any_pending.Reset();
    for (const PredictionSummary& p : predictions) {
      insert.Bind(tenant, p.deployment_id, p.offset, p.request_id, p.timestamp_ms, p.config_id,
                  p.window_start_ms, p.prediction_json);
      if (p.score) {
        insert.BindDouble(9, *p.score);
      } else {
        insert.BindNull(9);
      }
      if (p.subject_id) {
        insert.BindText(10, *p.subject_id);
      } else {
        insert.BindNull(10);
      }
      RETURN_IF_ERROR(insert.Run());
      insert.Reset();
    }
    if (!pending) return Status::Ok();
    // Labels that arrived before their predictions: join them now.
    ASSIGN_OR_RETURN(Statement find,
                     db.Prepare("SELECT label, received_at, deployment_id FROM pending_labels "
                                "WHERE tenant_id = ? AND request_id = ? AND (deployment_id = '' "
                                "OR deployment_id = ?)"));
    ASSIGN_OR_RETURN(Statement set,
                     db.Prepare("UPDATE monitor_predictions SET label = ?, labeled_at = ? WHERE "
                                "tenant_id = ? AND deployment_id = ? AND log_offset = ?"));
    ASSIGN_OR_RETURN(Statement drop,
                     db.Prepare("DELETE FROM pending_labels WHERE tenant_id = ? AND request_id = "
                                "? AND deployment_id = ?"));
    for (const PredictionSummary& p : predictions) {
      find.Bind(tenant, p.request_id, p.deployment_id);
      ASSIGN_OR_RETURN(bool found, find.Step());
      if (!found) {
        find.Reset();
        continue;
      }
      PredictionSummary labeled = p;
      labeled.label_json = find.Text(0);
      labeled.labeled_at_ms = find.Int(1);
      const std::string pending_deployment = find.Text(2);
      find.Reset();
      RETURN_IF_ERROR(
          set.Bind(*labeled.label_json, labeled.labeled_at_ms, tenant, p.deployment_id, p.offset)
              .Run());
      set.Reset();
      RETURN_IF_ERROR(drop.Bind(tenant, p.request_id, pending_deployment).Run());
      drop.Reset();
      joined.push_back(std::move(labeled));
    }
    return Status::Ok();
  }));
  return joined;
}

StatusOr<std::vector<LabelMatch>> SqlMonitorStore::AttachLabels(std::string_view tenant,
                                                                std::span<const LabelInput> labels,
                                                                int64_t now_ms) {
  std::vector<LabelMatch> out;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    out.clear();
    ASSIGN_OR_RETURN(Statement find,
                     db.Prepare(Sql("SELECT ", kSummaryColumns,
                                    " FROM monitor_predictions WHERE tenant_id = ? AND "
                                    "request_id = ? AND (? = '' OR deployment_id = ?)")));
    ASSIGN_OR_RETURN(Statement set,
                     db.Prepare("UPDATE monitor_predictions SET label = ?, labeled_at = ? WHERE "
                                "tenant_id = ? AND request_id = ? AND (? = '' OR deployment_id = "
                                "?)"));
    ASSIGN_OR_RETURN(Statement keep,
                     db.Prepare("INSERT INTO pending_labels (tenant_id, request_id, "
                                "deployment_id, label, received_at) VALUES (?, ?, ?, ?, ?) ON "
                                "CONFLICT (tenant_id, request_id, deployment_id) DO UPDATE SET "
                                "label = excluded.label, received_at = excluded.received_at"));
    for (const LabelInput& label : labels) {
      const std::string deployment = label.deployment_id.value_or("");
      LabelMatch match;
      match.request_id = label.request_id;
      find.Bind(tenant, label.request_id, deployment, deployment);
      RETURN_IF_ERROR(
          Collect(find, match.matched, [](const Statement& st) { return ReadSummary(st); }));
      find.Reset();
      if (match.matched.empty()) {
        RETURN_IF_ERROR(
            keep.Bind(tenant, label.request_id, deployment, label.label_json, now_ms).Run());
        keep.Reset();
      } else {
        RETURN_IF_ERROR(
            set.Bind(label.label_json, now_ms, tenant, label.request_id, deployment, deployment)
                .Run());
        set.Reset();
        for (PredictionSummary& p : match.matched) {
          p.label_json = label.label_json;
          p.labeled_at_ms = now_ms;
        }
      }
      out.push_back(std::move(match));
    }
    return Status::Ok();
  }));
  return out;
}

StatusOr<std::vector<PredictionSummary>> SqlMonitorStore::LabeledPredictions(
    std::string_view tenant, std::string_view config_id, std::string_view deployment_id,
    int64_t window_start_ms) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<std::vector<PredictionSummary>> {
    ASSIGN_OR_RETURN(Statement s, db.Prepare(Sql("SELECT ", kSummaryColumns,
                                                 " FROM monitor_predictions WHERE tenant_id = ? "
                                                 "AND config_id = ? AND deployment_id = ? AND "
                                                 "window_start = ? AND label IS NOT NULL ORDER "
                                                 "BY log_offset")));
    s.Bind(tenant, config_id, deployment_id, window_start_ms);
    std::vector<PredictionSummary> out;
    RETURN_IF_ERROR(Collect(s, out, [](const Statement& st) { return ReadSummary(st); }));
    return out;
  });
}

StatusOr<std::vector<PredictionSummary>> SqlMonitorStore::PredictionsOfSubject(
    std::string_view tenant, std::string_view subject_id, int limit) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<std::vector<PredictionSummary>> {
    ASSIGN_OR_RETURN(Statement s, db.Prepare(Sql("SELECT ", kSummaryColumns,
                                                 " FROM monitor_predictions WHERE tenant_id = ? "
                                                 "AND subject_id = ? ORDER BY timestamp_ms, "
                                                 "log_offset LIMIT ?")));
    s.Bind(tenant, subject_id, static_cast<int64_t>(limit));
    std::vector<PredictionSummary> out;
    RETURN_IF_ERROR(Collect(s, out, [](const Statement& st) { return ReadSummary(st); }));
    return out;
  });
}

StatusOr<int64_t> SqlMonitorStore::DeleteSubject(std::string_view tenant,
                                                 std::string_view subject_id) {
  int64_t deleted = 0;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    // Erased rows must not stay readable in free pages of the file. (PostgreSQL keeps deleted
    // rows until VACUUM reclaims them; autovacuum does so on its own schedule.)
    if (db.dialect() == sql::Dialect::kSqlite) {
      RETURN_IF_ERROR(db.Exec("PRAGMA secure_delete = ON"));
    }
    ASSIGN_OR_RETURN(Statement pending,
                     db.Prepare("DELETE FROM pending_labels WHERE tenant_id = ? AND request_id IN "
                                "(SELECT request_id FROM monitor_predictions WHERE tenant_id = ? "
                                "AND subject_id = ?)"));
    RETURN_IF_ERROR(pending.Bind(tenant, tenant, subject_id).Run());
    ASSIGN_OR_RETURN(Statement s, db.Prepare("DELETE FROM monitor_predictions WHERE tenant_id = ? "
                                             "AND subject_id = ?"));
    RETURN_IF_ERROR(s.Bind(tenant, subject_id).Run());
    deleted = db.Changes();
    return Status::Ok();
  }));
  // The deleted rows' old pages are still in the WAL until it is checkpointed and truncated.
  RETURN_IF_ERROR(db_->CompactAfterErase());
  return deleted;
}

StatusOr<int64_t> SqlMonitorStore::DeletePredictionsBefore(int64_t before_ms) {
  int64_t deleted = 0;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("DELETE FROM monitor_predictions WHERE timestamp_ms < ?"));
    RETURN_IF_ERROR(s.Bind(before_ms).Run());
    deleted = db.Changes();
    ASSIGN_OR_RETURN(Statement pending,
                     db.Prepare("DELETE FROM pending_labels WHERE received_at < ?"));
    return pending.Bind(before_ms).Run();
  }));
  return deleted;
}

Status SqlMonitorStore::DeleteDeploymentData(std::string_view tenant,
                                             std::string_view deployment_id) {
  return db_->Write([&](Connection& db) -> Status {
    for (std::string_view table : {"monitor_predictions", "reference_profiles", "monitor_windows",
                                   "monitor_state", "pending_labels"}) {
      ASSIGN_OR_RETURN(Statement s, db.Prepare(Sql("DELETE FROM ", table,
                                                   " WHERE tenant_id = ? AND deployment_id = ?")));
      RETURN_IF_ERROR(s.Bind(tenant, deployment_id).Run());
    }
    return Status::Ok();
  });
}

Status SqlMonitorStore::PutAlert(std::string_view tenant, const AlertRecord& a) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(
        Statement s,
        db.Prepare(Sql(
            "INSERT INTO alerts (tenant_id, ", kAlertColumns,
            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?, ?, ?) ON CONFLICT (alert_id) DO UPDATE SET "
            "tenant_id = excluded.tenant_id, config_id = excluded.config_id, model_name = "
            "excluded.model_name, deployment_id = excluded.deployment_id, kind = excluded.kind, "
            "severity = excluded.severity, state = excluded.state, first_window_start = "
            "excluded.first_window_start, last_window_start = excluded.last_window_start, fired_at "
            "= excluded.fired_at, updated_at = excluded.updated_at, resolved_at = "
            "excluded.resolved_at, acknowledged_by = excluded.acknowledged_by, acknowledged_at = "
            "excluded.acknowledged_at, details = excluded.details")));
    return s
        .Bind(tenant, a.id, a.config_id, a.model_name, a.deployment_id, a.kind, a.severity, a.state,
              a.first_window_start_ms, a.last_window_start_ms, a.fired_at_ms, a.updated_at_ms,
              a.resolved_at_ms, a.acknowledged_by, a.acknowledged_at_ms, a.details_json)
        .Run();
  });
}

StatusOr<AlertRecord> SqlMonitorStore::GetAlert(std::string_view tenant, std::string_view id) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<AlertRecord> {
    ASSIGN_OR_RETURN(Statement s, db.Prepare(Sql("SELECT ", kAlertColumns,
                                                 " FROM alerts WHERE tenant_id = ? AND "
                                                 "alert_id = ?")));
    ASSIGN_OR_RETURN(bool row, s.Bind(tenant, id).Step());
    if (!row) return NotFound("Alert '" + std::string(id) + "' not found");
    return ReadAlert(s);
  });
}

StatusOr<std::optional<AlertRecord>> SqlMonitorStore::FindFiringAlert(
    std::string_view tenant, std::string_view config_id, std::string_view deployment_id,
    std::string_view kind) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<std::optional<AlertRecord>> {
    ASSIGN_OR_RETURN(Statement s, db.Prepare(Sql("SELECT ", kAlertColumns,
                                                 " FROM alerts WHERE tenant_id = ? AND config_id "
                                                 "= ? AND deployment_id = ? AND kind = ? AND "
                                                 "state = 'firing' ORDER BY fired_at DESC LIMIT "
                                                 "1")));
    ASSIGN_OR_RETURN(bool row, s.Bind(tenant, config_id, deployment_id, kind).Step());
    if (!row) return std::optional<AlertRecord>();
    return std::optional<AlertRecord>(ReadAlert(s));
  });
}

StatusOr<std::vector<AlertRecord>> SqlMonitorStore::ListAlerts(std::string_view tenant,
                                                               const AlertFilter& f) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<std::vector<AlertRecord>> {
    ASSIGN_OR_RETURN(
        Statement s,
        db.Prepare(Sql(
            "SELECT ", kAlertColumns,
            " FROM alerts WHERE tenant_id = ? AND (CAST(? AS TEXT) IS NULL OR model_name = ?) AND "
            "(CAST(? AS TEXT) IS NULL OR deployment_id = ?) AND "
            "(CAST(? AS TEXT) IS NULL OR kind = ?) AND (CAST(? AS TEXT) IS NULL OR state = ?) AND "
            "fired_at >= ? "
            "AND (? = 0 OR fired_at < ?) ORDER BY fired_at DESC, alert_id LIMIT ?")));
    s.Bind(tenant, f.model_name, f.model_name, f.deployment_id, f.deployment_id, f.kind, f.kind,
           f.state, f.state, f.from_ms, f.to_ms, f.to_ms, static_cast<int64_t>(f.limit));
    std::vector<AlertRecord> out;
    RETURN_IF_ERROR(Collect(s, out, [](const Statement& st) { return ReadAlert(st); }));
    return out;
  });
}

Status SqlMonitorStore::PutAction(std::string_view tenant, const ActionRecord& a) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(
        Statement s,
        db.Prepare(Sql("INSERT INTO monitor_actions (tenant_id, ", kActionColumns,
                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
                       "(action_id) DO UPDATE SET tenant_id = excluded.tenant_id, "
                       "alert_id = excluded.alert_id, config_id = excluded.config_id, action = "
                       "excluded.action, target = excluded.target, status = excluded.status, "
                       "attempts = excluded.attempts, detail = excluded.detail, created_at = "
                       "excluded.created_at, updated_at = excluded.updated_at")));
    return s
        .Bind(tenant, a.id, a.alert_id, a.config_id, a.action, a.target, a.status,
              static_cast<int64_t>(a.attempts), a.detail_json, a.created_at_ms, a.updated_at_ms)
        .Run();
  });
}

StatusOr<std::vector<ActionRecord>> SqlMonitorStore::ListActions(std::string_view tenant,
                                                                 std::string_view alert_id,
                                                                 std::string_view config_id,
                                                                 std::string_view action,
                                                                 int limit) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<std::vector<ActionRecord>> {
    ASSIGN_OR_RETURN(Statement s, db.Prepare(Sql("SELECT ", kActionColumns,
                                                 " FROM monitor_actions WHERE tenant_id = ? AND "
                                                 "(? = '' OR alert_id = ?) AND (? = '' OR "
                                                 "config_id = ?) AND (? = '' OR action = ?) "
                                                 "ORDER BY created_at DESC, action_id LIMIT ?")));
    s.Bind(tenant, alert_id, alert_id, config_id, config_id, action, action,
           static_cast<int64_t>(limit));
    std::vector<ActionRecord> out;
    RETURN_IF_ERROR(Collect(s, out, [](const Statement& st) { return ReadAction(st); }));
    return out;
  });
}

}  // namespace cairn::metadata
