#include "metadata/sql/sql_issue_store.h"

#include <boost/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "metadata/names.h"
#include "metadata/sql/sql_tracking_helpers.h"
#include "metadata/store_rules.h"

namespace cairn::metadata {
namespace {

using sql::Connection;
using sql::JsonArray;
using sql::Statement;

constexpr std::string_view kColumns =
    "issue_id, experiment_id, name, description, status, severity, root_causes, source_run_id, "
    "categories, created_by, created_at, updated_at";

std::optional<std::string> ListJson(const std::vector<std::string>& items) {
  if (items.empty()) return std::nullopt;
  return JsonArray(items);
}

std::vector<std::string> ParseList(const std::optional<std::string>& text) {
  std::vector<std::string> out;
  if (!text) return out;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(*text, ec);
  if (ec || !v.is_array()) return out;
  for (const boost::json::value& item : v.get_array()) {
    if (item.is_string()) out.emplace_back(item.get_string());
  }
  return out;
}

Issue ReadIssue(const Statement& s) {
  Issue i;
  i.issue_id = s.Text(0);
  i.experiment_id = std::to_string(s.Int(1));
  i.name = s.Text(2);
  i.description = s.Text(3);
  i.status = s.Text(4);
  i.severity = s.OptionalText(5);
  i.root_causes = ParseList(s.OptionalText(6));
  i.source_run_id = s.OptionalText(7);
  i.categories = ParseList(s.OptionalText(8));
  i.created_by = s.OptionalText(9);
  i.created_timestamp_ms = s.Int(10);
  i.last_updated_timestamp_ms = s.Int(11);
  return i;
}

StatusOr<Issue> ReadOne(Connection& db, std::string_view tenant, std::string_view issue_id) {
  ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT " + std::string(kColumns) +
                                           " FROM issues WHERE tenant_id = ? AND issue_id = ?"));
  ASSIGN_OR_RETURN(bool row, s.Bind(tenant, issue_id).Step());
  if (!row) return NotFound("Issue with ID '" + std::string(issue_id) + "' not found");
  return ReadIssue(s);
}

}  // namespace

StatusOr<Issue> SqlIssueStore::CreateIssue(std::string_view tenant, const Issue& issue) {
  Issue stored;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    RETURN_IF_ERROR(sql_store::RequireActiveExperiment(db, tenant, issue.experiment_id).status());
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("INSERT INTO issues (tenant_id, " + std::string(kColumns) +
                                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    RETURN_IF_ERROR(s.Bind(tenant, issue.issue_id, *ParseExperimentId(issue.experiment_id),
                           issue.name, issue.description, issue.status, issue.severity,
                           ListJson(issue.root_causes), issue.source_run_id,
                           ListJson(issue.categories), issue.created_by, issue.created_timestamp_ms,
                           issue.last_updated_timestamp_ms)
                        .Run());
    ASSIGN_OR_RETURN(stored, ReadOne(db, tenant, issue.issue_id));
    return Status::Ok();
  }));
  return stored;
}

StatusOr<Issue> SqlIssueStore::GetIssue(std::string_view tenant, std::string_view issue_id) {
  return db_->ReadValue([&](Connection& db) { return ReadOne(db, tenant, issue_id); });
}

StatusOr<Issue> SqlIssueStore::UpdateIssue(std::string_view tenant, std::string_view issue_id,
                                           const IssueUpdate& update) {
  Issue stored;
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Issue issue, ReadOne(db, tenant, issue_id));
    if (update.name) issue.name = *update.name;
    if (update.description) issue.description = *update.description;
    if (update.status) issue.status = *update.status;
    if (update.severity) issue.severity = *update.severity;
    issue.last_updated_timestamp_ms = update.last_updated_timestamp_ms;
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("UPDATE issues SET name = ?, description = ?, status = ?, "
                                "severity = ?, updated_at = ? WHERE tenant_id = ? AND "
                                "issue_id = ?"));
    RETURN_IF_ERROR(s.Bind(issue.name, issue.description, issue.status, issue.severity,
                           issue.last_updated_timestamp_ms, tenant, issue_id)
                        .Run());
    stored = std::move(issue);
    return Status::Ok();
  }));
  return stored;
}

StatusOr<ResultPage<Issue>> SqlIssueStore::SearchIssues(std::string_view tenant,
                                                        const SearchIssuesQuery& query) {
  std::string sql =
      "SELECT " + std::string(kColumns) +
      " FROM issues WHERE tenant_id = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR experiment_id = ?2)";
  std::vector<std::string> values;
  std::optional<int64_t> experiment_id;
  if (query.experiment_id) {
    experiment_id = ParseExperimentId(*query.experiment_id);
    if (!experiment_id) return ResultPage<Issue>{};
  }
  for (const IssueFilterClause& clause : query.filter) {
    // Keys are checked by the caller; only these two columns can be named.
    std::string column = clause.key == "status" ? "status" : "source_run_id";
    values.push_back(clause.value);
    std::string param = "?" + std::to_string(values.size() + 2);
    sql += clause.equal ? " AND " + column + " = " + param
                        : " AND " + column + " IS NOT NULL AND " + column + " != " + param;
  }
  sql +=
      " ORDER BY CASE severity WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 WHEN "
      "'not_an_issue' THEN 0 ELSE -1 END DESC, created_at DESC, issue_id DESC LIMIT ?" +
      std::to_string(values.size() + 3) + " OFFSET ?" + std::to_string(values.size() + 4);
  ResultPage<Issue> page;
  RETURN_IF_ERROR(db_->Read([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement s, db.Prepare(sql));
    int index = 1;
    s.BindText(index++, tenant);
    if (experiment_id) {
      s.BindInt(index++, *experiment_id);
    } else {
      s.BindNull(index++);
    }
    for (const std::string& v : values) s.BindText(index++, v);
    s.BindInt(index++, query.page.max_results + 1);
    s.BindInt(index++, query.page.offset);
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      page.items.push_back(ReadIssue(s));
    }
    return Status::Ok();
  }));
  if (static_cast<int64_t>(page.items.size()) > query.page.max_results) {
    page.items.resize(static_cast<size_t>(query.page.max_results));
    page.has_more = true;
  }
  return page;
}

}  // namespace cairn::metadata
