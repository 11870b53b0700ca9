#include "api/mlflow/issue_handlers.h"

#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include "api/mlflow/codec.h"
#include "api/mlflow/request_message.h"
#include "base/json.h"
#include "http/error_response.h"

namespace cairn::api::mlflow {
namespace {

namespace bj = boost::json;
using metadata::Issue;

constexpr std::string_view kStatuses[] = {"pending", "rejected", "resolved"};
constexpr std::string_view kSeverities[] = {"not_an_issue", "low", "medium", "high"};

Status Missing(std::string_view field) {
  return InvalidArgument("Missing value for required parameter '" + std::string(field) +
                         "'. See the API docs for more information about request parameters.");
}

template <size_t N>
StatusOr<std::optional<std::string>> Enum(const bj::object& msg, std::string_view field,
                                          const std::string_view (&allowed)[N]) {
  ASSIGN_OR_RETURN(std::optional<std::string> v, json::GetString(msg, field));
  if (!v) return v;
  for (std::string_view a : allowed) {
    if (*v == a) return v;
  }
  std::string list;
  for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  return InvalidArgument("Invalid " + std::string(field) + " '" + v->substr(0, 100) +
                         "': expected one of " + list);
}

StatusOr<std::optional<std::string>> Bounded(const bj::object& msg, std::string_view field,
                                             size_t limit) {
  ASSIGN_OR_RETURN(std::optional<std::string> v, json::GetString(msg, field));
  if (v && v->size() > limit) {
    return InvalidArgument("Invalid value for '" + std::string(field) + "': longer than " +
                           std::to_string(limit) + " bytes");
  }
  return v;
}

StatusOr<std::vector<std::string>> BoundedList(const bj::object& msg, std::string_view field) {
  ASSIGN_OR_RETURN(std::vector<std::string> items, StringsFromJson(msg, field));
  if (items.size() > IssueHandlers::kMaxListItems) {
    return InvalidArgument("At most " + std::to_string(IssueHandlers::kMaxListItems) +
                           " values may be given for '" + std::string(field) + "'");
  }
  for (const std::string& item : items) {
    if (item.size() > IssueHandlers::kMaxTextBytes) {
      return InvalidArgument("A value of '" + std::string(field) + "' is too long");
    }
  }
  return items;
}

bj::object IssueToJson(const Issue& i, bool with_trace_count) {
  bj::object o;
  o["issue_id"] = i.issue_id;
  o["experiment_id"] = i.experiment_id;
  o["name"] = i.name;
  o["description"] = i.description;
  o["status"] = i.status;
  if (i.severity) o["severity"] = *i.severity;
  if (!i.root_causes.empty()) o["root_causes"] = bj::value_from(i.root_causes);
  if (i.source_run_id) o["source_run_id"] = *i.source_run_id;
  o["created_timestamp"] = i.created_timestamp_ms;
  o["last_updated_timestamp"] = i.last_updated_timestamp_ms;
  if (i.created_by) o["created_by"] = *i.created_by;
  if (!i.categories.empty()) o["categories"] = bj::value_from(i.categories);
  if (with_trace_count) o["trace_count"] = 0;
  return o;
}

StatusOr<std::string> IssueIdOf(const http::Request& req) {
  std::string id(req.PathParam("issue_id"));
  if (id.empty() || id.size() > 64) {
    return InvalidArgument("Invalid issue ID '" + id.substr(0, 100) + "'");
  }
  return id;
}

}  // namespace

StatusOr<std::vector<metadata::IssueFilterClause>> ParseIssueFilter(std::string_view text) {
  std::vector<metadata::IssueFilterClause> out;
  size_t pos = 0;
  auto skip = [&] {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
  };
  auto invalid = [&](std::string why) -> Status {
    return InvalidArgument("Invalid filter string '" + std::string(text.substr(0, 200)) +
                           "': " + why);
  };
  skip();
  if (pos == text.size()) return out;
  while (true) {
    skip();
    size_t start = pos;
    while (pos < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[pos])) || text[pos] == '_')) {
      ++pos;
    }
    std::string key(text.substr(start, pos - start));
    if (key.empty()) return invalid("expected a field name");
    if (key != "status" && key != "source_run_id") {
      return InvalidArgument("Invalid filter field '" + key.substr(0, 100) +
                             "'. Supported fields: {'status', 'source_run_id'}");
    }
    skip();
    start = pos;
    while (pos < text.size() &&
           (text[pos] == '=' || text[pos] == '!' || text[pos] == '<' || text[pos] == '>')) {
      ++pos;
    }
    std::string op(text.substr(start, pos - start));
    if (op != "=" && op != "!=") {
      return InvalidArgument("Invalid comparator '" + op.substr(0, 10) +
                             "'. Supported comparators: {'=', '!='}");
    }
    skip();
    if (pos < text.size() && (text[pos] == '\'' || text[pos] == '"')) {
      char quote = text[pos];
      size_t close = text.find(quote, pos + 1);
      if (close == std::string_view::npos) return invalid("unterminated string");
      out.push_back({key, op == "=", std::string(text.substr(pos + 1, close - pos - 1))});
      pos = close + 1;
    } else {
      // A bare word, as MLflow's parser also takes (status = pending).
      start = pos;
      while (pos < text.size() && (std::isalnum(static_cast<unsigned char>(text[pos])) ||
                                   text[pos] == '_' || text[pos] == '-')) {
        ++pos;
      }
      if (pos == start) return invalid("expected a value");
      out.push_back({key, op == "=", std::string(text.substr(start, pos - start))});
    }
    skip();
    if (pos == text.size()) return out;
    if (text.size() - pos < 4 || (text.substr(pos, 3) != "AND" && text.substr(pos, 3) != "and") ||
        !std::isspace(static_cast<unsigned char>(text[pos + 3]))) {
      return invalid("clauses must be joined by AND");
    }
    pos += 3;
  }
}

IssueHandlers::IssueHandlers(metadata::IssueStore& store, const Clock& clock, IdGenerator& ids)
    : store_(store), clock_(clock), ids_(ids) {}

void IssueHandlers::Add(http::Router& router, http::Method method, std::string_view path,
                        Method fn) {
  auto handler = [this, fn](http::Request& req) -> http::Response {
    StatusOr<bj::object> msg = ReadMessage(req, {"root_causes", "categories"});
    if (!msg.ok()) return http::ErrorResponse(msg.status());
    JsonResult result = (this->*fn)(req, *msg);
    if (!result.ok()) return http::ErrorResponse(result.status());
    return http::Response::Json(200, bj::serialize(*result));
  };
  http::RouteOptions options;
  options.max_body_bytes = 8 << 20;
  options.permission = MlflowRoutePermission(method, path);
  for (std::string_view api : {"/api/3.0/mlflow/", "/ajax-api/3.0/mlflow/"}) {
    router.Add(method, std::string(api) + std::string(path), handler, options);
  }
}

void IssueHandlers::Register(http::Router& router) {
  using M = http::Method;
  using H = IssueHandlers;
  Add(router, M::kPost, "issues", &H::Create);
  Add(router, M::kPost, "issues/search", &H::Search);
  Add(router, M::kGet, "issues/{issue_id}", &H::Get);
  Add(router, M::kPatch, "issues/{issue_id}", &H::Update);
}

IssueHandlers::JsonResult IssueHandlers::Create(const http::Request& req, const bj::object& msg) {
  Issue issue;
  ASSIGN_OR_RETURN(std::optional<std::string> name, Bounded(msg, "name", kMaxNameLength));
  ASSIGN_OR_RETURN(std::optional<std::string> description,
                   Bounded(msg, "description", kMaxTextBytes));
  ASSIGN_OR_RETURN(std::optional<std::string> experiment_id, json::GetString(msg, "experiment_id"));
  if (!name || name->empty()) return Missing("name");
  if (!description) return Missing("description");
  if (!experiment_id || experiment_id->empty()) return Missing("experiment_id");
  issue.name = std::move(*name);
  issue.description = std::move(*description);
  issue.experiment_id = std::move(*experiment_id);
  ASSIGN_OR_RETURN(std::optional<std::string> status, Enum(msg, "status", kStatuses));
  if (status) issue.status = std::move(*status);
  ASSIGN_OR_RETURN(issue.severity, Enum(msg, "severity", kSeverities));
  ASSIGN_OR_RETURN(issue.root_causes, BoundedList(msg, "root_causes"));
  ASSIGN_OR_RETURN(issue.categories, BoundedList(msg, "categories"));
  ASSIGN_OR_RETURN(issue.source_run_id, Bounded(msg, "source_run_id", 256));
  ASSIGN_OR_RETURN(issue.created_by, Bounded(msg, "created_by", 256));
  for (auto* field : {&issue.source_run_id, &issue.created_by}) {
    if (*field && (*field)->empty()) field->reset();
  }
  issue.issue_id = "iss-" + ids_.Hex32();
  issue.created_timestamp_ms = issue.last_updated_timestamp_ms = clock_.NowMillis();
  ASSIGN_OR_RETURN(Issue stored, store_.CreateIssue(req.scope.tenant, issue));
  return bj::object{{"issue", IssueToJson(stored, false)}};
}

IssueHandlers::JsonResult IssueHandlers::Get(const http::Request& req, const bj::object& /*msg*/) {
  ASSIGN_OR_RETURN(std::string id, IssueIdOf(req));
  ASSIGN_OR_RETURN(Issue issue, store_.GetIssue(req.scope.tenant, id));
  return bj::object{{"issue", IssueToJson(issue, false)}};
}

IssueHandlers::JsonResult IssueHandlers::Update(const http::Request& req, const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string id, IssueIdOf(req));
  // MLflow's handler requires issue_id in the body too (and then uses the path's).
  ASSIGN_OR_RETURN(std::optional<std::string> body_id, json::GetString(msg, "issue_id"));
  if (!body_id || body_id->empty()) return Missing("issue_id");
  metadata::IssueUpdate update;
  ASSIGN_OR_RETURN(update.name, Bounded(msg, "name", kMaxNameLength));
  ASSIGN_OR_RETURN(update.description, Bounded(msg, "description", kMaxTextBytes));
  // As MLflow: an empty name or description leaves it unchanged.
  for (auto* field : {&update.name, &update.description}) {
    if (*field && (*field)->empty()) field->reset();
  }
  ASSIGN_OR_RETURN(update.status, Enum(msg, "status", kStatuses));
  ASSIGN_OR_RETURN(update.severity, Enum(msg, "severity", kSeverities));
  update.last_updated_timestamp_ms = clock_.NowMillis();
  ASSIGN_OR_RETURN(Issue issue, store_.UpdateIssue(req.scope.tenant, id, update));
  return bj::object{{"issue", IssueToJson(issue, false)}};
}

IssueHandlers::JsonResult IssueHandlers::Search(const http::Request& req, const bj::object& msg) {
  metadata::SearchIssuesQuery query;
  ASSIGN_OR_RETURN(std::optional<std::string> experiment_id, json::GetString(msg, "experiment_id"));
  if (experiment_id && !experiment_id->empty()) query.experiment_id = std::move(experiment_id);
  ASSIGN_OR_RETURN(std::string filter_string, OptionalString(msg, "filter_string"));
  ASSIGN_OR_RETURN(query.filter, ParseIssueFilter(filter_string));
  ASSIGN_OR_RETURN(query.page.max_results, OptionalInt(msg, "max_results", kDefaultMaxResults));
  if (query.page.max_results < 1 || query.page.max_results > kMaxMaxResults) {
    return InvalidArgument("Invalid value " + std::to_string(query.page.max_results) +
                           " for parameter 'max_results' supplied. It must be a positive "
                           "integer no greater than " +
                           std::to_string(kMaxMaxResults));
  }
  ASSIGN_OR_RETURN(std::string token, OptionalString(msg, "page_token"));
  ASSIGN_OR_RETURN(query.page.offset, DecodePageToken(token));
  ASSIGN_OR_RETURN(std::optional<bool> with_count, json::GetBool(msg, "include_trace_count"));
  ASSIGN_OR_RETURN(auto page, store_.SearchIssues(req.scope.tenant, query));
  bj::object out;
  bool count = with_count.value_or(false);
  PutList(out, "issues", page.items, [&](const Issue& i) { return IssueToJson(i, count); });
  if (page.has_more) {
    out["next_page_token"] = EncodePageToken(query.page.offset + query.page.max_results);
  }
  return out;
}

}  // namespace cairn::api::mlflow
