#include "metadata/sql/sql_scorer_store.h"

#include <string>
#include <utility>

#include "metadata/names.h"
#include "metadata/sql/sql_tracking_helpers.h"
#include "metadata/store_rules.h"

namespace cairn::metadata {
namespace {

using sql::Connection;
using sql::JsonArray;
using sql::Statement;

constexpr std::string_view kVersionColumns =
    "s.scorer_id, s.experiment_id, s.name, v.version, v.serialized_scorer, v.created_at";

ScorerVersion ReadVersion(const Statement& s) {
  ScorerVersion v;
  v.scorer_id = s.Text(0);
  v.experiment_id = std::to_string(s.Int(1));
  v.name = s.Text(2);
  v.version = s.Int(3);
  v.serialized_scorer = s.Text(4);
  v.creation_time_ms = s.Int(5);
  return v;
}

StatusOr<std::vector<ScorerVersion>> ReadVersions(Statement& s) {
  std::vector<ScorerVersion> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(ReadVersion(s));
  }
  return out;
}

Status ScorerNotFound(std::string_view name, std::string_view experiment_id,
                      std::optional<int64_t> version = std::nullopt) {
  std::string message = "Scorer with name '" + std::string(name) + "'";
  if (version) message += " and version " + std::to_string(*version);
  return NotFound(message + " not found for experiment " + std::string(experiment_id) + ".");
}

// The scorer id of (experiment, name), after checking the experiment is active.
StatusOr<std::optional<std::string>> FindScorer(Connection& db, std::string_view tenant,
                                                std::string_view experiment_id,
                                                std::string_view name) {
  RETURN_IF_ERROR(sql_store::RequireActiveExperiment(db, tenant, experiment_id).status());
  ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT scorer_id FROM scorers WHERE tenant_id = ? AND "
                                           "experiment_id = ? AND name = ?"));
  ASSIGN_OR_RETURN(bool row, s.Bind(tenant, *ParseExperimentId(experiment_id), name).Step());
  if (!row) return std::optional<std::string>{};
  return std::optional<std::string>{s.Text(0)};
}

StatusOr<std::string> RequireScorer(Connection& db, std::string_view tenant,
                                    std::string_view experiment_id, std::string_view name) {
  ASSIGN_OR_RETURN(std::optional<std::string> id, FindScorer(db, tenant, experiment_id, name));
  if (!id) return ScorerNotFound(name, experiment_id);
  return *id;
}

// The latest versions of the scorers of experiments in `experiment_ids_json` (a JSON array of
// numbers) that are active, by experiment then name.
StatusOr<std::vector<ScorerVersion>> LatestVersions(Connection& db, std::string_view tenant,
                                                    const std::string* experiment_ids_json) {
  std::string sql = "SELECT " + std::string(kVersionColumns) +
                    " FROM scorers s JOIN scorer_versions v ON v.scorer_id = s.scorer_id JOIN "
                    "experiments e ON e.tenant_id = s.tenant_id AND e.experiment_id = "
                    "s.experiment_id WHERE s.tenant_id = ? AND e.lifecycle_stage = 'active' AND "
                    "v.version = (SELECT MAX(version) FROM scorer_versions WHERE scorer_id = "
                    "s.scorer_id)";
  if (experiment_ids_json != nullptr) {
    sql += " AND s.experiment_id " + sql::InJsonInts(db.dialect());
  }
  sql += " ORDER BY s.experiment_id, s.name";
  ASSIGN_OR_RETURN(Statement s, db.Prepare(sql));
  if (experiment_ids_json != nullptr) {
    s.Bind(tenant, *experiment_ids_json);
  } else {
    s.Bind(tenant);
  }
  return ReadVersions(s);
}

OnlineScoringConfig ReadConfig(const Statement& s) {
  OnlineScoringConfig c;
  c.config_id = s.Text(0);
  c.scorer_id = s.Text(1);
  c.experiment_id = std::to_string(s.Int(2));
  c.sample_rate = s.Double(3);
  c.filter_string = s.OptionalText(4);
  return c;
}

constexpr std::string_view kConfigQuery =
    "SELECT c.config_id, c.scorer_id, s.experiment_id, c.sample_rate, c.filter_string FROM "
    "online_scoring_configs c JOIN scorers s ON s.scorer_id = c.scorer_id WHERE s.tenant_id = ? ";

}  // namespace

StatusOr<ScorerVersion> SqlScorerStore::RegisterScorer(
    std::string_view tenant, std::string_view experiment_id, std::string_view name,
    std::string_view serialized_scorer, std::string_view new_scorer_id, int64_t now_ms) {
  ScorerVersion out;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(std::optional<std::string> id, FindScorer(db, tenant, experiment_id, name));
    if (!id) {
      ASSIGN_OR_RETURN(Statement add, db.Prepare("INSERT INTO scorers (tenant_id, scorer_id, "
                                                 "experiment_id, name) VALUES (?, ?, ?, ?)"));
      RETURN_IF_ERROR(
          add.Bind(tenant, new_scorer_id, *ParseExperimentId(experiment_id), name).Run());
      id = std::string(new_scorer_id);
    }
    ASSIGN_OR_RETURN(Statement next, db.Prepare("SELECT COALESCE(MAX(version), 0) + 1 FROM "
                                                "scorer_versions WHERE scorer_id = ?"));
    ASSIGN_OR_RETURN(bool row, next.Bind(*id).Step());
    int64_t version = row ? next.Int(0) : 1;
    next.Reset();
    ASSIGN_OR_RETURN(Statement insert,
                     db.Prepare("INSERT INTO scorer_versions (scorer_id, version, "
                                "serialized_scorer, created_at) VALUES (?, ?, ?, ?)"));
    RETURN_IF_ERROR(insert.Bind(*id, version, serialized_scorer, now_ms).Run());
    out = {*id,
           std::to_string(*ParseExperimentId(experiment_id)),
           std::string(name),
           version,
           std::string(serialized_scorer),
           now_ms};
    return Status::Ok();
  }));
  return out;
}

StatusOr<std::vector<ScorerVersion>> SqlScorerStore::ListScorers(std::string_view tenant,
                                                                 std::string_view experiment_id) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<std::vector<ScorerVersion>> {
    ASSIGN_OR_RETURN(Experiment e, sql_store::RequireActiveExperiment(db, tenant, experiment_id));
    std::string ids = JsonArray(std::vector<int64_t>{*ParseExperimentId(e.experiment_id)});
    return LatestVersions(db, tenant, &ids);
  });
}

StatusOr<std::vector<ScorerVersion>> SqlScorerStore::ListScorersAcrossExperiments(
    std::string_view tenant, const std::optional<std::vector<std::string>>& experiment_ids) {
  std::optional<std::string> ids;
  if (experiment_ids) {
    std::vector<int64_t> parsed;
    for (const std::string& id : *experiment_ids) {
      if (std::optional<int64_t> n = ParseExperimentId(id)) parsed.push_back(*n);
    }
    if (parsed.empty()) return std::vector<ScorerVersion>{};
    ids = JsonArray(parsed);
  }
  return db_->ReadValue(
      [&](Connection& db) { return LatestVersions(db, tenant, ids ? &*ids : nullptr); });
}

StatusOr<std::vector<ScorerVersion>> SqlScorerStore::ListScorerVersions(
    std::string_view tenant, std::string_view experiment_id, std::string_view name) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<std::vector<ScorerVersion>> {
    ASSIGN_OR_RETURN(std::string id, RequireScorer(db, tenant, experiment_id, name));
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("SELECT " + std::string(kVersionColumns) +
                                " FROM scorers s JOIN scorer_versions v ON v.scorer_id = "
                                "s.scorer_id WHERE s.scorer_id = ? ORDER BY v.version"));
    s.Bind(id);
    ASSIGN_OR_RETURN(std::vector<ScorerVersion> versions, ReadVersions(s));
    if (versions.empty()) return ScorerNotFound(name, experiment_id);
    return versions;
  });
}

StatusOr<ScorerVersion> SqlScorerStore::GetScorer(std::string_view tenant,
                                                  std::string_view experiment_id,
                                                  std::string_view name,
                                                  std::optional<int64_t> version) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<ScorerVersion> {
    ASSIGN_OR_RETURN(std::string id, RequireScorer(db, tenant, experiment_id, name));
    std::string sql = "SELECT " + std::string(kVersionColumns) +
                      " FROM scorers s JOIN scorer_versions v ON v.scorer_id = s.scorer_id WHERE "
                      "s.scorer_id = ?";
    sql += version ? " AND v.version = ?" : " ORDER BY v.version DESC LIMIT 1";
    ASSIGN_OR_RETURN(Statement s, db.Prepare(sql));
    if (version) {
      s.Bind(id, *version);
    } else {
      s.Bind(id);
    }
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return ScorerNotFound(name, experiment_id, version);
    return ReadVersion(s);
  });
}

Status SqlScorerStore::DeleteScorer(std::string_view tenant, std::string_view experiment_id,
                                    std::string_view name, std::optional<int64_t> version) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(std::string id, RequireScorer(db, tenant, experiment_id, name));
    if (version) {
      ASSIGN_OR_RETURN(Statement del, db.Prepare("DELETE FROM scorer_versions WHERE scorer_id = "
                                                 "? AND version = ?"));
      RETURN_IF_ERROR(del.Bind(id, *version).Run());
      if (db.Changes() == 0) return ScorerNotFound(name, experiment_id, version);
      return Status::Ok();
    }
    ASSIGN_OR_RETURN(Statement count,
                     db.Prepare("SELECT COUNT(*) FROM scorer_versions WHERE scorer_id = ?"));
    ASSIGN_OR_RETURN(bool row, count.Bind(id).Step());
    if (!row || count.Int(0) == 0) return ScorerNotFound(name, experiment_id);
    count.Reset();
    ASSIGN_OR_RETURN(Statement del, db.Prepare("DELETE FROM scorers WHERE scorer_id = ?"));
    return del.Bind(id).Run();
  });
}

StatusOr<std::vector<OnlineScoringConfig>> SqlScorerStore::GetOnlineScoringConfigs(
    std::string_view tenant, const std::vector<std::string>& scorer_ids) {
  if (scorer_ids.empty()) return std::vector<OnlineScoringConfig>{};
  return db_->ReadValue([&](Connection& db) -> StatusOr<std::vector<OnlineScoringConfig>> {
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare(std::string(kConfigQuery) + "AND c.scorer_id " +
                                sql::InJsonTexts(db.dialect()) + " ORDER BY c.scorer_id"));
    s.Bind(tenant, JsonArray(scorer_ids));
    std::vector<OnlineScoringConfig> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back(ReadConfig(s));
    }
    return out;
  });
}

StatusOr<OnlineScoringConfig> SqlScorerStore::UpsertOnlineScoringConfig(
    std::string_view tenant, std::string_view experiment_id, std::string_view name,
    double sample_rate, const std::optional<std::string>& filter_string,
    std::string_view new_config_id) {
  OnlineScoringConfig out;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(std::string id, RequireScorer(db, tenant, experiment_id, name));
    ASSIGN_OR_RETURN(Statement del,
                     db.Prepare("DELETE FROM online_scoring_configs WHERE scorer_id = ?"));
    RETURN_IF_ERROR(del.Bind(id).Run());
    ASSIGN_OR_RETURN(Statement add, db.Prepare("INSERT INTO online_scoring_configs (config_id, "
                                               "scorer_id, sample_rate, filter_string) VALUES "
                                               "(?, ?, ?, ?)"));
    RETURN_IF_ERROR(add.Bind(new_config_id, id, sample_rate, filter_string).Run());
    out = {std::string(new_config_id), id, std::to_string(*ParseExperimentId(experiment_id)),
           sample_rate, filter_string};
    return Status::Ok();
  }));
  return out;
}

}  // namespace cairn::metadata
