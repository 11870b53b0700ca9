#include "metadata/sql/sql_eval_dataset_store.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <utility>

#include "metadata/eval_dataset_rules.h"
#include "metadata/sql/sql_search.h"

namespace cairn::metadata {
namespace {

using sql::Connection;
using sql::JsonArray;
using sql::Statement;
using sql_store::ChildRows;
using sql_store::KeyValueTable;

constexpr std::string_view kDatasetColumns =
    "d.dataset_id, d.name, d.schema_json, d.profile_json, d.digest, d.created_time, "
    "d.last_update_time, d.created_by, d.last_updated_by";

constexpr std::string_view kRecordColumns =
    "record_id, dataset_id, inputs, outputs, expectations, tags, source, source_id, source_type, "
    "created_time, last_update_time, created_by, last_updated_by";

EvalDataset ReadDataset(const Statement& s) {
  EvalDataset d;
  d.id = s.Text(0);
  d.name = s.Text(1);
  d.schema = s.OptionalText(2);
  d.profile = s.OptionalText(3);
  d.digest = s.Text(4);
  d.created_time_ms = s.Int(5);
  d.last_update_time_ms = s.Int(6);
  d.created_by = s.OptionalText(7);
  d.last_updated_by = s.OptionalText(8);
  return d;
}

EvalDatasetRecord ReadRecord(const Statement& s) {
  EvalDatasetRecord r;
  r.id = s.Text(0);
  r.dataset_id = s.Text(1);
  r.inputs = s.Text(2);
  r.outputs = s.OptionalText(3);
  r.expectations = s.OptionalText(4);
  r.tags = s.Text(5);
  r.source = s.OptionalText(6);
  r.source_id = s.OptionalText(7);
  r.source_type = s.OptionalText(8);
  r.created_time_ms = s.Int(9);
  r.last_update_time_ms = s.Int(10);
  r.created_by = s.OptionalText(11);
  r.last_updated_by = s.OptionalText(12);
  return r;
}

Status NoSuchDataset(std::string_view id) {
  return NotFound("Evaluation dataset with id '" + std::string(id) + "' not found");
}

Status LoadTags(Connection& db, std::string_view tenant, std::vector<EvalDataset>& datasets) {
  if (datasets.empty()) return Status::Ok();
  ChildRows<EvalDataset> rows(
      db, datasets, [](const EvalDataset& d) { return d.id; }, tenant);
  return rows.Attach(
      "SELECT dataset_id, key, value FROM eval_dataset_tags WHERE tenant_id = ? AND dataset_id IN "
      "(SELECT value FROM " +
          sql::JsonTexts(db.dialect()) + ") ORDER BY dataset_id, seq",
      [](EvalDataset& d, const Statement& s) {
        d.tags.push_back({s.Text(1), s.Text(2)});
      });
}

StatusOr<std::optional<EvalDataset>> FindDataset(Connection& db, std::string_view tenant,
                                                 std::string_view id) {
  ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT " + std::string(kDatasetColumns) +
                                           " FROM eval_datasets d WHERE d.tenant_id = ? AND "
                                           "d.dataset_id = ?"));
  ASSIGN_OR_RETURN(bool row, s.Bind(tenant, id).Step());
  if (!row) return std::optional<EvalDataset>();
  std::vector<EvalDataset> one{ReadDataset(s)};
  RETURN_IF_ERROR(LoadTags(db, tenant, one));
  return std::optional<EvalDataset>(std::move(one.front()));
}

Status UpsertTag(Connection& db, std::string_view tenant, std::string_view id, const Tag& tag) {
  ASSIGN_OR_RETURN(Statement s,
                   db.Prepare("INSERT INTO eval_dataset_tags (dataset_id, tenant_id, key, value, "
                              "seq) VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM "
                              "eval_dataset_tags WHERE dataset_id = ?)) ON CONFLICT (dataset_id, "
                              "key) DO UPDATE SET value = excluded.value"));
  return s.Bind(id, tenant, tag.key, tag.value, id).Run();
}

Status LinkExperiments(Connection& db, std::string_view tenant, std::string_view id,
                       const std::vector<std::string>& experiment_ids) {
  ASSIGN_OR_RETURN(Statement s,
                   db.Prepare("INSERT INTO eval_dataset_experiments (dataset_id, "
                              "tenant_id, experiment_id, seq) VALUES (?, ?, ?, (SELECT "
                              "COALESCE(MAX(seq), 0) + 1 FROM eval_dataset_experiments WHERE "
                              "dataset_id = ?)) ON CONFLICT DO NOTHING"));
  for (const std::string& e : experiment_ids) {
    RETURN_IF_ERROR(s.Bind(id, tenant, e, id).Run());
    s.Reset();
  }
  return Status::Ok();
}

Status TouchDataset(Connection& db, std::string_view tenant, std::string_view id, int64_t now_ms) {
  ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE eval_datasets SET last_update_time = ? WHERE "
                                           "tenant_id = ? AND dataset_id = ?"));
  return s.Bind(now_ms, tenant, id).Run();
}

Status WriteRecord(Connection& db, std::string_view tenant, const EvalRecordUpsert& upsert,
                   const EvalDatasetRecord& r, bool insert) {
  if (insert) {
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("INSERT INTO eval_dataset_records (tenant_id, input_hash, " +
                                std::string(kRecordColumns) +
                                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    return s
        .Bind(tenant, upsert.input_hash, r.id, r.dataset_id, r.inputs, r.outputs, r.expectations,
              r.tags, r.source, r.source_id, r.source_type, r.created_time_ms,
              r.last_update_time_ms, r.created_by, r.last_updated_by)
        .Run();
  }
  ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE eval_dataset_records SET outputs = ?, "
                                           "expectations = ?, tags = ?, last_update_time = ?, "
                                           "last_updated_by = ? WHERE record_id = ?"));
  return s.Bind(r.outputs, r.expectations, r.tags, r.last_update_time_ms, r.last_updated_by, r.id)
      .Run();
}

StatusOr<int64_t> CountRecords(Connection& db, std::string_view id) {
  ASSIGN_OR_RETURN(Statement s,
                   db.Prepare("SELECT COUNT(*) FROM eval_dataset_records WHERE dataset_id = ?"));
  ASSIGN_OR_RETURN(bool row, s.Bind(id).Step());
  return row ? s.Int(0) : 0;
}

}  // namespace

SqlEvalDatasetStore::SqlEvalDatasetStore(std::shared_ptr<sql::Database> db)
    : db_(std::move(db)), dialect_(sql_store::MakeSearchDialect(db_->dialect())) {}

Status SqlEvalDatasetStore::CreateDataset(std::string_view tenant, const EvalDataset& d,
                                          const std::vector<std::string>& experiment_ids) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement taken,
                     db.Prepare("SELECT 1 FROM eval_datasets WHERE dataset_id = ?"));
    ASSIGN_OR_RETURN(bool exists, taken.Bind(d.id).Step());
    if (exists) return AlreadyExists("Evaluation dataset with id '" + d.id + "' already exists");
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("INSERT INTO eval_datasets (tenant_id, dataset_id, name, "
                                "schema_json, profile_json, digest, created_time, "
                                "last_update_time, created_by, last_updated_by) VALUES (?, ?, ?, "
                                "?, ?, ?, ?, ?, ?, ?)"));
    RETURN_IF_ERROR(s.Bind(tenant, d.id, d.name, d.schema, d.profile, d.digest, d.created_time_ms,
                           d.last_update_time_ms, d.created_by, d.last_updated_by)
                        .Run());
    for (const Tag& tag : d.tags) RETURN_IF_ERROR(UpsertTag(db, tenant, d.id, tag));
    return LinkExperiments(db, tenant, d.id, experiment_ids);
  });
}

StatusOr<EvalDataset> SqlEvalDatasetStore::GetDataset(std::string_view tenant,
                                                      std::string_view id) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<EvalDataset> {
    ASSIGN_OR_RETURN(std::optional<EvalDataset> d, FindDataset(db, tenant, id));
    if (!d) return NoSuchDataset(id);
    return std::move(*d);
  });
}

StatusOr<bool> SqlEvalDatasetStore::DeleteDataset(std::string_view tenant, std::string_view id) {
  bool deleted = false;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement s, db.Prepare("DELETE FROM eval_datasets WHERE tenant_id = ? AND "
                                             "dataset_id = ?"));
    RETURN_IF_ERROR(s.Bind(tenant, id).Run());
    deleted = db.Changes() > 0;
    return Status::Ok();
  }));
  return deleted;
}

StatusOr<ResultPage<EvalDataset>> SqlEvalDatasetStore::SearchDatasets(
    std::string_view tenant, const SearchEvalDatasetsQuery& query) {
  SearchSchema schema;
  schema.id_expr = "d.dataset_id";
  schema.attributes = {
      {"name", {"d.name", ValueKind::kString, /*allow_in=*/true}},
      {"created_by", {"d.created_by", ValueKind::kString}},
      {"last_updated_by", {"d.last_updated_by", ValueKind::kString}},
      {"created_time", {"d.created_time", ValueKind::kNumber}},
      {"last_update_time", {"d.last_update_time", ValueKind::kNumber}},
  };
  schema.tags = KeyValueTable("eval_dataset_tags", "dataset_id", tenant);

  SqlParams params(PlaceholderStyle::kQuestion);
  std::string sql =
      "SELECT " + std::string(kDatasetColumns) + " FROM eval_datasets d WHERE d.tenant_id = ";
  sql += params.Add(std::string(tenant));
  if (!query.experiment_ids.empty()) {
    sql +=
        " AND d.dataset_id IN (SELECT dataset_id FROM eval_dataset_experiments WHERE "
        "tenant_id = ";
    sql += params.Add(std::string(tenant));
    sql += " AND experiment_id ";
    sql += sql::InJsonTexts(db_->dialect(), params.Add(JsonArray(query.experiment_ids)));
    sql += ")";
  }
  RETURN_IF_ERROR(AppendFilterAndOrder(sql, query.filter, query.order_by, schema, dialect_, params,
                                       "d.created_time DESC, d.dataset_id DESC",
                                       {{"dataset_id", "d.dataset_id DESC"}}));
  ResultPage<EvalDataset> page;
  RETURN_IF_ERROR(db_->Read([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(page, sql_store::RunPagedQuery<EvalDataset>(
                               db, sql, params, Page{query.max_results, query.offset},
                               [](const Statement& s) { return ReadDataset(s); }));
    return LoadTags(db, tenant, page.items);
  }));
  return page;
}

Status SqlEvalDatasetStore::SetDatasetTags(std::string_view tenant, std::string_view id,
                                           const std::vector<Tag>& tags) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(std::optional<EvalDataset> d, FindDataset(db, tenant, id));
    if (!d) {
      return NotFound("Could not find evaluation dataset with ID " + std::string(id));
    }
    for (const Tag& tag : tags) RETURN_IF_ERROR(UpsertTag(db, tenant, id, tag));
    return Status::Ok();
  });
}

Status SqlEvalDatasetStore::DeleteDatasetTag(std::string_view tenant, std::string_view id,
                                             std::string_view key) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement s, db.Prepare("DELETE FROM eval_dataset_tags WHERE tenant_id = ? "
                                             "AND dataset_id = ? AND key = ?"));
    return s.Bind(tenant, id, key).Run();
  });
}

StatusOr<EvalRecordUpsertResult> SqlEvalDatasetStore::UpsertRecords(
    std::string_view tenant, std::string_view dataset_id,
    const std::vector<EvalRecordUpsert>& records, int64_t now_ms) {
  EvalRecordUpsertResult result;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    result = {};
    ASSIGN_OR_RETURN(std::optional<EvalDataset> d, FindDataset(db, tenant, dataset_id));
    if (!d) return NoSuchDataset(dataset_id);
    ASSIGN_OR_RETURN(Statement find,
                     db.Prepare("SELECT " + std::string(kRecordColumns) +
                                " FROM eval_dataset_records WHERE dataset_id = ? AND "
                                "input_hash = ?"));
    std::optional<std::string> updated_by;
    for (const EvalRecordUpsert& upsert : records) {
      if (upsert.user) updated_by = upsert.user;
      ASSIGN_OR_RETURN(bool found, find.Bind(dataset_id, upsert.input_hash).Step());
      EvalDatasetRecord record;
      if (found) {
        record = ReadRecord(find);
        eval_datasets::MergeRecord(record, upsert, now_ms);
        ++result.updated;
      } else {
        record = eval_datasets::NewRecord(dataset_id, upsert, now_ms);
        ++result.inserted;
      }
      find.Reset();
      RETURN_IF_ERROR(WriteRecord(db, tenant, upsert, record, !found));
    }
    std::optional<std::string> schema = eval_datasets::UpdateSchema(d->schema, records);
    ASSIGN_OR_RETURN(int64_t count, CountRecords(db, dataset_id));
    std::optional<std::string> profile = d->profile;
    if (count > 0) profile = "{\"num_records\": " + std::to_string(count) + "}";
    ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE eval_datasets SET schema_json = ?, "
                                             "profile_json = ?, digest = ?, last_update_time = "
                                             "?, last_updated_by = ? WHERE dataset_id = ?"));
    return s
        .Bind(schema ? schema : d->schema, profile, eval_datasets::DatasetDigest(d->name, now_ms),
              now_ms, updated_by, dataset_id)
        .Run();
  }));
  return result;
}

StatusOr<ResultPage<EvalDatasetRecord>> SqlEvalDatasetStore::GetRecords(
    std::string_view tenant, std::string_view dataset_id, int64_t max_results,
    const std::optional<RecordCursor>& after) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<ResultPage<EvalDatasetRecord>> {
    ASSIGN_OR_RETURN(std::optional<EvalDataset> d, FindDataset(db, tenant, dataset_id));
    if (!d) return NoSuchDataset(dataset_id);
    std::string sql =
        "SELECT " + std::string(kRecordColumns) + " FROM eval_dataset_records WHERE dataset_id = ?";
    if (after) sql += " AND (created_time, record_id) > (?, ?)";
    sql += " ORDER BY created_time, record_id LIMIT ?";
    ASSIGN_OR_RETURN(Statement s, db.Prepare(sql));
    if (after) {
      s.Bind(dataset_id, after->created_time_ms, after->id, max_results + 1);
    } else {
      s.Bind(dataset_id, max_results + 1);
    }
    ResultPage<EvalDatasetRecord> page;
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      if (static_cast<int64_t>(page.items.size()) == max_results) {
        page.has_more = true;
        break;
      }
      page.items.push_back(ReadRecord(s));
    }
    return page;
  });
}

StatusOr<int64_t> SqlEvalDatasetStore::DeleteRecords(std::string_view tenant,
                                                     std::string_view dataset_id,
                                                     const std::vector<std::string>& record_ids) {
  int64_t deleted = 0;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(std::optional<EvalDataset> d, FindDataset(db, tenant, dataset_id));
    if (!d) return NoSuchDataset(dataset_id);
    ASSIGN_OR_RETURN(
        Statement s,
        db.Prepare("DELETE FROM eval_dataset_records WHERE dataset_id = ? AND record_id " +
                   sql::InJsonTexts(db.dialect())));
    RETURN_IF_ERROR(s.Bind(dataset_id, JsonArray(record_ids)).Run());
    deleted = db.Changes();
    if (deleted == 0) return Status::Ok();
    // As MLflow: the profile's count minus the deleted records, "null" at zero.
    int64_t before = 0;
    if (d->profile) {
      std::string_view p = *d->profile;
      size_t colon = p.find(':');
      if (colon != std::string_view::npos) {
        before = std::strtoll(std::string(p.substr(colon + 1)).c_str(), nullptr, 10);
      }
    }
    int64_t now = std::max<int64_t>(0, before - deleted);
    std::string profile = now > 0 ? "{\"num_records\": " + std::to_string(now) + "}" : "null";
    ASSIGN_OR_RETURN(Statement update,
                     db.Prepare("UPDATE eval_datasets SET profile_json = ? WHERE dataset_id = ?"));
    return update.Bind(profile, dataset_id).Run();
  }));
  return deleted;
}

StatusOr<std::vector<std::string>> SqlEvalDatasetStore::GetExperimentIds(
    std::string_view tenant, std::string_view dataset_id) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<std::vector<std::string>> {
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("SELECT experiment_id FROM eval_dataset_experiments WHERE "
                                "tenant_id = ? AND dataset_id = ? ORDER BY seq"));
    s.Bind(tenant, dataset_id);
    std::vector<std::string> ids;
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      ids.push_back(s.Text(0));
    }
    return ids;
  });
}

StatusOr<EvalDataset> SqlEvalDatasetStore::AddExperiments(
    std::string_view tenant, std::string_view dataset_id,
    const std::vector<std::string>& experiment_ids, int64_t now_ms) {
  EvalDataset out;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(std::optional<EvalDataset> d, FindDataset(db, tenant, dataset_id));
    if (!d) return NotFound("Dataset '" + std::string(dataset_id) + "' not found");
    RETURN_IF_ERROR(LinkExperiments(db, tenant, dataset_id, experiment_ids));
    RETURN_IF_ERROR(TouchDataset(db, tenant, dataset_id, now_ms));
    d->last_update_time_ms = now_ms;
    out = std::move(*d);
    return Status::Ok();
  }));
  return out;
}

StatusOr<EvalDataset> SqlEvalDatasetStore::RemoveExperiments(
    std::string_view tenant, std::string_view dataset_id,
    const std::vector<std::string>& experiment_ids, int64_t now_ms) {
  EvalDataset out;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(std::optional<EvalDataset> d, FindDataset(db, tenant, dataset_id));
    if (!d) return NotFound("Dataset '" + std::string(dataset_id) + "' not found");
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("DELETE FROM eval_dataset_experiments WHERE dataset_id = ? AND "
                                "experiment_id " +
                                sql::InJsonTexts(db.dialect())));
    RETURN_IF_ERROR(s.Bind(dataset_id, JsonArray(experiment_ids)).Run());
    if (db.Changes() > 0) {
      RETURN_IF_ERROR(TouchDataset(db, tenant, dataset_id, now_ms));
      d->last_update_time_ms = now_ms;
    }
    out = std::move(*d);
    return Status::Ok();
  }));
  return out;
}

}  // namespace cairn::metadata
