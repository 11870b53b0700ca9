#include "metadata/sql/sql_assessment_store.h"

#include <boost/json.hpp>
#include <map>
#include <string>
#include <utility>

#include "metadata/store_rules.h"

namespace cairn::metadata {
namespace {

using sql::Connection;
using sql::JsonArray;
using sql::Statement;

constexpr std::string_view kColumns =
    "assessment_id, trace_id, name, kind, value, error, source_type, source_id, span_id, run_id, "
    "rationale, overrides, valid, metadata, created_at, updated_at";

std::string_view KindName(AssessmentKind kind) {
  return kind == AssessmentKind::kFeedback ? "feedback" : "expectation";
}

std::optional<std::string> MetadataJson(const std::vector<Tag>& metadata) {
  if (metadata.empty()) return std::nullopt;
  boost::json::object o;
  for (const Tag& t : metadata) o[t.key] = t.value;
  return boost::json::serialize(o);
}

// The stored metadata text back as entries sorted by key; text that is not a JSON object of
// strings (never written by this store) reads as no metadata.
std::vector<Tag> ParseMetadata(std::string_view text) {
  std::vector<Tag> out;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return out;
  std::map<std::string, std::string> sorted;
  for (const auto& [k, value] : v.get_object()) {
    if (value.is_string()) sorted[std::string(k)] = std::string(value.get_string());
  }
  for (auto& [k, value] : sorted) out.push_back({k, std::move(value)});
  return out;
}

Assessment ReadAssessment(const Statement& s) {
  Assessment a;
  a.assessment_id = s.Text(0);
  a.trace_id = s.Text(1);
  a.name = s.Text(2);
  a.kind =
      s.TextView(3) == "expectation" ? AssessmentKind::kExpectation : AssessmentKind::kFeedback;
  a.value_json = s.Text(4);
  a.error_json = s.OptionalText(5);
  a.source_type = s.Text(6);
  a.source_id = s.OptionalText(7);
  a.span_id = s.OptionalText(8);
  a.run_id = s.OptionalText(9);
  a.rationale = s.OptionalText(10);
  a.overrides = s.OptionalText(11);
  a.valid = s.Int(12) != 0;
  if (std::optional<std::string> metadata = s.OptionalText(13))
    a.metadata = ParseMetadata(*metadata);
  a.create_time_ms = s.Int(14);
  a.last_update_time_ms = s.Int(15);
  return a;
}

StatusOr<bool> TraceExists(Connection& db, std::string_view tenant, std::string_view trace_id) {
  ASSIGN_OR_RETURN(Statement s,
                   db.Prepare("SELECT 1 FROM traces WHERE tenant_id = ? AND trace_id = ?"));
  return s.Bind(tenant, trace_id).Step();
}

StatusOr<Assessment> ReadOne(Connection& db, std::string_view tenant, std::string_view trace_id,
                             std::string_view assessment_id) {
  ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT " + std::string(kColumns) +
                                           " FROM assessments WHERE tenant_id = ? AND trace_id = "
                                           "? AND assessment_id = ?"));
  ASSIGN_OR_RETURN(bool row, s.Bind(tenant, trace_id, assessment_id).Step());
  if (row) return ReadAssessment(s);
  ASSIGN_OR_RETURN(bool trace, TraceExists(db, tenant, trace_id));
  if (!trace) return NotFound("Trace with request_id '" + std::string(trace_id) + "' not found");
  return NotFound("Assessment with ID '" + std::string(assessment_id) + "' not found for trace '" +
                  std::string(trace_id) + "'");
}

Status SetValid(Connection& db, std::string_view tenant, std::string_view trace_id,
                std::string_view assessment_id, bool valid) {
  ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE assessments SET valid = ? WHERE tenant_id = ? "
                                           "AND trace_id = ? AND assessment_id = ?"));
  return s.Bind(int64_t{valid ? 1 : 0}, tenant, trace_id, assessment_id).Run();
}

}  // namespace

StatusOr<Assessment> SqlAssessmentStore::CreateAssessment(std::string_view tenant,
                                                          const Assessment& assessment) {
  Assessment stored;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(bool trace, TraceExists(db, tenant, assessment.trace_id));
    if (!trace) return NotFound("Trace with ID '" + assessment.trace_id + "' not found.");
    ASSIGN_OR_RETURN(Statement taken, db.Prepare("SELECT 1 FROM assessments WHERE tenant_id = ? "
                                                 "AND assessment_id = ?"));
    ASSIGN_OR_RETURN(bool exists, taken.Bind(tenant, assessment.assessment_id).Step());
    if (exists) {
      return AlreadyExists("Assessment with ID '" + assessment.assessment_id + "' already exists");
    }
    if (assessment.overrides) {
      RETURN_IF_ERROR(SetValid(db, tenant, assessment.trace_id, *assessment.overrides, false));
      if (db.Changes() == 0) {
        return NotFound("Assessment with ID '" + *assessment.overrides + "' not found for trace '" +
                        assessment.trace_id + "'");
      }
    }
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("INSERT INTO assessments (tenant_id, " + std::string(kColumns) +
                                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)"));
    RETURN_IF_ERROR(s.Bind(tenant, assessment.assessment_id, assessment.trace_id, assessment.name,
                           KindName(assessment.kind), assessment.value_json, assessment.error_json,
                           assessment.source_type, assessment.source_id, assessment.span_id,
                           assessment.run_id, assessment.rationale, assessment.overrides,
                           MetadataJson(assessment.metadata), assessment.create_time_ms,
                           assessment.last_update_time_ms)
                        .Run());
    ASSIGN_OR_RETURN(stored, ReadOne(db, tenant, assessment.trace_id, assessment.assessment_id));
    return Status::Ok();
  }));
  return stored;
}

StatusOr<Assessment> SqlAssessmentStore::GetAssessment(std::string_view tenant,
                                                       std::string_view trace_id,
                                                       std::string_view assessment_id) {
  return db_->ReadValue(
      [&](Connection& db) { return ReadOne(db, tenant, trace_id, assessment_id); });
}

StatusOr<Assessment> SqlAssessmentStore::UpdateAssessment(std::string_view tenant,
                                                          std::string_view trace_id,
                                                          std::string_view assessment_id,
                                                          const AssessmentUpdate& update) {
  Assessment stored;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Assessment a, ReadOne(db, tenant, trace_id, assessment_id));
    if (update.value_kind && *update.value_kind != a.kind) {
      return InvalidArgument(*update.value_kind == AssessmentKind::kExpectation
                                 ? "Cannot update expectation value on a Feedback assessment."
                                 : "Cannot update feedback value on an Expectation assessment.");
    }
    if (update.name) a.name = *update.name;
    if (update.value_kind) {
      a.value_json = update.value_json;
      a.error_json = a.kind == AssessmentKind::kFeedback ? update.error_json : std::nullopt;
    }
    if (update.rationale && a.kind == AssessmentKind::kFeedback) a.rationale = *update.rationale;
    if (!update.metadata.empty()) {
      std::map<std::string, std::string> merged;
      for (const Tag& t : a.metadata) merged[t.key] = t.value;
      for (const Tag& t : update.metadata) merged[t.key] = t.value;
      a.metadata.clear();
      for (auto& [k, v] : merged) a.metadata.push_back({k, std::move(v)});
    }
    a.last_update_time_ms = update.last_update_time_ms;
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("UPDATE assessments SET name = ?, value = ?, error = ?, rationale "
                                "= ?, metadata = ?, updated_at = ? WHERE tenant_id = ? AND "
                                "trace_id = ? AND assessment_id = ?"));
    RETURN_IF_ERROR(s.Bind(a.name, a.value_json, a.error_json, a.rationale,
                           MetadataJson(a.metadata), a.last_update_time_ms, tenant, trace_id,
                           assessment_id)
                        .Run());
    stored = std::move(a);
    return Status::Ok();
  }));
  return stored;
}

Status SqlAssessmentStore::DeleteAssessment(std::string_view tenant, std::string_view trace_id,
                                            std::string_view assessment_id) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement find, db.Prepare("SELECT overrides FROM assessments WHERE "
                                                "tenant_id = ? AND trace_id = ? AND "
                                                "assessment_id = ?"));
    ASSIGN_OR_RETURN(bool row, find.Bind(tenant, trace_id, assessment_id).Step());
    if (!row) return Status::Ok();
    std::optional<std::string> overrides = find.OptionalText(0);
    find.Reset();
    if (overrides) RETURN_IF_ERROR(SetValid(db, tenant, trace_id, *overrides, true));
    ASSIGN_OR_RETURN(Statement del, db.Prepare("DELETE FROM assessments WHERE tenant_id = ? AND "
                                               "trace_id = ? AND assessment_id = ?"));
    return del.Bind(tenant, trace_id, assessment_id).Run();
  });
}

StatusOr<std::vector<Assessment>> SqlAssessmentStore::ListAssessments(
    std::string_view tenant, const std::vector<std::string>& trace_ids) {
  if (trace_ids.empty()) return std::vector<Assessment>{};
  return db_->ReadValue([&](Connection& db) -> StatusOr<std::vector<Assessment>> {
    ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT " + std::string(kColumns) +
                                             " FROM assessments WHERE tenant_id = ? AND trace_id " +
                                             sql::InJsonTexts(db.dialect()) +
                                             " ORDER BY trace_id, created_at, assessment_id"));
    s.Bind(tenant, JsonArray(trace_ids));
    std::map<std::string, std::vector<Assessment>, std::less<>> by_trace;
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      Assessment a = ReadAssessment(s);
      by_trace[a.trace_id].push_back(std::move(a));
    }
    std::vector<Assessment> out;
    for (const std::string& id : trace_ids) {
      auto it = by_trace.find(id);
      if (it == by_trace.end()) continue;
      for (Assessment& a : it->second) out.push_back(std::move(a));
      by_trace.erase(it);
    }
    return out;
  });
}

StatusOr<std::vector<Assessment>> SqlAssessmentStore::FindValidAssessments(
    std::string_view tenant, const std::vector<std::string>& experiment_ids, AssessmentKind kind,
    std::string_view name) {
  std::vector<int64_t> ids;
  for (const std::string& id : experiment_ids) {
    if (std::optional<int64_t> parsed = ParseExperimentId(id)) ids.push_back(*parsed);
  }
  if (ids.empty()) return std::vector<Assessment>{};
  return db_->ReadValue([&](Connection& db) -> StatusOr<std::vector<Assessment>> {
    std::string columns;
    for (std::string_view c : {"assessment_id", "trace_id", "name", "kind", "value", "error",
                               "source_type", "source_id", "span_id", "run_id", "rationale",
                               "overrides", "valid", "metadata", "created_at", "updated_at"}) {
      columns += (columns.empty() ? "a." : ", a.") + std::string(c);
    }
    ASSIGN_OR_RETURN(
        Statement s,
        db.Prepare("SELECT " + columns +
                   " FROM assessments a JOIN traces t ON t.tenant_id = a.tenant_id "
                   "AND t.trace_id = a.trace_id WHERE a.tenant_id = ? AND a.kind = ? "
                   "AND a.name = ? AND a.valid = 1 AND t.experiment_id " +
                   sql::InJsonInts(db.dialect()) + " ORDER BY a.trace_id, a.created_at"));
    s.Bind(tenant, KindName(kind), name, JsonArray(ids));
    std::vector<Assessment> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back(ReadAssessment(s));
    }
    return out;
  });
}

Status SqlAssessmentStore::DeleteRunAssessments(std::string_view tenant, std::string_view run_id) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("DELETE FROM assessments WHERE tenant_id = ? AND run_id = ?"));
    return s.Bind(tenant, run_id).Run();
  });
}

Status SqlAssessmentStore::DeleteExperimentRunAssessments(std::string_view tenant,
                                                          std::string_view experiment_id) {
  std::optional<int64_t> id = ParseExperimentId(experiment_id);
  if (!id) return Status::Ok();
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("DELETE FROM assessments WHERE tenant_id = ? AND run_id IN "
                                "(SELECT run_uuid FROM runs WHERE tenant_id = ? AND "
                                "experiment_id = ?)"));
    return s.Bind(tenant, tenant, *id).Run();
  });
}

}  // namespace cairn::metadata
