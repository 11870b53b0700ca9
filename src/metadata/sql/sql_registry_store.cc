// SqlRegistryStore: registered models, versions, tags, aliases, stages and promotion records.

#include "metadata/sql/sql_registry_store.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "metadata/names.h"
#include "metadata/sql/sql_search.h"
#include "metadata/store_rules.h"

namespace cairn::metadata {
namespace {

using ::cairn::sql::Connection;
using ::cairn::sql::JsonArray;
using ::cairn::sql::Statement;
using sql_store::ChildRows;
using sql_store::KeyValueTable;
using sql_store::RunPagedQuery;

// A soft-deleted version keeps its row (and number) in this stage; every read skips it.
constexpr std::string_view kDeletedStage = "Deleted_Internal";

constexpr ModelStage kAllStages[] = {ModelStage::kNone, ModelStage::kStaging,
                                     ModelStage::kProduction, ModelStage::kArchived};

// ---- Enum spellings as stored (MLflow's) ----

ModelStage ParseModelStage(std::string_view text) {
  return ModelStageFromName(text).value_or(ModelStage::kNone);
}

ModelVersionStatus ParseVersionStatus(std::string_view text) {
  return ModelVersionStatusFromName(text).value_or(ModelVersionStatus::kReady);
}

// ---- Row readers ----

constexpr std::string_view kModelColumns =
    "rm.name, rm.creation_timestamp, rm.last_updated_timestamp, rm.user_id, rm.description";

RegisteredModel ReadModel(const Statement& s) {
  RegisteredModel m;
  m.name = s.Text(0);
  m.creation_timestamp = s.Int(1);
  m.last_updated_timestamp = s.Int(2);
  m.user_id = s.Text(3);
  m.description = s.Text(4);
  return m;
}

constexpr std::string_view kVersionColumns =
    "v.name, v.version, v.creation_timestamp, v.last_updated_timestamp, v.user_id, "
    "v.current_stage, v.description, v.source, v.storage_location, v.run_id, v.run_link, "
    "v.model_id, v.status, v.status_message";

// Reads kVersionColumns starting at column `first`.
ModelVersion ReadVersion(const Statement& s, int first = 0) {
  ModelVersion v;
  v.name = s.Text(first);
  v.version = s.Int(first + 1);
  v.creation_timestamp = s.Int(first + 2);
  v.last_updated_timestamp = s.Int(first + 3);
  v.user_id = s.Text(first + 4);
  v.current_stage = ParseModelStage(s.TextView(first + 5));
  v.description = s.Text(first + 6);
  v.source = s.Text(first + 7);
  v.storage_location = s.Text(first + 8);
  v.run_id = s.Text(first + 9);
  v.run_link = s.Text(first + 10);
  v.model_id = s.Text(first + 11);
  v.status = ParseVersionStatus(s.TextView(first + 12));
  v.status_message = s.Text(first + 13);
  return v;
}

// Runs `s` (already bound) and calls `fn` for every row.
template <typename Fn>
Status ForEachRow(Statement& s, Fn&& fn) {
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Status::Ok();
    fn(s);
  }
}

// ---- Lookups ----

Status RequireModel(Connection& db, std::string_view tenant, std::string_view name) {
  ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT 1 FROM registered_models WHERE tenant_id = ? "
                                           "AND name = ?"));
  s.Bind(tenant, name);
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return RegisteredModelNotFound(name);
  return Status::Ok();
}

StatusOr<bool> ModelExistsIn(Connection& db, std::string_view tenant, std::string_view name) {
  ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT 1 FROM registered_models WHERE tenant_id = ? "
                                           "AND name = ?"));
  s.Bind(tenant, name);
  return s.Step();
}

// The live version's row without tags and aliases; NOT_FOUND when absent or deleted.
StatusOr<ModelVersion> RequireLiveVersion(Connection& db, std::string_view tenant,
                                          std::string_view name, int64_t version) {
  ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT " + std::string(kVersionColumns) +
                                           " FROM model_versions v WHERE v.tenant_id = ? AND "
                                           "v.name = ? AND v.version = ? AND v.current_stage "
                                           "!= 'Deleted_Internal'"));
  s.Bind(tenant, name, version);
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return ModelVersionNotFound(name, version);
  return ReadVersion(s);
}

// The version `alias` points at, or nullopt.
StatusOr<std::optional<int64_t>> AliasTarget(Connection& db, std::string_view tenant,
                                             std::string_view name, std::string_view alias) {
  ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT version FROM registered_model_aliases WHERE "
                                           "tenant_id = ? AND name = ? AND alias = ?"));
  s.Bind(tenant, name, alias);
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<int64_t>();
  return std::optional<int64_t>(s.Int(0));
}

// ---- Children, loaded in one query per kind for a whole page ----

// Fills tags and aliases of `versions` (live versions of one tenant).
Status LoadVersionChildren(Connection& db, std::string_view tenant,
                           std::vector<ModelVersion>& versions) {
  if (versions.empty()) return Status::Ok();
  std::vector<std::pair<std::string, int64_t>> keys;
  keys.reserve(versions.size());
  std::map<std::pair<std::string_view, int64_t>, size_t> index;
  for (size_t i = 0; i < versions.size(); ++i) {
    keys.emplace_back(versions[i].name, versions[i].version);
    index.emplace(std::make_pair(std::string_view(versions[i].name), versions[i].version), i);
  }
  std::string json = JsonArray(keys);
  auto attach = [&](std::string_view sql, auto&& fn) -> Status {
    ASSIGN_OR_RETURN(Statement s, db.Prepare(sql));
    s.Bind(json, tenant);
    return ForEachRow(s, [&](const Statement& row) {
      auto it = index.find({row.TextView(0), row.Int(1)});
      if (it != index.end()) fn(versions[it->second], row);
    });
  };
  RETURN_IF_ERROR(attach("SELECT t.name, t.version, t.key, t.value FROM " +
                             sql::JsonPairs(db.dialect()) + " j " +
                             std::string(sql::OrderedJoin(db.dialect())) +
                             " model_version_tags t ON t.tenant_id = ? AND t.name = j.first AND "
                             "t.version = j.second ORDER BY j.key, t.key",
                         [](ModelVersion& v, const Statement& s) {
                           v.tags.push_back({s.Text(2), s.Text(3)});
                         }));
  RETURN_IF_ERROR(
      attach("SELECT a.name, a.version, a.alias FROM " + sql::JsonPairs(db.dialect()) + " j " +
                 std::string(sql::OrderedJoin(db.dialect())) +
                 " registered_model_aliases a ON a.tenant_id = ? AND a.name = j.first AND "
                 "a.version = j.second ORDER BY j.key, a.alias",
             [](ModelVersion& v, const Statement& s) { v.aliases.push_back(s.Text(2)); }));
  return Status::Ok();
}

// The newest live version in each of `stages` for each model in `names`, ordered by model (as
// in `names`), then by stage (as in `stages`); each with tags and aliases. Two index seeks per
// (model, stage).
StatusOr<std::vector<ModelVersion>> LoadLatestVersions(Connection& db, std::string_view tenant,
                                                       const std::vector<std::string>& names,
                                                       const std::vector<ModelStage>& stages) {
  std::vector<ModelVersion> versions;
  if (names.empty() || stages.empty()) return versions;
  std::vector<std::string> stage_names;
  stage_names.reserve(stages.size());
  for (ModelStage stage : stages) stage_names.emplace_back(ModelStageName(stage));
  ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare("SELECT " + std::string(kVersionColumns) + " FROM " +
                 sql::JsonTexts(db.dialect()) + " j CROSS JOIN " + sql::JsonTexts(db.dialect()) +
                 " st CROSS JOIN model_versions v "
                 "WHERE v.tenant_id = ? AND v.name = j.value AND v.version = (SELECT "
                 "MAX(m.version) FROM model_versions m WHERE m.tenant_id = ? AND m.name = "
                 "j.value AND m.current_stage = st.value) ORDER BY j.key, st.key"));
  s.Bind(JsonArray(names), JsonArray(stage_names), tenant, tenant);
  RETURN_IF_ERROR(
      ForEachRow(s, [&](const Statement& row) { versions.push_back(ReadVersion(row)); }));
  RETURN_IF_ERROR(LoadVersionChildren(db, tenant, versions));
  return versions;
}

// Fills tags, aliases and latest_versions of `models` (of one tenant).
Status LoadModelChildren(Connection& db, std::string_view tenant,
                         std::vector<RegisteredModel>& models) {
  if (models.empty()) return Status::Ok();
  ChildRows<RegisteredModel> children(
      db, models, [](const RegisteredModel& m) { return m.name; }, tenant);
  auto attach = [&](std::string_view sql, auto&& fn) { return children.Attach(sql, fn); };
  RETURN_IF_ERROR(
      attach("SELECT name, key, value FROM registered_model_tags WHERE tenant_id = ? AND name IN "
             "(SELECT value FROM " +
                 sql::JsonTexts(db.dialect()) + ") ORDER BY name, key",
             [](RegisteredModel& m, const Statement& s) {
               m.tags.push_back({s.Text(1), s.Text(2)});
             }));
  RETURN_IF_ERROR(attach(
      "SELECT name, alias, version FROM registered_model_aliases WHERE tenant_id = ? AND name IN "
      "(SELECT value FROM " +
          sql::JsonTexts(db.dialect()) + ") ORDER BY name, alias",
      [](RegisteredModel& m, const Statement& s) {
        m.aliases.push_back({s.Text(1), s.Int(2)});
      }));
  ASSIGN_OR_RETURN(
      std::vector<ModelVersion> latest,
      LoadLatestVersions(db, tenant, children.ids(),
                         std::vector<ModelStage>(std::begin(kAllStages), std::end(kAllStages))));
  for (ModelVersion& v : latest) {
    if (RegisteredModel* m = children.Find(v.name)) m->latest_versions.push_back(std::move(v));
  }
  return Status::Ok();
}

StatusOr<RegisteredModel> LoadModel(Connection& db, std::string_view tenant,
                                    std::string_view name) {
  std::vector<RegisteredModel> models;
  {
    ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT " + std::string(kModelColumns) +
                                             " FROM registered_models rm WHERE rm.tenant_id = ? "
                                             "AND rm.name = ?"));
    s.Bind(tenant, name);
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return RegisteredModelNotFound(name);
    models.push_back(ReadModel(s));
  }
  RETURN_IF_ERROR(LoadModelChildren(db, tenant, models));
  return std::move(models[0]);
}

StatusOr<ModelVersion> LoadVersion(Connection& db, std::string_view tenant, std::string_view name,
                                   int64_t version) {
  std::vector<ModelVersion> versions(1);
  ASSIGN_OR_RETURN(versions[0], RequireLiveVersion(db, tenant, name, version));
  RETURN_IF_ERROR(LoadVersionChildren(db, tenant, versions));
  return std::move(versions[0]);
}

// ---- Writes ----

Status TouchModel(Connection& db, std::string_view tenant, std::string_view name, int64_t now_ms) {
  ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE registered_models SET last_updated_timestamp "
                                           "= ? WHERE tenant_id = ? AND name = ?"));
  return s.Bind(now_ms, tenant, name).Run();
}

Status SetVersionStage(Connection& db, std::string_view tenant, std::string_view name,
                       int64_t version, std::string_view stage, int64_t now_ms) {
  ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE model_versions SET current_stage = ?, "
                                           "last_updated_timestamp = ? WHERE tenant_id = ? AND "
                                           "name = ? AND version = ?"));
  return s.Bind(stage, now_ms, tenant, name, version).Run();
}

// Moves every live version in `stage` except `keep` to Archived.
Status ArchiveOthersInStage(Connection& db, std::string_view tenant, std::string_view name,
                            ModelStage stage, int64_t keep, int64_t now_ms) {
  ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE model_versions SET current_stage = "
                                           "'Archived', last_updated_timestamp = ? WHERE "
                                           "tenant_id = ? AND name = ? AND current_stage = ? AND "
                                           "version != ?"));
  return s.Bind(now_ms, tenant, name, ModelStageName(stage), keep).Run();
}

// The newest live version in `stage` other than `except`, or nullopt.
StatusOr<std::optional<int64_t>> NewestOtherInStage(Connection& db, std::string_view tenant,
                                                    std::string_view name, ModelStage stage,
                                                    int64_t except) {
  ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT MAX(version) FROM model_versions WHERE "
                                           "tenant_id = ? AND name = ? AND current_stage = ? AND "
                                           "version != ?"));
  s.Bind(tenant, name, ModelStageName(stage), except);
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<int64_t>();
  return s.OptionalInt(0);
}

Status UpsertModelTag(Connection& db, std::string_view tenant, std::string_view name,
                      const Tag& tag) {
  ASSIGN_OR_RETURN(Statement s,
                   db.Prepare("INSERT INTO registered_model_tags (tenant_id, name, key, value) "
                              "VALUES (?, ?, ?, ?) ON CONFLICT (tenant_id, name, key) DO UPDATE "
                              "SET value = excluded.value"));
  return s.Bind(tenant, name, tag.key, tag.value).Run();
}

Status UpsertVersionTag(Connection& db, std::string_view tenant, std::string_view name,
                        int64_t version, const Tag& tag) {
  ASSIGN_OR_RETURN(Statement s, db.Prepare("INSERT INTO model_version_tags (tenant_id, name, "
                                           "version, key, value) VALUES (?, ?, ?, ?, ?) ON "
                                           "CONFLICT (tenant_id, name, version, key) DO UPDATE "
                                           "SET value = excluded.value"));
  return s.Bind(tenant, name, version, tag.key, tag.value).Run();
}

Status UpsertAlias(Connection& db, std::string_view tenant, std::string_view name,
                   std::string_view alias, int64_t version) {
  ASSIGN_OR_RETURN(Statement s, db.Prepare("INSERT INTO registered_model_aliases (tenant_id, "
                                           "name, alias, version) VALUES (?, ?, ?, ?) ON "
                                           "CONFLICT (tenant_id, name, alias) DO UPDATE SET "
                                           "version = excluded.version"));
  return s.Bind(tenant, name, alias, version).Run();
}

PromotionRecord ReadPromotion(const Statement& s) {
  PromotionRecord r;
  r.name = s.Text(0);
  r.version = s.Int(1);
  r.target = s.Text(2);
  r.principal = s.Text(3);
  r.timestamp = s.Int(4);
  r.previous_version = s.OptionalInt(5);
  return r;
}

}  // namespace

SqlRegistryStore::SqlRegistryStore(std::shared_ptr<sql::Database> db)
    : db_(std::move(db)), dialect_(sql_store::MakeSearchDialect(db_->dialect())) {}

// ---- Registered models ----

StatusOr<RegisteredModel> SqlRegistryStore::CreateRegisteredModel(
    std::string_view tenant, std::string_view name, std::string_view description,
    const std::vector<Tag>& tags, std::string_view user_id, int64_t now_ms) {
  RegisteredModel model;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(bool taken, ModelExistsIn(db, tenant, name));
    if (taken) return RegisteredModelExists(name);
    {
      ASSIGN_OR_RETURN(Statement s, db.Prepare("INSERT INTO registered_models (tenant_id, name, "
                                               "creation_timestamp, last_updated_timestamp, "
                                               "user_id, description) VALUES (?, ?, ?, ?, ?, ?)"));
      RETURN_IF_ERROR(s.Bind(tenant, name, now_ms, now_ms, user_id, description).Run());
    }
    for (const Tag& tag : tags) RETURN_IF_ERROR(UpsertModelTag(db, tenant, name, tag));
    ASSIGN_OR_RETURN(model, LoadModel(db, tenant, name));
    return Status::Ok();
  }));
  return model;
}

StatusOr<RegisteredModel> SqlRegistryStore::GetRegisteredModel(std::string_view tenant,
                                                               std::string_view name) {
  return db_->ReadValue([&](Connection& db) { return LoadModel(db, tenant, name); });
}

StatusOr<RegisteredModel> SqlRegistryStore::RenameRegisteredModel(std::string_view tenant,
                                                                  std::string_view name,
                                                                  std::string_view new_name,
                                                                  int64_t now_ms) {
  RegisteredModel model;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireModel(db, tenant, name));
    if (new_name != name) {
      ASSIGN_OR_RETURN(bool taken, ModelExistsIn(db, tenant, new_name));
      if (taken) return RegisteredModelExists(new_name);
    }
    // The foreign keys cascade the new name to versions, tags, aliases and promotions.
    {
      ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE registered_models SET name = ?, "
                                               "last_updated_timestamp = ? WHERE tenant_id = ? "
                                               "AND name = ?"));
      RETURN_IF_ERROR(s.Bind(new_name, now_ms, tenant, name).Run());
    }
    {
      ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE model_versions SET "
                                               "last_updated_timestamp = ? WHERE tenant_id = ? "
                                               "AND name = ? AND current_stage != "
                                               "'Deleted_Internal'"));
      RETURN_IF_ERROR(s.Bind(now_ms, tenant, new_name).Run());
    }
    ASSIGN_OR_RETURN(model, LoadModel(db, tenant, new_name));
    return Status::Ok();
  }));
  return model;
}

StatusOr<RegisteredModel> SqlRegistryStore::UpdateRegisteredModel(
    std::string_view tenant, std::string_view name, std::optional<std::string> description,
    int64_t now_ms) {
  RegisteredModel model;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireModel(db, tenant, name));
    if (description) {
      ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE registered_models SET description = ?, "
                                               "last_updated_timestamp = ? WHERE tenant_id = ? "
                                               "AND name = ?"));
      RETURN_IF_ERROR(s.Bind(*description, now_ms, tenant, name).Run());
    }
    ASSIGN_OR_RETURN(model, LoadModel(db, tenant, name));
    return Status::Ok();
  }));
  return model;
}

Status SqlRegistryStore::DeleteRegisteredModel(std::string_view tenant, std::string_view name) {
  return db_->Write([&](Connection& db) -> Status {
    // Versions, tags, aliases and promotion records go with it (ON DELETE CASCADE).
    ASSIGN_OR_RETURN(Statement s, db.Prepare("DELETE FROM registered_models WHERE tenant_id = ? "
                                             "AND name = ?"));
    RETURN_IF_ERROR(s.Bind(tenant, name).Run());
    if (db.Changes() == 0) return RegisteredModelNotFound(name);
    return Status::Ok();
  });
}

StatusOr<ResultPage<RegisteredModel>> SqlRegistryStore::SearchRegisteredModels(
    std::string_view tenant, const SearchRegisteredModelsQuery& query) {
  SearchSchema schema;
  schema.id_expr = "rm.name";
  schema.attributes = {
      {"name", {"rm.name", ValueKind::kString}},
      {"creation_timestamp", {"rm.creation_timestamp", ValueKind::kNumber}},
      {"last_updated_timestamp", {"rm.last_updated_timestamp", ValueKind::kNumber}},
  };
  schema.tags = KeyValueTable("registered_model_tags", "name", tenant);
  schema.prompt_exclusion_matches_untagged = true;

  SqlParams params(PlaceholderStyle::kQuestion);
  std::string sql =
      "SELECT " + std::string(kModelColumns) + " FROM registered_models rm WHERE rm.tenant_id = ";
  sql += params.Add(std::string(tenant));
  RETURN_IF_ERROR(AppendFilterAndOrder(sql, query.filter, query.order_by, schema, dialect_, params,
                                       "rm.name ASC", {{"name", "rm.name ASC"}}));

  ResultPage<RegisteredModel> page;
  RETURN_IF_ERROR(db_->Read([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(
        page, RunPagedQuery<RegisteredModel>(db, sql, params, query.page,
                                             [](const Statement& s) { return ReadModel(s); }));
    return LoadModelChildren(db, tenant, page.items);
  }));
  return page;
}

StatusOr<std::vector<ModelVersion>> SqlRegistryStore::GetLatestVersions(
    std::string_view tenant, std::string_view name, const std::vector<ModelStage>& stages) {
  std::vector<ModelStage> wanted;
  if (stages.empty()) {
    wanted.assign(std::begin(kAllStages), std::end(kAllStages));
  } else {
    for (ModelStage stage : stages) {
      if (std::find(wanted.begin(), wanted.end(), stage) == wanted.end()) wanted.push_back(stage);
    }
  }
  std::vector<ModelVersion> versions;
  RETURN_IF_ERROR(db_->Read([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireModel(db, tenant, name));
    ASSIGN_OR_RETURN(versions, LoadLatestVersions(db, tenant, {std::string(name)}, wanted));
    return Status::Ok();
  }));
  return versions;
}

Status SqlRegistryStore::SetRegisteredModelTag(std::string_view tenant, std::string_view name,
                                               const Tag& tag, int64_t /*now_ms*/) {
  return db_->Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireModel(db, tenant, name));
    return UpsertModelTag(db, tenant, name, tag);
  });
}

Status SqlRegistryStore::DeleteRegisteredModelTag(std::string_view tenant, std::string_view name,
                                                  std::string_view key) {
  return db_->Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireModel(db, tenant, name));
    ASSIGN_OR_RETURN(Statement s, db.Prepare("DELETE FROM registered_model_tags WHERE tenant_id = "
                                             "? AND name = ? AND key = ?"));
    RETURN_IF_ERROR(s.Bind(tenant, name, key).Run());
    if (db.Changes() == 0) {
      return NotFound("No tag with key '" + std::string(key) + "' found for registered model '" +
                      std::string(name) + "'.");
    }
    return Status::Ok();
  });
}

Status SqlRegistryStore::SetRegisteredModelAlias(std::string_view tenant, std::string_view name,
                                                 std::string_view alias, int64_t version,
                                                 int64_t /*now_ms*/) {
  return db_->Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireModel(db, tenant, name));
    RETURN_IF_ERROR(RequireLiveVersion(db, tenant, name, version).status());
    return UpsertAlias(db, tenant, name, alias, version);
  });
}

Status SqlRegistryStore::DeleteRegisteredModelAlias(std::string_view tenant, std::string_view name,
                                                    std::string_view alias) {
  return db_->Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireModel(db, tenant, name));
    ASSIGN_OR_RETURN(Statement s, db.Prepare("DELETE FROM registered_model_aliases WHERE "
                                             "tenant_id = ? AND name = ? AND alias = ?"));
    return s.Bind(tenant, name, alias).Run();
  });
}

StatusOr<ModelVersion> SqlRegistryStore::GetModelVersionByAlias(std::string_view tenant,
                                                                std::string_view name,
                                                                std::string_view alias) {
  ModelVersion version;
  RETURN_IF_ERROR(db_->Read([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireModel(db, tenant, name));
    ASSIGN_OR_RETURN(std::optional<int64_t> target, AliasTarget(db, tenant, name, alias));
    if (!target) return AliasNotFound(alias);
    ASSIGN_OR_RETURN(version, LoadVersion(db, tenant, name, *target));
    return Status::Ok();
  }));
  return version;
}

// ---- Model versions ----

StatusOr<ModelVersion> SqlRegistryStore::CreateModelVersion(
    std::string_view tenant, const CreateModelVersionRequest& request, int64_t now_ms) {
  ModelVersion created;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireModel(db, tenant, request.name));
    int64_t version = 0;
    {
      // Deleted versions count: a number is never handed out twice.
      ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT COALESCE(MAX(version), 0) + 1 FROM "
                                               "model_versions WHERE tenant_id = ? AND name = ?"));
      s.Bind(tenant, request.name);
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) return Internal("no next model version");
      version = s.Int(0);
    }
    {
      ASSIGN_OR_RETURN(Statement s,
                       db.Prepare("INSERT INTO model_versions (tenant_id, name, version, "
                                  "creation_timestamp, last_updated_timestamp, user_id, "
                                  "current_stage, description, source, storage_location, run_id, "
                                  "run_link, model_id, status, status_message) VALUES (?, ?, ?, "
                                  "?, ?, ?, 'None', ?, ?, ?, ?, ?, ?, ?, '')"));
      RETURN_IF_ERROR(s.Bind(tenant, request.name, version, now_ms, now_ms, request.user_id,
                             request.description, request.source, request.storage_location,
                             request.run_id, request.run_link, request.model_id,
                             ModelVersionStatusName(ModelVersionStatus::kReady))
                          .Run());
    }
    for (const Tag& tag : request.tags) {
      RETURN_IF_ERROR(UpsertVersionTag(db, tenant, request.name, version, tag));
    }
    RETURN_IF_ERROR(TouchModel(db, tenant, request.name, now_ms));
    ASSIGN_OR_RETURN(created, LoadVersion(db, tenant, request.name, version));
    return Status::Ok();
  }));
  return created;
}

StatusOr<ModelVersion> SqlRegistryStore::GetModelVersion(std::string_view tenant,
                                                         std::string_view name, int64_t version) {
  return db_->ReadValue([&](Connection& db) { return LoadVersion(db, tenant, name, version); });
}

StatusOr<ModelVersion> SqlRegistryStore::UpdateModelVersion(std::string_view tenant,
                                                            std::string_view name, int64_t version,
                                                            std::optional<std::string> description,
                                                            int64_t now_ms) {
  ModelVersion updated;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireLiveVersion(db, tenant, name, version).status());
    if (description) {
      ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE model_versions SET description = ?, "
                                               "last_updated_timestamp = ? WHERE tenant_id = ? "
                                               "AND name = ? AND version = ?"));
      RETURN_IF_ERROR(s.Bind(*description, now_ms, tenant, name, version).Run());
    }
    ASSIGN_OR_RETURN(updated, LoadVersion(db, tenant, name, version));
    return Status::Ok();
  }));
  return updated;
}

Status SqlRegistryStore::DeleteModelVersion(std::string_view tenant, std::string_view name,
                                            int64_t version, int64_t now_ms) {
  return db_->Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireLiveVersion(db, tenant, name, version).status());
    {
      ASSIGN_OR_RETURN(Statement s, db.Prepare("DELETE FROM registered_model_aliases WHERE "
                                               "tenant_id = ? AND name = ? AND version = ?"));
      RETURN_IF_ERROR(s.Bind(tenant, name, version).Run());
    }
    RETURN_IF_ERROR(SetVersionStage(db, tenant, name, version, kDeletedStage, now_ms));
    return TouchModel(db, tenant, name, now_ms);
  });
}

StatusOr<ResultPage<ModelVersion>> SqlRegistryStore::SearchModelVersions(
    std::string_view tenant, const SearchModelVersionsQuery& query) {
  SearchSchema schema;
  schema.id_expr = "(v.name, v.version)";
  schema.attributes = {
      {"name", {"v.name", ValueKind::kString}},
      {"run_id", {"v.run_id", ValueKind::kString, /*allow_in=*/true}},
      {"source_path", {"v.source", ValueKind::kString}},
      {"version_number", {"v.version", ValueKind::kNumber}},
      {"creation_timestamp", {"v.creation_timestamp", ValueKind::kNumber}},
      {"last_updated_timestamp", {"v.last_updated_timestamp", ValueKind::kNumber}},
  };
  schema.tags = KeyValueTable("model_version_tags", "name, version", tenant);

  SqlParams params(PlaceholderStyle::kQuestion);
  std::string sql =
      "SELECT " + std::string(kVersionColumns) + " FROM model_versions v WHERE v.tenant_id = ";
  sql += params.Add(std::string(tenant));
  sql += " AND v.current_stage != 'Deleted_Internal'";
  RETURN_IF_ERROR(
      AppendFilterAndOrder(sql, query.filter, query.order_by, schema, dialect_, params,
                           "v.last_updated_timestamp DESC, v.name ASC, v.version DESC",
                           {{"name", "v.name ASC"}, {"version_number", "v.version DESC"}}));

  ResultPage<ModelVersion> page;
  RETURN_IF_ERROR(db_->Read([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(
        page, RunPagedQuery<ModelVersion>(db, sql, params, query.page,
                                          [](const Statement& s) { return ReadVersion(s); }));
    return LoadVersionChildren(db, tenant, page.items);
  }));
  return page;
}

StatusOr<ModelVersion> SqlRegistryStore::TransitionModelVersionStage(
    std::string_view tenant, std::string_view name, int64_t version, ModelStage stage,
    bool archive_existing, int64_t now_ms) {
  if (archive_existing && !IsActiveStage(stage)) return CannotArchive(stage);
  ModelVersion moved;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireLiveVersion(db, tenant, name, version).status());
    if (archive_existing) {
      RETURN_IF_ERROR(ArchiveOthersInStage(db, tenant, name, stage, version, now_ms));
    }
    RETURN_IF_ERROR(SetVersionStage(db, tenant, name, version, ModelStageName(stage), now_ms));
    RETURN_IF_ERROR(TouchModel(db, tenant, name, now_ms));
    ASSIGN_OR_RETURN(moved, LoadVersion(db, tenant, name, version));
    return Status::Ok();
  }));
  return moved;
}

Status SqlRegistryStore::SetModelVersionTag(std::string_view tenant, std::string_view name,
                                            int64_t version, const Tag& tag, int64_t /*now_ms*/) {
  return db_->Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireLiveVersion(db, tenant, name, version).status());
    return UpsertVersionTag(db, tenant, name, version, tag);
  });
}

Status SqlRegistryStore::DeleteModelVersionTag(std::string_view tenant, std::string_view name,
                                               int64_t version, std::string_view key) {
  return db_->Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireLiveVersion(db, tenant, name, version).status());
    ASSIGN_OR_RETURN(Statement s, db.Prepare("DELETE FROM model_version_tags WHERE tenant_id = ? "
                                             "AND name = ? AND version = ? AND key = ?"));
    RETURN_IF_ERROR(s.Bind(tenant, name, version, key).Run());
    if (db.Changes() == 0) {
      return NotFound("No tag with key '" + std::string(key) + "' found for model version (name=" +
                      std::string(name) + ", version=" + std::to_string(version) + ").");
    }
    return Status::Ok();
  });
}

// ---- Promotions ----

StatusOr<PromotionRecord> SqlRegistryStore::PromoteModelVersion(std::string_view tenant,
                                                                const PromoteRequest& request,
                                                                int64_t now_ms) {
  if (request.stage.has_value() == request.alias.has_value()) {
    return InvalidArgument("Exactly one of 'stage' and 'alias' must be given");
  }
  if (request.stage && request.archive_previous && !IsActiveStage(*request.stage)) {
    return CannotArchive(*request.stage);
  }
  const std::string& name = request.name;
  PromotionRecord record;
  record.name = name;
  record.version = request.version;
  record.principal = request.principal;
  record.timestamp = now_ms;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireModel(db, tenant, name));
    RETURN_IF_ERROR(RequireLiveVersion(db, tenant, name, request.version).status());
    if (request.stage) {
      ModelStage stage = *request.stage;
      record.target = "stage:" + std::string(ModelStageName(stage));
      ASSIGN_OR_RETURN(record.previous_version,
                       NewestOtherInStage(db, tenant, name, stage, request.version));
      if (request.archive_previous) {
        RETURN_IF_ERROR(ArchiveOthersInStage(db, tenant, name, stage, request.version, now_ms));
      }
      RETURN_IF_ERROR(
          SetVersionStage(db, tenant, name, request.version, ModelStageName(stage), now_ms));
    } else {
      const std::string& alias = *request.alias;
      record.target = "alias:" + alias;
      ASSIGN_OR_RETURN(std::optional<int64_t> holder, AliasTarget(db, tenant, name, alias));
      // Re-pointing an alias at the version it already names has no previous holder.
      if (holder && *holder != request.version) record.previous_version = holder;
      if (request.archive_previous && record.previous_version) {
        RETURN_IF_ERROR(SetVersionStage(db, tenant, name, *record.previous_version,
                                        ModelStageName(ModelStage::kArchived), now_ms));
      }
      RETURN_IF_ERROR(UpsertAlias(db, tenant, name, alias, request.version));
    }
    RETURN_IF_ERROR(TouchModel(db, tenant, name, now_ms));
    ASSIGN_OR_RETURN(Statement s, db.Prepare("INSERT INTO model_version_promotions (tenant_id, "
                                             "name, version, target, principal, timestamp, "
                                             "previous_version) VALUES (?, ?, ?, ?, ?, ?, ?)"));
    return s
        .Bind(tenant, name, request.version, record.target, record.principal, now_ms,
              record.previous_version)
        .Run();
  }));
  return record;
}

StatusOr<std::vector<PromotionRecord>> SqlRegistryStore::ListPromotions(
    std::string_view tenant, std::string_view name, std::optional<int64_t> version) {
  std::vector<PromotionRecord> records;
  RETURN_IF_ERROR(db_->Read([&](Connection& db) -> Status {
    RETURN_IF_ERROR(RequireModel(db, tenant, name));
    ASSIGN_OR_RETURN(
        Statement s,
        db.Prepare("SELECT name, version, target, principal, timestamp, "
                   "previous_version FROM model_version_promotions WHERE tenant_id = "
                   "? AND name = ? AND (CAST(? AS BIGINT) IS NULL OR version = ?) ORDER BY "
                   "promotion_id"));
    s.Bind(tenant, name, version, version);
    return ForEachRow(s, [&](const Statement& row) { records.push_back(ReadPromotion(row)); });
  }));
  return records;
}

Status SqlRegistryStore::ImportRegisteredModel(std::string_view tenant,
                                               const RegisteredModelImport& input) {
  const RegisteredModel& model = input.model;
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(bool taken, ModelExistsIn(db, tenant, model.name));
    if (taken) return RegisteredModelExists(model.name);
    {
      ASSIGN_OR_RETURN(Statement s, db.Prepare("INSERT INTO registered_models (tenant_id, name, "
                                               "creation_timestamp, last_updated_timestamp, "
                                               "user_id, description) VALUES (?, ?, ?, ?, ?, ?)"));
      RETURN_IF_ERROR(s.Bind(tenant, model.name, model.creation_timestamp,
                             model.last_updated_timestamp, model.user_id, model.description)
                          .Run());
    }
    for (const Tag& tag : model.tags) RETURN_IF_ERROR(UpsertModelTag(db, tenant, model.name, tag));
    std::vector<int64_t> live;
    for (const ImportedModelVersion& imported : input.versions) {
      const ModelVersion& v = imported.version;
      if (v.version <= 0) {
        return InvalidArgument("model version numbers start at 1, not " +
                               std::to_string(v.version));
      }
      ASSIGN_OR_RETURN(Statement s,
                       db.Prepare("INSERT INTO model_versions (tenant_id, name, version, "
                                  "creation_timestamp, last_updated_timestamp, user_id, "
                                  "current_stage, description, source, storage_location, run_id, "
                                  "run_link, model_id, status, status_message) VALUES (?, ?, ?, "
                                  "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
      std::string_view stage =
          imported.deleted ? std::string_view("Deleted_Internal") : ModelStageName(v.current_stage);
      RETURN_IF_ERROR(s.Bind(tenant, model.name, v.version, v.creation_timestamp,
                             v.last_updated_timestamp, v.user_id, stage, v.description, v.source,
                             v.storage_location, v.run_id, v.run_link, v.model_id,
                             ModelVersionStatusName(v.status), v.status_message)
                          .Run());
      for (const Tag& tag : v.tags) {
        RETURN_IF_ERROR(UpsertVersionTag(db, tenant, model.name, v.version, tag));
      }
      if (!imported.deleted) live.push_back(v.version);
    }
    for (const ModelVersionAlias& alias : model.aliases) {
      if (std::find(live.begin(), live.end(), alias.version) == live.end()) {
        return InvalidArgument("alias '" + alias.alias + "' points at version " +
                               std::to_string(alias.version) + ", which is not a live version");
      }
      RETURN_IF_ERROR(UpsertAlias(db, tenant, model.name, alias.alias, alias.version));
    }
    return Status::Ok();
  });
}

}  // namespace cairn::metadata
