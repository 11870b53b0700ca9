// MLflow 3 logged models of SqlTrackingStore.

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

// ---- Logged models ----

StatusOr<LoggedModel> SqlTrackingStore::CreateLoggedModel(std::string_view tenant,
                                                          const LoggedModel& model) {
  LoggedModel created;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
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

StatusOr<LoggedModel> SqlTrackingStore::GetLoggedModel(std::string_view tenant,
                                                       std::string_view model_id,
                                                       bool allow_deleted) {
  return db_->ReadValue(
      [&](Connection& db) { return LoadLoggedModel(db, tenant, model_id, allow_deleted); });
}

StatusOr<LoggedModel> SqlTrackingStore::FinalizeLoggedModel(std::string_view tenant,
                                                            std::string_view model_id,
                                                            LoggedModelStatus status,
                                                            int64_t now_ms) {
  LoggedModel model;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
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

Status SqlTrackingStore::DeleteLoggedModel(std::string_view tenant, std::string_view model_id,
                                           int64_t now_ms) {
  return db_->Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireLoggedModel(db, tenant, model_id, false).status());
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("UPDATE logged_models SET lifecycle_stage = 'deleted', "
                                "last_updated_timestamp_ms = ? WHERE model_id = ?"));
    return s.Bind(now_ms, model_id).Run();
  });
}

Status SqlTrackingStore::SetLoggedModelTags(std::string_view tenant, std::string_view model_id,
                                            const std::vector<Tag>& tags, int64_t now_ms) {
  return db_->Write([&](Connection& db) -> Status {
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

Status SqlTrackingStore::DeleteLoggedModelTag(std::string_view tenant, std::string_view model_id,
                                              std::string_view key, int64_t now_ms) {
  return db_->Write([&](Connection& db) -> Status {
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

Status SqlTrackingStore::LogLoggedModelParams(std::string_view tenant, std::string_view model_id,
                                              const std::vector<Param>& params, int64_t now_ms) {
  return db_->Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireLoggedModel(db, tenant, model_id, false).status());
    RETURN_IF_ERROR(InsertWriteOnceParams(
        db, tenant, model_id, params,
        "INSERT INTO logged_model_params (model_id, key, value, tenant_id) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (model_id, key) DO NOTHING",
        "SELECT value FROM logged_model_params WHERE model_id = ? AND key = ?", "logged model ID"));
    return TouchLoggedModel(db, model_id, now_ms);
  });
}

StatusOr<ResultPage<LoggedModel>> SqlTrackingStore::SearchLoggedModels(
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
  // MLflow's server passes a dataset without a digest on as "digest is null": it matches only
  // metrics logged without one (stored here as '').
  std::vector<std::pair<std::string, std::optional<std::string>>> datasets = query.datasets;
  for (auto& dataset : datasets) {
    if (!dataset.second) dataset.second = "";
  }
  schema.metrics = metric_table(std::move(datasets));

  SqlParams params(PlaceholderStyle::kQuestion);
  std::string sql =
      "SELECT " + std::string(kLoggedModelColumns) + " FROM logged_models m WHERE m.tenant_id = ";
  sql += params.Add(tenant_text);
  sql += " AND m.experiment_id ";
  sql += sql::InJsonInts(db_->dialect(), params.Add(JsonArray(experiment_ids)));
  sql += " AND m.lifecycle_stage = 'active'";
  ASSIGN_OR_RETURN(std::string where, CompileFilter(query.filter, schema, dialect_, params));
  if (!where.empty()) sql += " AND " + where;
  // Without a metric filter to restrict, datasets still keep only the models with a metric
  // logged against one of them, as MLflow's store does.
  const bool filters_metrics =
      std::any_of(query.filter.clauses.begin(), query.filter.clauses.end(),
                  [](const filter::Clause& c) { return c.entity == filter::Entity::kMetric; });
  if (!query.datasets.empty() && !filters_metrics) {
    sql += " AND EXISTS (SELECT 1 FROM logged_model_latest_metrics WHERE model_id = m.model_id";
    schema.metrics->scope(params, sql);
    sql += ")";
  }

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
  RETURN_IF_ERROR(db_->Read([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(
        page, RunPagedQuery<LoggedModel>(db, sql, params, query.page,
                                         [](const Statement& s) { return ReadLoggedModel(s); }));
    return LoadLoggedModelChildren(db, page.items);
  }));
  return page;
}

}  // namespace cairn::metadata

namespace cairn::metadata {

using namespace sql_store;  // NOLINT(google-build-using-namespace): this backend's helpers

Status SqlTrackingStore::ImportLoggedModel(std::string_view tenant, const LoggedModel& model) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Experiment e, RequireExperiment(db, tenant, model.experiment_id));
    const int64_t experiment_id = *ParseExperimentId(e.experiment_id);
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
                                  "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
      RETURN_IF_ERROR(
          insert
              .Bind(model.model_id, tenant, experiment_id, model.name, model.artifact_uri,
                    LoggedModelStatusName(model.status), model.creation_timestamp_ms,
                    model.last_updated_timestamp_ms, model.creator_id, model.model_type,
                    model.source_run_id, model.status_message,
                    model.lifecycle_stage == LifecycleStage::kDeleted ? "deleted" : "active")
              .Run());
    }
    for (const Tag& tag : model.tags) {
      ASSIGN_OR_RETURN(Statement s,
                       db.Prepare("INSERT INTO logged_model_tags (model_id, key, value, "
                                  "tenant_id) VALUES (?, ?, ?, ?) ON CONFLICT (model_id, key) DO "
                                  "UPDATE SET value = excluded.value"));
      RETURN_IF_ERROR(s.Bind(model.model_id, tag.key, tag.value, tenant).Run());
    }
    for (const Param& param : model.params) {
      ASSIGN_OR_RETURN(Statement s,
                       db.Prepare("INSERT INTO logged_model_params (model_id, key, value, "
                                  "tenant_id) VALUES (?, ?, ?, ?) ON CONFLICT (model_id, key) DO "
                                  "UPDATE SET value = excluded.value"));
      RETURN_IF_ERROR(s.Bind(model.model_id, param.key, param.value, tenant).Run());
    }
    for (Metric m : model.metrics) {
      m.model_id = model.model_id;
      RETURN_IF_ERROR(LogLoggedModelMetric(db, tenant, m.run_id, experiment_id, m));
    }
    return Status::Ok();
  });
}

}  // namespace cairn::metadata
