#pragma once

#include <memory>
#include <string_view>

#include "metadata/issue_store.h"
#include "sql/sql.h"

namespace cairn::metadata {

// IssueStore on the SQLite metadata database (see sqlite_metadata_backend.h), on the schema of
// migration 10. Thread-safe; concurrency is the Database's.
class SqlIssueStore final : public IssueStore {
 public:
  explicit SqlIssueStore(std::shared_ptr<sql::Database> db) : db_(std::move(db)) {}

  StatusOr<Issue> CreateIssue(std::string_view tenant, const Issue& issue) override;
  StatusOr<Issue> GetIssue(std::string_view tenant, std::string_view issue_id) override;
  StatusOr<Issue> UpdateIssue(std::string_view tenant, std::string_view issue_id,
                              const IssueUpdate& update) override;
  StatusOr<ResultPage<Issue>> SearchIssues(std::string_view tenant,
                                           const SearchIssuesQuery& query) override;

 private:
  const std::shared_ptr<sql::Database> db_;
};

}  // namespace cairn::metadata
