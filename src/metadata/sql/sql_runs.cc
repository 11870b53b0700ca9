// Runs of SqlTrackingStore: creation, batches of metrics, params and tags, history, search,
// inputs and outputs.

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>
#include <unordered_map>

#include "metadata/names.h"
#include "metadata/sql/sql_metric_history.h"
#include "metadata/sql/sql_search.h"
#include "metadata/sql/sql_tracking_helpers.h"
#include "metadata/sql/sql_tracking_store.h"
#include "metadata/store_rules.h"

namespace cairn::metadata {

using namespace sql_store;  // NOLINT(google-build-using-namespace): this backend's helpers

// ---- Runs ----

StatusOr<Run> SqlTrackingStore::CreateRun(std::string_view tenant, const RunInfo& info,
                                          const std::vector<Tag>& tags) {
  Run run;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    // Sent before the experiment's check and read after it: both share one round trip.
    ASSIGN_OR_RETURN(Statement taken, db.Prepare("SELECT 1 FROM runs WHERE run_uuid = ?"));
    taken.Bind(info.run_id);
    RETURN_IF_ERROR(taken.Send());
    ASSIGN_OR_RETURN(Experiment e, RequireActiveExperiment(db, tenant, info.experiment_id));
    {
      ASSIGN_OR_RETURN(bool row, taken.Step());
      if (row) return AlreadyExists("Run with id=" + info.run_id + " already exists");
    }
    const std::string artifact_uri = info.artifact_uri.empty()
                                         ? e.artifact_location + "/" + info.run_id + "/artifacts"
                                         : info.artifact_uri;
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
                                info.end_time, artifact_uri)
                          .Run());
    }
    // The run is what was just written (what LoadRun would read back): its tags in the order
    // of their first write (seq), each with its last value.
    run = Run{};
    run.info.run_id = info.run_id;
    run.info.experiment_id = e.experiment_id;
    run.info.run_name = name;
    run.info.user_id = info.user_id;
    run.info.status = info.status;
    run.info.start_time = info.start_time;
    run.info.end_time = info.end_time;
    run.info.artifact_uri = artifact_uri;
    run.info.lifecycle_stage = LifecycleStage::kActive;
    auto upsert = [&](std::string_view key, std::string_view value) -> Status {
      RETURN_IF_ERROR(UpsertRunTag(db, tenant, info.run_id, key, value));
      for (Tag& tag : run.tags) {
        if (tag.key == key) {
          tag.value = std::string(value);
          return Status::Ok();
        }
      }
      run.tags.push_back({std::string(key), std::string(value)});
      return Status::Ok();
    };
    // Tags keep the order given (the mlflow.runName tag where it is, holding the run name).
    bool name_written = false;
    for (const Tag& tag : tags) {
      if (tag.key == kRunNameTag) {
        if (name_written || name.empty()) continue;
        RETURN_IF_ERROR(upsert(kRunNameTag, name));
        name_written = true;
        continue;
      }
      RETURN_IF_ERROR(upsert(tag.key, tag.value));
    }
    if (!name.empty() && !name_written) RETURN_IF_ERROR(upsert(kRunNameTag, name));
    return Status::Ok();
  }));
  return run;
}

StatusOr<Run> SqlTrackingStore::GetRun(std::string_view tenant, std::string_view run_id) {
  return db_->ReadValue([&](Connection& db) { return LoadRun(db, tenant, run_id); });
}

StatusOr<RunInfo> SqlTrackingStore::UpdateRun(std::string_view tenant, std::string_view run_id,
                                              std::optional<RunStatus> status,
                                              std::optional<int64_t> end_time,
                                              std::optional<std::string> run_name) {
  RunInfo info;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
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

Status SqlTrackingStore::DeleteRun(std::string_view tenant, std::string_view run_id,
                                   int64_t now_ms) {
  return db_->Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireRun(db, tenant, run_id).status());
    ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE runs SET lifecycle_stage = 'deleted', "
                                             "deleted_time = ? WHERE run_uuid = ?"));
    return s.Bind(now_ms, run_id).Run();
  });
}

Status SqlTrackingStore::RestoreRun(std::string_view tenant, std::string_view run_id) {
  return db_->Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireRun(db, tenant, run_id).status());
    ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE runs SET lifecycle_stage = 'active', "
                                             "deleted_time = NULL WHERE run_uuid = ?"));
    return s.Bind(run_id).Run();
  });
}

namespace {

// Writes a batch to a run that exists, whatever its state (LogBatch and ImportRun).
Status WriteRunRows(Connection& db, std::string_view tenant, std::string_view run_id,
                    int64_t experiment_id, const std::vector<Metric>& metrics,
                    const std::vector<Param>& params, const std::vector<Tag>& tags) {
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
      if (LatestMetricKey(m) > LatestMetricKey(*entry.best)) entry.best = &m;
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
      RETURN_IF_ERROR(sql_store::AppendMetricChunk(db, tenant, run_id, entry.key, entry.points));
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
}

// LogBatch's transaction body, shared by the waiting and the asynchronous form.
Status WriteRunBatch(Connection& db, std::string_view tenant, std::string_view run_id,
                     const std::vector<Metric>& metrics, const std::vector<Param>& params,
                     const std::vector<Tag>& tags) {
  bool model_metrics = std::any_of(metrics.begin(), metrics.end(),
                                   [](const Metric& m) { return m.model_id.has_value(); });
  if (!model_metrics && db.DeferChecks()) {
    // The run's check as a statement that fails (division by zero) unless the run is active in
    // this tenant: nothing waits for it. A failed write runs again, checking by reading.
    ASSIGN_OR_RETURN(Statement check,
                     db.Prepare("SELECT 1 / (SELECT COUNT(*) FROM runs WHERE run_uuid = ? AND "
                                "tenant_id = ? AND lifecycle_stage = 'active')"));
    RETURN_IF_ERROR(check.Bind(run_id, tenant).Run());
    // The experiment id serves only metrics of logged models.
    return WriteRunRows(db, tenant, run_id, /*experiment_id=*/0, metrics, params, tags);
  }
  ASSIGN_OR_RETURN(int64_t experiment_id, RequireActiveRun(db, tenant, run_id));
  return WriteRunRows(db, tenant, run_id, experiment_id, metrics, params, tags);
}

}  // namespace

Status SqlTrackingStore::LogBatch(std::string_view tenant, std::string_view run_id,
                                  const std::vector<Metric>& metrics,
                                  const std::vector<Param>& params, const std::vector<Tag>& tags) {
  return db_->Write(
      [&](Connection& db) { return WriteRunBatch(db, tenant, run_id, metrics, params, tags); });
}

void SqlTrackingStore::LogBatchAsync(std::string tenant, RunBatch batch,
                                     std::function<void(Status)> done) {
  auto owned =
      std::make_shared<std::pair<std::string, RunBatch>>(std::move(tenant), std::move(batch));
  db_->WriteAsync(
      [owned](Connection& db) {
        const RunBatch& b = owned->second;
        return WriteRunBatch(db, owned->first, b.run_id, b.metrics, b.params, b.tags);
      },
      std::move(done));
}

Status SqlTrackingStore::DeleteRunTag(std::string_view tenant, std::string_view run_id,
                                      std::string_view key) {
  return db_->Write([&](Connection& db) -> Status {
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

StatusOr<ResultPage<Metric>> SqlTrackingStore::GetMetricHistory(std::string_view tenant,
                                                                std::string_view run_id,
                                                                std::string_view key,
                                                                const Page& page) {
  ResultPage<Metric> result;
  RETURN_IF_ERROR(db_->Read([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireRun(db, tenant, run_id).status());
    ASSIGN_OR_RETURN(sql_store::MetricHistory history,
                     sql_store::MetricHistory::Load(
                         db, run_id, key, std::numeric_limits<int64_t>::min(),
                         std::numeric_limits<int64_t>::max(), sql_store::HistoryOrder::kTimestamp));
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

StatusOr<std::vector<Metric>> SqlTrackingStore::GetMetricHistoryForRuns(
    std::string_view tenant, const std::vector<std::string>& run_ids, std::string_view key,
    std::optional<int64_t> start_step, std::optional<int64_t> end_step) {
  std::vector<Metric> result;
  RETURN_IF_ERROR(db_->Read([&](Connection& db) -> Status {
    std::string json = JsonArray(run_ids);
    {
      // Every run must exist for this tenant.
      ASSIGN_OR_RETURN(Statement s,
                       db.Prepare("SELECT j.value FROM " + sql::JsonTexts(db.dialect()) +
                                  " j WHERE NOT EXISTS (SELECT 1 "
                                  "FROM runs r WHERE r.run_uuid = j.value AND r.tenant_id = ?) "
                                  "LIMIT 1"));
      s.Bind(json, tenant);
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (row) return RunNotFound(s.TextView(0));
    }
    for (const std::string& run_id : run_ids) {
      ASSIGN_OR_RETURN(
          sql_store::MetricHistory history,
          sql_store::MetricHistory::Load(db, run_id, key,
                                         start_step.value_or(std::numeric_limits<int64_t>::min()),
                                         end_step.value_or(std::numeric_limits<int64_t>::max()),
                                         sql_store::HistoryOrder::kStep));
      for (size_t i = 0; i < history.size(); ++i) result.push_back(history.At(i, key, run_id));
    }
    return Status::Ok();
  }));
  return result;
}

StatusOr<ResultPage<Run>> SqlTrackingStore::SearchRuns(std::string_view tenant,
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
  RETURN_IF_ERROR(db_->Read([&](Connection& db) -> Status {
    // Plans. When the runs_by_experiment index yields rows in the requested order (one
    // experiment, one lifecycle stage, ordered by start time), a child clause that matches many
    // rows is compiled as a correlated EXISTS, so the search walks that index and stops at the
    // page's end instead of first collecting every matching id; a clause that matches few rows
    // stays an IN list, which drives the search from those rows. Ordered by one metric instead,
    // with every child clause broad, the search walks latest_metrics_by_key_value in value order
    // (then the runs without the metric, which sort last), again stopping at the page's end.
    // PostgreSQL turns IN lists and correlated EXISTS alike into semi-joins and orders the joins
    // from its own statistics, so there the probes only decide the value-order walk: they run
    // only when ordering by one metric, and stop at the first clause that is not broad.
    const bool postgres = db.dialect() == sql::Dialect::kPostgres;
    const bool one_range = experiment_ids.size() == 1 && query.view_type != ViewType::kAll;
    const bool by_start_time =
        std::all_of(query.order_by.begin(), query.order_by.end(), [](const filter::OrderBy& o) {
          return o.entity == filter::Entity::kAttribute && o.key == "start_time";
        });
    const bool by_one_metric =
        query.order_by.size() == 1 && query.order_by[0].entity == filter::Entity::kMetric;
    std::vector<const filter::Clause*> broad;
    bool all_broad = true;
    if (one_range && (by_one_metric || (by_start_time && !postgres))) {
      for (const filter::Clause& clause : query.filter.clauses) {
        if (clause.entity == filter::Entity::kAttribute) continue;
        if (postgres && !all_broad) break;
        all_broad = all_broad && clause.entity != filter::Entity::kDataset;
        SqlParams probe_params(PlaceholderStyle::kQuestion);
        StatusOr<std::string> children =
            CompileChildMatches(clause, schema, dialect_, probe_params);
        if (!children.ok()) continue;  // compiled (and reported) below
        ASSIGN_OR_RETURN(Statement probe,
                         db.Prepare("SELECT COUNT(*) FROM (" + *children + " LIMIT " +
                                    std::to_string(kBroadClauseRows) + ") AS probe"));
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
        sql += " AND r.experiment_id ";
        sql += sql::InJsonInts(db.dialect(), params.Add(JsonArray(experiment_ids)));
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
      std::string with = "SELECT r.run_uuid FROM latest_metrics lm " +
                         std::string(sql::OrderedJoin(db.dialect())) +
                         " runs r ON r.run_uuid = lm.run_uuid WHERE lm.tenant_id = ";
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
          ASSIGN_OR_RETURN(Statement counter,
                           db.Prepare("SELECT COUNT(*) FROM (" + with + ") AS valued"));
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

namespace {

// LogInputs' rows, for a run that exists in `experiment_id` (LogInputs and ImportRun).
Status WriteRunInputs(Connection& db, std::string_view tenant, std::string_view run_id,
                      int64_t experiment_id, const std::vector<DatasetInput>& datasets,
                      const std::vector<ModelInput>& models) {
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
                                  "?, ?, ?, ?, ?, ?) RETURNING dataset_id"));
      ASSIGN_OR_RETURN(bool inserted, insert
                                          .Bind(tenant, experiment_id, d.name, d.digest,
                                                d.source_type, d.source, d.schema, d.profile)
                                          .Step());
      if (!inserted) return Internal("INSERT INTO datasets returned no id");
      dataset_id = insert.Int(0);
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
                                                    "dataset_id, run_uuid) VALUES (?, ?, ?) "
                                                    "RETURNING input_id"));
      ASSIGN_OR_RETURN(bool inserted, insert.Bind(tenant, dataset_id, run_id).Step());
      if (!inserted) return Internal("INSERT INTO inputs returned no id");
      input_id = insert.Int(0);
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
                     db.Prepare("INSERT INTO run_model_inputs (run_uuid, model_id, "
                                "tenant_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"));
    RETURN_IF_ERROR(insert.Bind(run_id, model.model_id, tenant).Run());
  }
  return Status::Ok();
}

Status WriteRunOutputs(Connection& db, std::string_view tenant, std::string_view run_id,
                       const std::vector<ModelOutput>& models) {
  for (const ModelOutput& model : models) {
    ASSIGN_OR_RETURN(Statement insert,
                     db.Prepare("INSERT INTO run_outputs (run_uuid, model_id, step, "
                                "tenant_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"));
    RETURN_IF_ERROR(insert.Bind(run_id, model.model_id, model.step, tenant).Run());
  }
  return Status::Ok();
}

}  // namespace

Status SqlTrackingStore::LogInputs(std::string_view tenant, std::string_view run_id,
                                   const std::vector<DatasetInput>& datasets,
                                   const std::vector<ModelInput>& models) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(int64_t experiment_id, RequireActiveRun(db, tenant, run_id));
    return WriteRunInputs(db, tenant, run_id, experiment_id, datasets, models);
  });
}

Status SqlTrackingStore::LogOutputs(std::string_view tenant, std::string_view run_id,
                                    const std::vector<ModelOutput>& models) {
  return db_->Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireActiveRun(db, tenant, run_id).status());
    return WriteRunOutputs(db, tenant, run_id, models);
  });
}

Status SqlTrackingStore::ImportRun(std::string_view tenant, const RunImport& run) {
  const RunInfo& info = run.info;
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Experiment e, RequireExperiment(db, tenant, info.experiment_id));
    const int64_t experiment_id = *ParseExperimentId(e.experiment_id);
    {
      ASSIGN_OR_RETURN(Statement taken, db.Prepare("SELECT 1 FROM runs WHERE run_uuid = ?"));
      taken.Bind(info.run_id);
      ASSIGN_OR_RETURN(bool row, taken.Step());
      if (row) return AlreadyExists("Run with id=" + info.run_id + " already exists");
    }
    const bool deleted = info.lifecycle_stage == LifecycleStage::kDeleted;
    {
      ASSIGN_OR_RETURN(Statement insert,
                       db.Prepare("INSERT INTO runs (run_uuid, tenant_id, experiment_id, name, "
                                  "user_id, status, start_time, end_time, artifact_uri, "
                                  "lifecycle_stage, deleted_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                                  "?, ?, ?)"));
      RETURN_IF_ERROR(insert
                          .Bind(info.run_id, tenant, experiment_id, info.run_name, info.user_id,
                                RunStatusName(info.status), info.start_time, info.end_time,
                                info.artifact_uri, deleted ? "deleted" : "active",
                                deleted ? run.deleted_time : std::nullopt)
                          .Run());
    }
    std::vector<Metric> history = run.metric_history;
    for (Metric& m : history) m.model_id.reset();
    RETURN_IF_ERROR(
        WriteRunRows(db, tenant, info.run_id, experiment_id, history, run.params, run.tags));
    RETURN_IF_ERROR(WriteRunInputs(db, tenant, info.run_id, experiment_id, run.dataset_inputs,
                                   run.model_inputs));
    return WriteRunOutputs(db, tenant, info.run_id, run.model_outputs);
  });
}

}  // namespace cairn::metadata
