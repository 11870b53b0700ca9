#pragma once

#include <boost/json.hpp>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/ids.h"
#include "http/router.h"
#include "metadata/issue_store.h"

namespace cairn::api::mlflow {

// MLflow 3's issues (mlflow.issues.IssuesService), under /api/3.0/mlflow (and /ajax-api):
//   POST  issues              CreateIssue (name, description, experiment_id required)
//   GET   issues/{issue_id}   GetIssue
//   PATCH issues/{issue_id}   UpdateIssue (name, description, status, severity; the body
//                             repeats issue_id, as MLflow requires)
//   POST  issues/search       SearchIssues (experiment_id, filter_string on status and
//                             source_run_id with = and !=, max_results, page_token,
//                             include_trace_count)
// Statuses are pending, rejected and resolved; severities not_an_issue, low, medium and high
// (anything else is INVALID_PARAMETER_VALUE). Traces reference issues through issue
// assessments, which this server does not store, so trace_count is 0 when asked for. GET and
// search need read permission, the rest write. Thread-safe; borrows the store, clock and id
// generator, which must outlive the routes.
class IssueHandlers {
 public:
  IssueHandlers(metadata::IssueStore& store, const Clock& clock, IdGenerator& ids);

  void Register(http::Router& router);

  static constexpr size_t kMaxNameLength = 250;
  static constexpr size_t kMaxTextBytes = 1 << 20;  // description, each root cause
  static constexpr size_t kMaxListItems = 1000;     // root causes, categories
  static constexpr int64_t kDefaultMaxResults = 100;
  static constexpr int64_t kMaxMaxResults = 50000;

 private:
  using JsonResult = StatusOr<boost::json::object>;
  using Method = JsonResult (IssueHandlers::*)(const http::Request&, const boost::json::object&);

  void Add(http::Router& router, http::Method method, std::string_view path, Method fn);

  JsonResult Create(const http::Request& req, const boost::json::object& msg);
  JsonResult Get(const http::Request& req, const boost::json::object& msg);
  JsonResult Update(const http::Request& req, const boost::json::object& msg);
  JsonResult Search(const http::Request& req, const boost::json::object& msg);

  metadata::IssueStore& store_;
  const Clock& clock_;
  IdGenerator& ids_;
};

// Parses an issue search filter: clauses `<key> <op> '<value>'` joined by AND, key status or
// source_run_id, op = or !=, the value in single or double quotes (or a bare word). "" is no
// filter.
StatusOr<std::vector<metadata::IssueFilterClause>> ParseIssueFilter(std::string_view text);

}  // namespace cairn::api::mlflow
