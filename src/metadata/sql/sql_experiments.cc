// Experiments of SqlTrackingStore.

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

SqlTrackingStore::SqlTrackingStore(std::shared_ptr<sql::Database> db)
    : db_(std::move(db)), dialect_(sql_store::MakeSearchDialect(db_->dialect())) {}

Status SqlTrackingStore::EnsureDefaultExperiment(std::string_view tenant,
                                                 std::string_view artifact_root, int64_t now_ms) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("INSERT INTO experiments (tenant_id, experiment_id, name, "
                                "artifact_location, lifecycle_stage, creation_time, "
                                "last_update_time) VALUES (?, 0, 'Default', ?, 'active', ?, ?) "
                                "ON CONFLICT DO NOTHING"));
    return s.Bind(tenant, JoinUri(artifact_root, "0"), now_ms, now_ms).Run();
  });
}

StatusOr<std::string> SqlTrackingStore::CreateExperiment(
    std::string_view tenant, std::string_view name, std::string_view artifact_location,
    std::string_view artifact_root, const std::vector<Tag>& tags, int64_t now_ms) {
  int64_t id = 0;
  Status status = db_->Write([&](Connection& db) -> Status {
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

StatusOr<Experiment> SqlTrackingStore::GetExperiment(std::string_view tenant,
                                                     std::string_view experiment_id) {
  std::vector<Experiment> found;
  RETURN_IF_ERROR(db_->Read([&](Connection& db) -> Status {
    // The tags' query travels with the experiment's.
    std::optional<int64_t> id = ParseExperimentId(experiment_id);
    if (!id) return ExperimentNotFound(experiment_id);
    ASSIGN_OR_RETURN(Statement tags, SendExperimentTags(db, tenant, {*id}));
    ASSIGN_OR_RETURN(Experiment e, RequireExperiment(db, tenant, experiment_id));
    found.push_back(std::move(e));
    return ReadExperimentTags(tags, found);
  }));
  return std::move(found[0]);
}

StatusOr<Experiment> SqlTrackingStore::GetExperimentByName(std::string_view tenant,
                                                           std::string_view name) {
  std::vector<Experiment> found;
  RETURN_IF_ERROR(db_->Read([&](Connection& db) -> Status {
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

StatusOr<ResultPage<Experiment>> SqlTrackingStore::SearchExperiments(
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
  RETURN_IF_ERROR(AppendFilterAndOrder(sql, query.filter, query.order_by, schema, dialect_, params,
                                       "e.creation_time DESC, e.experiment_id ASC",
                                       {{"experiment_id", "e.experiment_id ASC"}}));

  ResultPage<Experiment> page;
  RETURN_IF_ERROR(db_->Read([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(
        page, RunPagedQuery<Experiment>(db, sql, params, query.page,
                                        [](const Statement& s) { return ReadExperiment(s); }));
    return LoadExperimentTags(db, tenant, page.items);
  }));
  return page;
}

Status SqlTrackingStore::RenameExperiment(std::string_view tenant, std::string_view experiment_id,
                                          std::string_view new_name, int64_t now_ms) {
  return db_->Write([&](Connection& db) -> Status {
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

Status SqlTrackingStore::DeleteExperiment(std::string_view tenant, std::string_view experiment_id,
                                          int64_t now_ms) {
  return db_->Write([&](Connection& db) -> Status {
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

Status SqlTrackingStore::RestoreExperiment(std::string_view tenant, std::string_view experiment_id,
                                           int64_t now_ms) {
  return db_->Write([&](Connection& db) -> Status {
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

Status SqlTrackingStore::SetExperimentTag(std::string_view tenant, std::string_view experiment_id,
                                          const Tag& tag) {
  return db_->Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireActiveExperiment(db, tenant, experiment_id).status());
    return UpsertExperimentTag(db, tenant, *ParseExperimentId(experiment_id), tag);
  });
}

Status SqlTrackingStore::DeleteExperimentTag(std::string_view tenant,
                                             std::string_view experiment_id, std::string_view key) {
  return db_->Write([&](Connection& db) -> Status {
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

}  // namespace cairn::metadata

namespace cairn::metadata {

using namespace sql_store;  // NOLINT(google-build-using-namespace): this backend's helpers

Status SqlTrackingStore::ImportExperiment(std::string_view tenant, const Experiment& experiment) {
  std::optional<int64_t> id = ParseExperimentId(experiment.experiment_id);
  if (!id) {
    return InvalidArgument("experiment id '" + experiment.experiment_id +
                           "' is not a non-negative decimal");
  }
  const std::string_view stage =
      experiment.lifecycle_stage == LifecycleStage::kDeleted ? "deleted" : "active";
  return db_->Write([&](Connection& db) -> Status {
    {
      ASSIGN_OR_RETURN(Statement same, db.Prepare("SELECT experiment_id, name FROM experiments "
                                                  "WHERE tenant_id = ? AND (experiment_id = ? "
                                                  "OR name = ?)"));
      same.Bind(tenant, *id, experiment.name);
      while (true) {
        ASSIGN_OR_RETURN(bool row, same.Step());
        if (!row) break;
        if (same.Int(0) != *id || same.Text(1) != experiment.name) {
          return AlreadyExists("Experiment " + std::to_string(same.Int(0)) + " named '" +
                               same.Text(1) + "' exists, so experiment " + std::to_string(*id) +
                               " named '" + experiment.name + "' cannot be imported");
        }
      }
    }
    ASSIGN_OR_RETURN(Statement upsert,
                     db.Prepare("INSERT INTO experiments (tenant_id, experiment_id, name, "
                                "artifact_location, lifecycle_stage, creation_time, "
                                "last_update_time) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
                                "(tenant_id, experiment_id) DO UPDATE SET artifact_location = "
                                "excluded.artifact_location, lifecycle_stage = "
                                "excluded.lifecycle_stage, creation_time = excluded.creation_time, "
                                "last_update_time = excluded.last_update_time"));
    RETURN_IF_ERROR(upsert
                        .Bind(tenant, *id, experiment.name, experiment.artifact_location, stage,
                              experiment.creation_time, experiment.last_update_time)
                        .Run());
    for (const Tag& tag : experiment.tags) {
      RETURN_IF_ERROR(UpsertExperimentTag(db, tenant, *id, tag));
    }
    return Status::Ok();
  });
}

}  // namespace cairn::metadata
