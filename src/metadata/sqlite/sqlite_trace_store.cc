// SqliteTraceStore: trace infos with tags and request metadata.

#include "metadata/sqlite/sqlite_trace_store.h"

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "metadata/names.h"
#include "metadata/sqlite/sqlite_search.h"
#include "metadata/sqlite/sqlite_tracking_helpers.h"
#include "metadata/store_rules.h"

namespace cairn::metadata {
namespace {

using ::cairn::sqlite::Connection;
using ::cairn::sqlite::JsonArray;
using ::cairn::sqlite::Statement;
using sqlite_store::ChildRows;
using sqlite_store::KeyValueTable;
using sqlite_store::RunPagedQuery;

constexpr std::string_view kArtifactLocationTag = "mlflow.artifactLocation";

constexpr std::string_view kTraceColumns =
    "t.trace_id, t.experiment_id, t.client_request_id, t.request_time, t.execution_duration, "
    "t.state, t.request_preview, t.response_preview";

TraceInfo ReadTrace(const Statement& s) {
  TraceInfo t;
  t.trace_id = s.Text(0);
  t.experiment_id = std::to_string(s.Int(1));
  t.client_request_id = s.OptionalText(2);
  t.request_time_ms = s.Int(3);
  t.execution_duration_ms = s.OptionalInt(4);
  t.state = TraceStateFromName(s.TextView(5)).value_or(TraceState::kUnspecified);
  t.request_preview = s.OptionalText(6);
  t.response_preview = s.OptionalText(7);
  return t;
}

// Fills tags and metadata of `traces`, one query per table.
Status LoadTraceChildren(Connection& db, std::string_view tenant, std::vector<TraceInfo>& traces) {
  if (traces.empty()) return Status::Ok();
  ChildRows<TraceInfo> children(
      db, traces, [](const TraceInfo& t) { return t.trace_id; }, tenant);
  for (const auto& [table, member] :
       {std::pair{"trace_tags", &TraceInfo::tags},
        std::pair{"trace_request_metadata", &TraceInfo::trace_metadata}}) {
    RETURN_IF_ERROR(children.Attach(
        std::string("SELECT trace_id, key, value FROM ") + table +
            " WHERE tenant_id = ? AND trace_id IN (SELECT value FROM json_each(?)) ORDER BY "
            "trace_id, key",
        [member = member](TraceInfo& t, const Statement& s) {
          (t.*member).push_back({s.Text(1), s.Text(2)});
        }));
  }
  return Status::Ok();
}

StatusOr<TraceInfo> RequireTrace(Connection& db, std::string_view tenant,
                                 std::string_view trace_id) {
  ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT " + std::string(kTraceColumns) +
                                           " FROM traces t WHERE t.tenant_id = ? AND "
                                           "t.trace_id = ?"));
  s.Bind(tenant, trace_id);
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return TraceNotFound(trace_id);
  std::vector<TraceInfo> one = {ReadTrace(s)};
  RETURN_IF_ERROR(LoadTraceChildren(db, tenant, one));
  return std::move(one.front());
}

Status RequireTraceExists(Connection& db, std::string_view tenant, std::string_view trace_id) {
  ASSIGN_OR_RETURN(Statement s,
                   db.Prepare("SELECT 1 FROM traces WHERE tenant_id = ? AND trace_id = ?"));
  s.Bind(tenant, trace_id);
  ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? Status::Ok() : TraceNotFound(trace_id);
}

Status UpsertTraceKeyValue(Connection& db, std::string_view table, std::string_view tenant,
                           std::string_view trace_id, const Tag& tag) {
  ASSIGN_OR_RETURN(Statement s,
                   db.Prepare("INSERT INTO " + std::string(table) +
                              " (tenant_id, trace_id, key, value) VALUES (?, ?, ?, ?) ON "
                              "CONFLICT (tenant_id, trace_id, key) DO UPDATE SET value = "
                              "excluded.value"));
  return s.Bind(tenant, trace_id, tag.key, tag.value).Run();
}

}  // namespace

SqliteTraceStore::SqliteTraceStore(std::shared_ptr<sqlite::Database> db)
    : db_(std::move(db)), dialect_(sqlite_store::MakeSqliteDialect()) {}

StatusOr<TraceInfo> SqliteTraceStore::StartTrace(std::string_view tenant, const TraceInfo& info) {
  TraceInfo stored;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Experiment experiment,
                     sqlite_store::RequireActiveExperiment(db, tenant, info.experiment_id));
    ASSIGN_OR_RETURN(
        Statement s,
        db.Prepare("INSERT INTO traces (tenant_id, trace_id, experiment_id, client_request_id, "
                   "request_time, execution_duration, state, request_preview, response_preview) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, trace_id) DO "
                   "UPDATE SET experiment_id = excluded.experiment_id, client_request_id = "
                   "excluded.client_request_id, request_time = excluded.request_time, "
                   "execution_duration = excluded.execution_duration, state = excluded.state, "
                   "request_preview = excluded.request_preview, response_preview = "
                   "excluded.response_preview"));
    RETURN_IF_ERROR(s.Bind(tenant, info.trace_id, *ParseExperimentId(info.experiment_id),
                           info.client_request_id, info.request_time_ms, info.execution_duration_ms,
                           TraceStateName(info.state), info.request_preview, info.response_preview)
                        .Run());
    for (const Tag& tag : info.tags) {
      RETURN_IF_ERROR(UpsertTraceKeyValue(db, "trace_tags", tenant, info.trace_id, tag));
    }
    for (const Tag& entry : info.trace_metadata) {
      RETURN_IF_ERROR(
          UpsertTraceKeyValue(db, "trace_request_metadata", tenant, info.trace_id, entry));
    }
    ASSIGN_OR_RETURN(Statement location,
                     db.Prepare("INSERT INTO trace_tags (tenant_id, trace_id, key, value) VALUES "
                                "(?, ?, ?, ?) ON CONFLICT (tenant_id, trace_id, key) DO NOTHING"));
    RETURN_IF_ERROR(
        location
            .Bind(tenant, info.trace_id, kArtifactLocationTag,
                  experiment.artifact_location + "/traces/" + info.trace_id + "/artifacts")
            .Run());
    ASSIGN_OR_RETURN(stored, RequireTrace(db, tenant, info.trace_id));
    return Status::Ok();
  }));
  return stored;
}

StatusOr<TraceInfo> SqliteTraceStore::GetTraceInfo(std::string_view tenant,
                                                   std::string_view trace_id) {
  return db_->ReadValue([&](Connection& db) { return RequireTrace(db, tenant, trace_id); });
}

StatusOr<ResultPage<TraceInfo>> SqliteTraceStore::SearchTraces(std::string_view tenant,
                                                               const SearchTracesQuery& query) {
  std::vector<int64_t> experiment_ids;
  for (const std::string& id : query.experiment_ids) {
    if (auto parsed = ParseExperimentId(id)) experiment_ids.push_back(*parsed);
  }
  if (experiment_ids.empty()) return ResultPage<TraceInfo>{};

  // name, prompt and run_id arrive as the tag or metadata entry they are (filter.h).
  SearchSchema schema;
  schema.id_expr = "t.trace_id";
  schema.attributes = {
      {"request_id", {"t.trace_id", ValueKind::kString, /*allow_in=*/true}},
      {"timestamp_ms", {"t.request_time", ValueKind::kNumber}},
      {"execution_time_ms", {"t.execution_duration", ValueKind::kNumber}},
      {"end_time_ms", {"(t.request_time + t.execution_duration)", ValueKind::kNumber}},
      {"status", {"t.state", ValueKind::kString, /*allow_in=*/true}},
      {"client_request_id", {"t.client_request_id", ValueKind::kString, /*allow_in=*/true}},
      {"experiment_id", {"t.experiment_id", ValueKind::kNumber}},
  };
  schema.tags = KeyValueTable("trace_tags", "trace_id", tenant);
  schema.metadata = KeyValueTable("trace_request_metadata", "trace_id", tenant);

  SqlParams params(PlaceholderStyle::kQuestion);
  std::string sql = "SELECT " + std::string(kTraceColumns) + " FROM traces t WHERE t.tenant_id = ";
  sql += params.Add(std::string(tenant));
  sql += " AND t.experiment_id IN (SELECT value FROM json_each(";
  sql += params.Add(JsonArray(experiment_ids));
  sql += "))";
  RETURN_IF_ERROR(AppendFilterAndOrder(sql, query.filter, query.order_by, schema, dialect_, params,
                                       "t.request_time DESC, t.trace_id ASC",
                                       {{"request_id", "t.trace_id ASC"}}));

  ResultPage<TraceInfo> page;
  RETURN_IF_ERROR(db_->Read([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(page,
                     RunPagedQuery<TraceInfo>(db, sql, params, query.page,
                                              [](const Statement& s) { return ReadTrace(s); }));
    return LoadTraceChildren(db, tenant, page.items);
  }));
  return page;
}

Status SqliteTraceStore::SetTraceTag(std::string_view tenant, std::string_view trace_id,
                                     const Tag& tag) {
  return db_->Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireTraceExists(db, tenant, trace_id));
    return UpsertTraceKeyValue(db, "trace_tags", tenant, trace_id, tag);
  });
}

Status SqliteTraceStore::DeleteTraceTag(std::string_view tenant, std::string_view trace_id,
                                        std::string_view key) {
  return db_->Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireTraceExists(db, tenant, trace_id));
    ASSIGN_OR_RETURN(Statement del, db.Prepare("DELETE FROM trace_tags WHERE tenant_id = ? AND "
                                               "trace_id = ? AND key = ?"));
    RETURN_IF_ERROR(del.Bind(tenant, trace_id, key).Run());
    if (db.Changes() == 0) {
      return NotFound("No trace tag with key '" + std::string(key) + "' for trace with ID '" +
                      std::string(trace_id) + "'");
    }
    return Status::Ok();
  });
}

StatusOr<int64_t> SqliteTraceStore::DeleteTraces(std::string_view tenant,
                                                 const DeleteTracesRequest& request) {
  std::optional<int64_t> experiment_id = ParseExperimentId(request.experiment_id);
  if (!experiment_id) return int64_t{0};
  int64_t deleted = 0;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    if (!request.trace_ids.empty()) {
      ASSIGN_OR_RETURN(Statement s,
                       db.Prepare("DELETE FROM traces WHERE tenant_id = ? AND experiment_id = ? "
                                  "AND trace_id IN (SELECT value FROM json_each(?))"));
      RETURN_IF_ERROR(s.Bind(tenant, *experiment_id, JsonArray(request.trace_ids)).Run());
    } else {
      // The oldest first, so that max_traces keeps the newest.
      ASSIGN_OR_RETURN(
          Statement s,
          db.Prepare("DELETE FROM traces WHERE tenant_id = ? AND trace_id IN (SELECT trace_id "
                     "FROM traces WHERE tenant_id = ? AND experiment_id = ? AND request_time <= ? "
                     "ORDER BY request_time, trace_id LIMIT ?)"));
      RETURN_IF_ERROR(s.Bind(tenant, tenant, *experiment_id,
                             request.max_timestamp_ms.value_or(std::numeric_limits<int64_t>::max()),
                             request.max_traces.value_or(-1))
                          .Run());
    }
    deleted = db.Changes();
    return Status::Ok();
  }));
  return deleted;
}

Status SqliteTraceStore::ImportTraceInfo(std::string_view tenant, const TraceInfo& info) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Experiment experiment,
                     sqlite_store::RequireExperiment(db, tenant, info.experiment_id));
    {
      ASSIGN_OR_RETURN(Statement taken,
                       db.Prepare("SELECT 1 FROM traces WHERE tenant_id = ? AND trace_id = ?"));
      taken.Bind(tenant, info.trace_id);
      ASSIGN_OR_RETURN(bool row, taken.Step());
      if (row) return AlreadyExists("Trace with ID '" + info.trace_id + "' already exists.");
    }
    ASSIGN_OR_RETURN(
        Statement s,
        db.Prepare("INSERT INTO traces (tenant_id, trace_id, experiment_id, client_request_id, "
                   "request_time, execution_duration, state, request_preview, response_preview) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    RETURN_IF_ERROR(s.Bind(tenant, info.trace_id, *ParseExperimentId(experiment.experiment_id),
                           info.client_request_id, info.request_time_ms, info.execution_duration_ms,
                           TraceStateName(info.state), info.request_preview, info.response_preview)
                        .Run());
    for (const Tag& tag : info.tags) {
      RETURN_IF_ERROR(UpsertTraceKeyValue(db, "trace_tags", tenant, info.trace_id, tag));
    }
    for (const Tag& entry : info.trace_metadata) {
      RETURN_IF_ERROR(
          UpsertTraceKeyValue(db, "trace_request_metadata", tenant, info.trace_id, entry));
    }
    return Status::Ok();
  });
}

}  // namespace cairn::metadata
