// SqlTraceStore: trace infos with tags and request metadata, and their spans.

#include "metadata/sql/sql_trace_store.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "metadata/names.h"
#include "metadata/sql/sql_search.h"
#include "metadata/sql/sql_tracking_helpers.h"
#include "metadata/store_rules.h"

namespace cairn::metadata {
namespace {

using ::cairn::sql::Connection;
using ::cairn::sql::JsonArray;
using ::cairn::sql::Statement;
using sql_store::ChildRows;
using sql_store::KeyValueTable;
using sql_store::RunPagedQuery;

constexpr std::string_view kArtifactLocationTag = "mlflow.artifactLocation";
constexpr std::string_view kSpansLocationTag = "mlflow.trace.spansLocation";
constexpr std::string_view kSpansInTrackingStore = "TRACKING_STORE";
constexpr std::string_view kInfoFinalizedMetadata = "mlflow.trace.infoFinalized";
constexpr int64_t kNanosPerMilli = 1000000;

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
    RETURN_IF_ERROR(children.Attach(std::string("SELECT trace_id, key, value FROM ") + table +
                                        " WHERE tenant_id = ? AND trace_id " +
                                        sql::InJsonTexts(db.dialect()) + " ORDER BY trace_id, key",
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

std::string TraceArtifactLocation(const Experiment& experiment, std::string_view trace_id) {
  return experiment.artifact_location + "/traces/" + std::string(trace_id) + "/artifacts";
}

// What one batch says about one trace.
struct SpanAggregate {
  int64_t min_start_ms = std::numeric_limits<int64_t>::max();
  std::optional<int64_t> max_end_ms;
  std::optional<TraceState> root_state;
  const RootSpanPreview* preview = nullptr;
};

}  // namespace

SqlTraceStore::SqlTraceStore(std::shared_ptr<sql::Database> db)
    : db_(std::move(db)), dialect_(sql_store::MakeSearchDialect(db_->dialect())) {}

StatusOr<TraceInfo> SqlTraceStore::StartTrace(std::string_view tenant, const TraceInfo& info) {
  TraceInfo stored;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Experiment experiment,
                     sql_store::RequireActiveExperiment(db, tenant, info.experiment_id));
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
    RETURN_IF_ERROR(location
                        .Bind(tenant, info.trace_id, kArtifactLocationTag,
                              TraceArtifactLocation(experiment, info.trace_id))
                        .Run());
    ASSIGN_OR_RETURN(stored, RequireTrace(db, tenant, info.trace_id));
    return Status::Ok();
  }));
  return stored;
}

StatusOr<TraceInfo> SqlTraceStore::GetTraceInfo(std::string_view tenant,
                                                std::string_view trace_id) {
  return db_->ReadValue([&](Connection& db) { return RequireTrace(db, tenant, trace_id); });
}

StatusOr<ResultPage<TraceInfo>> SqlTraceStore::SearchTraces(std::string_view tenant,
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
  // With the trace_run_links rows as mlflow.sourceRun entries: run_id finds linked traces too.
  schema.metadata = KeyValueTable("trace_metadata_and_run_links", "trace_id", tenant);
  // Span clauses, as in MLflow's SQL store: name, type and status are columns; an attribute is a
  // pattern over the span JSON (`"<name>"<value>`). All span clauses of a filter must hold for
  // one span of the trace, so they share one EXISTS (below), and the schema never sees them.
  auto span_condition = [this](const filter::Clause& clause,
                               SqlParams& params) -> StatusOr<std::string> {
    filter::Clause c = clause;
    std::string column = "s." + clause.key;
    constexpr std::string_view kAttributes = "attributes.";
    if (clause.key.rfind(kAttributes, 0) == 0) {
      column = "s.content";
      std::string name = clause.key.substr(kAttributes.size());
      if (name.size() >= 2 && name.front() == '`' && name.back() == '`') {
        name = name.substr(1, name.size() - 2);
      }
      auto pattern = [&](const std::string& v) { return "%\"" + name + "\"" + v + "%"; };
      if (auto* text = std::get_if<std::string>(&c.value)) {
        *text = pattern(*text);
      } else if (auto* list = std::get_if<std::vector<std::string>>(&c.value)) {
        for (std::string& v : *list) v = pattern(v);
      }
    } else if (clause.key != "name" && clause.key != "type" && clause.key != "status" &&
               clause.key != "content") {
      return InvalidArgument("Invalid span attribute '" + clause.key + "'");
    }
    return CompileComparison(column, ValueKind::kString, c, dialect_, params, {});
  };
  filter::Filter others;
  std::vector<const filter::Clause*> span_clauses;
  for (const filter::Clause& clause : query.filter.clauses) {
    if (clause.entity == filter::Entity::kSpan) {
      span_clauses.push_back(&clause);
    } else {
      others.clauses.push_back(clause);
    }
  }

  SqlParams params(PlaceholderStyle::kQuestion);
  std::string sql = "SELECT " + std::string(kTraceColumns) + " FROM traces t WHERE t.tenant_id = ";
  sql += params.Add(std::string(tenant));
  sql += " AND t.experiment_id ";
  sql += sql::InJsonInts(db_->dialect(), params.Add(JsonArray(experiment_ids)));
  if (!span_clauses.empty()) {
    sql +=
        " AND EXISTS (SELECT 1 FROM spans s WHERE s.tenant_id = t.tenant_id AND s.trace_id = "
        "t.trace_id";
    for (const filter::Clause* clause : span_clauses) {
      ASSIGN_OR_RETURN(std::string condition, span_condition(*clause, params));
      sql += " AND " + condition;
    }
    sql += ")";
  }
  RETURN_IF_ERROR(AppendFilterAndOrder(sql, others, query.order_by, schema, dialect_, params,
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

Status SqlTraceStore::SetTraceTag(std::string_view tenant, std::string_view trace_id,
                                  const Tag& tag) {
  return db_->Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireTraceExists(db, tenant, trace_id));
    return UpsertTraceKeyValue(db, "trace_tags", tenant, trace_id, tag);
  });
}

Status SqlTraceStore::DeleteTraceTag(std::string_view tenant, std::string_view trace_id,
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

StatusOr<int64_t> SqlTraceStore::DeleteTraces(std::string_view tenant,
                                              const DeleteTracesRequest& request) {
  std::optional<int64_t> experiment_id = ParseExperimentId(request.experiment_id);
  if (!experiment_id) return int64_t{0};
  int64_t deleted = 0;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    if (!request.trace_ids.empty()) {
      ASSIGN_OR_RETURN(Statement s,
                       db.Prepare("DELETE FROM traces WHERE tenant_id = ? AND experiment_id = ? "
                                  "AND trace_id " +
                                  sql::InJsonTexts(db.dialect())));
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
                             request.max_traces.value_or(std::numeric_limits<int64_t>::max()))
                          .Run());
    }
    deleted = db.Changes();
    return Status::Ok();
  }));
  return deleted;
}

Status SqlTraceStore::LogSpans(std::string_view tenant, const SpanBatch& batch) {
  if (batch.spans.empty()) return Status::Ok();
  std::map<std::string, SpanAggregate> traces;  // sorted: a stable write order
  for (const Span& span : batch.spans) {
    SpanAggregate& agg = traces[span.trace_id];
    agg.min_start_ms = std::min(agg.min_start_ms, span.start_time_ns / kNanosPerMilli);
    if (span.end_time_ns) {
      agg.max_end_ms = std::max(agg.max_end_ms.value_or(0), *span.end_time_ns / kNanosPerMilli);
    }
    if (!span.parent_span_id) {
      agg.root_state = span.status == "ERROR" ? TraceState::kError : TraceState::kOk;
    }
  }
  for (const RootSpanPreview& preview : batch.previews) {
    auto it = traces.find(preview.trace_id);
    if (it != traces.end()) it->second.preview = &preview;
  }

  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement find,
                     db.Prepare("SELECT t.experiment_id, t.request_time, t.execution_duration, "
                                "t.state, EXISTS (SELECT 1 FROM trace_request_metadata m WHERE "
                                "m.tenant_id = t.tenant_id AND m.trace_id = t.trace_id AND m.key "
                                "= ?) FROM traces t WHERE t.tenant_id = ? AND t.trace_id = ?"));
    ASSIGN_OR_RETURN(
        Statement create,
        db.Prepare("INSERT INTO traces (tenant_id, trace_id, experiment_id, request_time, "
                   "execution_duration, state, request_preview, response_preview) VALUES (?, ?, "
                   "?, ?, ?, ?, ?, ?)"));
    ASSIGN_OR_RETURN(
        Statement update,
        db.Prepare("UPDATE traces SET request_time = ?, execution_duration = ?, state = ?, "
                   "request_preview = COALESCE(request_preview, ?), response_preview = "
                   "COALESCE(response_preview, ?) WHERE tenant_id = ? AND trace_id = ?"));
    ASSIGN_OR_RETURN(Statement tag,
                     db.Prepare("INSERT INTO trace_tags (tenant_id, trace_id, key, value) VALUES "
                                "(?, ?, ?, ?) ON CONFLICT (tenant_id, trace_id, key) DO UPDATE "
                                "SET value = excluded.value"));
    std::optional<Experiment> experiment;  // looked up once, when a trace must be created
    std::unordered_map<std::string, int64_t> experiment_of;
    for (const auto& [trace_id, agg] : traces) {
      std::optional<std::string> request_preview =
          agg.preview ? agg.preview->request_preview : std::nullopt;
      std::optional<std::string> response_preview =
          agg.preview ? agg.preview->response_preview : std::nullopt;
      find.Reset();
      find.Bind(kInfoFinalizedMetadata, tenant, trace_id);
      ASSIGN_OR_RETURN(bool found, find.Step());
      if (!found) {
        if (!experiment) {
          ASSIGN_OR_RETURN(experiment,
                           sql_store::RequireExperiment(db, tenant, batch.experiment_id));
        }
        int64_t experiment_id = *ParseExperimentId(experiment->experiment_id);
        std::optional<int64_t> duration;
        if (agg.max_end_ms) duration = *agg.max_end_ms - agg.min_start_ms;
        create.Reset();
        RETURN_IF_ERROR(create
                            .Bind(tenant, trace_id, experiment_id, agg.min_start_ms, duration,
                                  TraceStateName(agg.root_state.value_or(TraceState::kInProgress)),
                                  request_preview, response_preview)
                            .Run());
        tag.Reset();
        RETURN_IF_ERROR(tag.Bind(tenant, trace_id, kArtifactLocationTag,
                                 TraceArtifactLocation(*experiment, trace_id))
                            .Run());
        experiment_of[trace_id] = experiment_id;
      } else {
        experiment_of[trace_id] = find.Int(0);
        int64_t request_time = find.Int(1);
        std::optional<int64_t> duration = find.OptionalInt(2);
        TraceState state = TraceStateFromName(find.TextView(3)).value_or(TraceState::kUnspecified);
        bool finalized = find.Int(4) != 0;
        if (!finalized) {
          int64_t end = duration ? request_time + *duration : request_time;
          request_time = std::min(request_time, agg.min_start_ms);
          if (agg.max_end_ms) duration = std::max(end, *agg.max_end_ms) - request_time;
        }
        if ((state == TraceState::kInProgress || state == TraceState::kUnspecified) &&
            agg.root_state) {
          state = *agg.root_state;
        }
        update.Reset();
        RETURN_IF_ERROR(update
                            .Bind(request_time, duration, TraceStateName(state), request_preview,
                                  response_preview, tenant, trace_id)
                            .Run());
      }
      find.Reset();
      tag.Reset();
      RETURN_IF_ERROR(tag.Bind(tenant, trace_id, kSpansLocationTag, kSpansInTrackingStore).Run());
    }
    for (const TraceTagUpdate& update : batch.tags) {
      if (traces.count(update.trace_id) == 0) continue;
      tag.Reset();
      RETURN_IF_ERROR(tag.Bind(tenant, update.trace_id, update.tag.key, update.tag.value).Run());
    }

    ASSIGN_OR_RETURN(
        Statement upsert,
        db.Prepare("INSERT INTO spans (tenant_id, trace_id, span_id, experiment_id, "
                   "parent_span_id, name, type, status, start_time_unix_nano, "
                   "end_time_unix_nano, content) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON "
                   "CONFLICT (tenant_id, trace_id, span_id) DO UPDATE SET experiment_id = "
                   "excluded.experiment_id, parent_span_id = excluded.parent_span_id, name = "
                   "excluded.name, type = excluded.type, status = excluded.status, "
                   "start_time_unix_nano = excluded.start_time_unix_nano, end_time_unix_nano = "
                   "excluded.end_time_unix_nano, content = excluded.content"));
    for (const Span& span : batch.spans) {
      upsert.Reset();
      RETURN_IF_ERROR(upsert
                          .Bind(tenant, span.trace_id, span.span_id,
                                experiment_of.at(span.trace_id), span.parent_span_id, span.name,
                                span.type, span.status, span.start_time_ns, span.end_time_ns,
                                span.content)
                          .Run());
    }
    return Status::Ok();
  });
}

StatusOr<std::vector<Span>> SqlTraceStore::GetSpans(std::string_view tenant,
                                                    const std::vector<std::string>& trace_ids) {
  std::vector<Span> spans;
  if (trace_ids.empty()) return spans;
  RETURN_IF_ERROR(db_->Read([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(
        Statement s,
        db.Prepare("SELECT trace_id, span_id, experiment_id, parent_span_id, name, type, status, "
                   "start_time_unix_nano, end_time_unix_nano, content FROM spans WHERE "
                   "tenant_id = ? AND trace_id " +
                   sql::InJsonTexts(db.dialect()) +
                   " ORDER BY trace_id, parent_span_id IS NOT NULL, start_time_unix_nano, "
                   "span_id"));
    s.Bind(tenant, JsonArray(trace_ids));
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      Span span;
      span.trace_id = s.Text(0);
      span.span_id = s.Text(1);
      span.experiment_id = std::to_string(s.Int(2));
      span.parent_span_id = s.OptionalText(3);
      span.name = s.OptionalText(4).value_or("");
      span.type = s.OptionalText(5);
      span.status = s.Text(6);
      span.start_time_ns = s.Int(7);
      span.end_time_ns = s.OptionalInt(8);
      span.content = s.Text(9);
      spans.push_back(std::move(span));
    }
    return Status::Ok();
  }));
  // Group by trace in the order asked for (the query sorted by trace id).
  std::unordered_map<std::string, size_t> rank;
  for (size_t i = 0; i < trace_ids.size(); ++i) rank.emplace(trace_ids[i], i);
  std::stable_sort(spans.begin(), spans.end(), [&](const Span& a, const Span& b) {
    return rank.at(a.trace_id) < rank.at(b.trace_id);
  });
  return spans;
}

Status SqlTraceStore::ImportTraceInfo(std::string_view tenant, const TraceInfo& info) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Experiment experiment,
                     sql_store::RequireExperiment(db, tenant, info.experiment_id));
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
