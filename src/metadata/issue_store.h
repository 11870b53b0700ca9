#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "metadata/types.h"

namespace cairn::metadata {

// A quality or operational problem found in an experiment's traces (MLflow's Issue).
struct Issue {
  std::string issue_id;  // "iss-" + 32 hex
  std::string experiment_id;
  std::string name;
  std::string description;
  std::string status = "pending";       // pending, rejected or resolved
  std::optional<std::string> severity;  // not_an_issue, low, medium or high
  std::vector<std::string> root_causes;
  std::optional<std::string> source_run_id;
  std::vector<std::string> categories;
  std::optional<std::string> created_by;
  int64_t created_timestamp_ms = 0;
  int64_t last_updated_timestamp_ms = 0;
};

// What UpdateIssue replaces; unset fields are kept.
struct IssueUpdate {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::string> status;
  std::optional<std::string> severity;
  int64_t last_updated_timestamp_ms = 0;
};

// One `key = 'value'` or `key != 'value'` clause of an issue search; key is status or
// source_run_id.
struct IssueFilterClause {
  std::string key;
  bool equal = true;
  std::string value;
};

struct SearchIssuesQuery {
  std::optional<std::string> experiment_id;  // unset: every experiment of the tenant
  std::vector<IssueFilterClause> filter;     // all must hold
  Page page{100, 0};
};

// Issues, per tenant. The contract shared by every domain store is in metadata_stores.h. Values
// are stored as given (the caller validates statuses and severities). A missing issue is
// NOT_FOUND "Issue with ID 'X' not found". Issues belong to their experiment.
class IssueStore {
 public:
  virtual ~IssueStore() = default;

  // Stores `issue` (id and times set) in its experiment, which must exist and be active.
  virtual StatusOr<Issue> CreateIssue(std::string_view tenant, const Issue& issue) = 0;
  virtual StatusOr<Issue> GetIssue(std::string_view tenant, std::string_view issue_id) = 0;
  virtual StatusOr<Issue> UpdateIssue(std::string_view tenant, std::string_view issue_id,
                                      const IssueUpdate& update) = 0;
  // Matching issues, most severe first (high, medium, low, not_an_issue, then none), then newest
  // first, then by id descending.
  virtual StatusOr<ResultPage<Issue>> SearchIssues(std::string_view tenant,
                                                   const SearchIssuesQuery& query) = 0;
};

}  // namespace cairn::metadata
