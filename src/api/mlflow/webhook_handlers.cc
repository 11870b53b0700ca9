#include "api/mlflow/webhook_handlers.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/mlflow/codec.h"
#include "api/mlflow/request_message.h"
#include "base/json.h"
#include "http/error_response.h"
#include "registry/webhook_payload.h"

namespace cairn::api::mlflow {
namespace {

namespace bj = boost::json;

constexpr int64_t kDefaultMaxResults = 100;
constexpr int64_t kMaxMaxResults = 1000;

// Python's repr() of a string, as MLflow's messages quote names.
std::string Repr(std::string_view s) {
  char quote =
      s.find('\'') != std::string_view::npos && s.find('"') == std::string_view::npos ? '"' : '\'';
  std::string out(1, quote);
  for (char c : s) {
    if (c == quote || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back(quote);
  return out;
}

// MLflow's _WEBHOOK_NAME_REGEX: 1..63 characters of letters, digits, '.', '_' and '-', starting
// and ending with a letter or digit.
Status ValidateName(const std::string& name) {
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  bool ok = !name.empty() && name.size() <= 63 && alnum(name.front()) && alnum(name.back()) &&
            std::all_of(name.begin(), name.end(),
                        [&](char c) { return alnum(c) || c == '.' || c == '_' || c == '-'; });
  if (ok) return Status::Ok();
  return InvalidArgument("Webhook name " + Repr(name) +
                         " is invalid. It must start and end with a letter or digit, be less "
                         "than 63 characters long, and contain only letters, digits, dots (.), "
                         "underscores (_), and hyphens (-).");
}

// The events of an `events` array (nullopt when absent, null or empty, as MLflow's handlers
// read an unset repeated field).
StatusOr<std::optional<std::vector<std::string>>> ParseEvents(const bj::object& msg) {
  const bj::value* value = msg.if_contains("events");
  if (value == nullptr || value->is_null()) return std::optional<std::vector<std::string>>();
  if (!value->is_array()) {
    return InvalidArgument("Invalid value " + bj::serialize(*value) +
                           " for parameter 'events' supplied: expected an array");
  }
  std::vector<std::string> events;
  for (const bj::value& item : value->get_array()) {
    ASSIGN_OR_RETURN(std::string event, registry::WebhookEventFromJson(item));
    if (std::find(events.begin(), events.end(), event) != events.end()) {
      return InvalidArgument("Duplicate webhook event: " + event);
    }
    events.push_back(std::move(event));
  }
  if (events.empty()) return std::optional<std::vector<std::string>>();
  return std::optional<std::vector<std::string>>(std::move(events));
}

// A WebhookStatus given by name or number; nullopt when absent or unknown (MLflow's JSON parser
// drops unknown enum values).
std::optional<std::string> ParseStatus(const bj::object& msg) {
  const bj::value* value = msg.if_contains("status");
  if (value == nullptr) return std::nullopt;
  if (value->is_string() &&
      (value->get_string() == "ACTIVE" || value->get_string() == "DISABLED")) {
    return std::string(value->get_string());
  }
  if (value->is_int64() && value->get_int64() == 1) return "ACTIVE";
  if (value->is_int64() && value->get_int64() == 2) return "DISABLED";
  return std::nullopt;
}

Status RequireArray(const bj::object& msg, std::string_view field) {
  const bj::value* value = msg.if_contains(field);
  if (value == nullptr || value->is_null()) {
    return InvalidArgument("Missing value for required parameter '" + std::string(field) +
                           "'. See the API docs for more information about request parameters.");
  }
  if (!value->is_array()) {
    return InvalidArgument("Invalid value " + bj::serialize(*value) + " for parameter '" +
                           std::string(field) + "' supplied: expected an array");
  }
  return Status::Ok();
}

}  // namespace

bj::object WebhookToJson(const metadata::WebhookRecord& w) {
  bj::object o;
  o["webhook_id"] = w.id;
  o["name"] = w.name;
  PutIfNotEmpty(o, "description", w.description);
  o["url"] = w.url;
  bj::array events;
  events.reserve(w.events.size());
  for (const std::string& e : w.events) events.push_back(registry::WebhookEventToJson(e));
  o["events"] = std::move(events);
  o["status"] = w.status;
  o["creation_timestamp"] = w.created_at_ms;
  o["last_updated_timestamp"] = w.updated_at_ms;
  return o;
}

WebhookHandlers::WebhookHandlers(metadata::WebhookStore& store,
                                 registry::WebhookDispatcher& dispatcher, const Clock& clock)
    : store_(store), dispatcher_(dispatcher), clock_(clock) {}

void WebhookHandlers::Add(http::Router& router, http::Method method, std::string_view path,
                          Method fn) {
  auto handler = [this, fn](http::Request& req) -> http::Response {
    StatusOr<bj::object> msg = ReadMessage(req);
    if (!msg.ok()) return http::ErrorResponse(msg.status());
    JsonResult result = (this->*fn)(req, *msg);
    if (!result.ok()) return http::ErrorResponse(result.status());
    return http::Response::Json(200, bj::serialize(*result));
  };
  http::RouteOptions options;
  options.permission = http::Permission::kAdmin;
  for (std::string_view prefix : {"/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/"}) {
    router.Add(method, std::string(prefix) + std::string(path), handler, options);
  }
}

void WebhookHandlers::Register(http::Router& router) {
  using M = http::Method;
  using H = WebhookHandlers;
  Add(router, M::kPost, "webhooks", &H::Create);
  Add(router, M::kGet, "webhooks", &H::List);
  Add(router, M::kGet, "webhooks/{webhook_id}", &H::Get);
  Add(router, M::kPatch, "webhooks/{webhook_id}", &H::Update);
  Add(router, M::kDelete, "webhooks/{webhook_id}", &H::Delete);
  Add(router, M::kPost, "webhooks/{webhook_id}/test", &H::Test);
}

WebhookHandlers::JsonResult WebhookHandlers::Create(const http::Request& req,
                                                    const bj::object& msg) {
  // In MLflow's order: required fields, then events, then name, URL and the events' count.
  ASSIGN_OR_RETURN(std::string name, RequiredString(msg, "name"));
  ASSIGN_OR_RETURN(std::string url, RequiredString(msg, "url"));
  RETURN_IF_ERROR(RequireArray(msg, "events"));
  ASSIGN_OR_RETURN(std::string description, OptionalString(msg, "description"));
  ASSIGN_OR_RETURN(std::string secret, OptionalString(msg, "secret"));
  ASSIGN_OR_RETURN(std::optional<std::vector<std::string>> events, ParseEvents(msg));
  RETURN_IF_ERROR(ValidateName(name));
  RETURN_IF_ERROR(dispatcher_.ValidateUrl(url));
  if (!events) {
    return InvalidArgument("Webhook events must be a non-empty list of WebhookEvent objects: [].");
  }
  int64_t now = clock_.NowMillis();
  metadata::WebhookRecord record{.id = registry::NewDeliveryId(),
                                 .name = std::move(name),
                                 .description = std::move(description),
                                 .url = std::move(url),
                                 .events = std::move(*events),
                                 .status = ParseStatus(msg).value_or("ACTIVE"),
                                 .secret = std::move(secret),
                                 .created_at_ms = now,
                                 .updated_at_ms = now};
  RETURN_IF_ERROR(store_.CreateWebhook(req.scope.tenant, record));
  return bj::object{{"webhook", WebhookToJson(record)}};
}

WebhookHandlers::JsonResult WebhookHandlers::List(const http::Request& req, const bj::object& msg) {
  ASSIGN_OR_RETURN(int64_t max_results, OptionalInt(msg, "max_results", 0));
  if (max_results == 0) max_results = kDefaultMaxResults;
  if (max_results < 1 || max_results > kMaxMaxResults) {
    return InvalidArgument("max_results must be between 1 and 1000.");
  }
  ASSIGN_OR_RETURN(std::string token, OptionalString(msg, "page_token"));
  ASSIGN_OR_RETURN(int64_t offset, DecodePageToken(token));
  ASSIGN_OR_RETURN(metadata::ResultPage<metadata::WebhookRecord> page,
                   store_.ListWebhooks(req.scope.tenant, max_results, offset));
  bj::object out;
  if (!page.items.empty()) {
    bj::array webhooks;
    for (const metadata::WebhookRecord& w : page.items) webhooks.push_back(WebhookToJson(w));
    out["webhooks"] = std::move(webhooks);
  }
  if (page.has_more) out["next_page_token"] = EncodePageToken(offset + max_results);
  return out;
}

WebhookHandlers::JsonResult WebhookHandlers::Get(const http::Request& req, const bj::object&) {
  ASSIGN_OR_RETURN(metadata::WebhookRecord w,
                   store_.GetWebhook(req.scope.tenant, req.PathParam("webhook_id")));
  return bj::object{{"webhook", WebhookToJson(w)}};
}

WebhookHandlers::JsonResult WebhookHandlers::Update(const http::Request& req,
                                                    const bj::object& msg) {
  std::string id = req.PathParam("webhook_id");
  ASSIGN_OR_RETURN(std::optional<std::string> name, json::GetString(msg, "name"));
  ASSIGN_OR_RETURN(std::optional<std::string> url, json::GetString(msg, "url"));
  ASSIGN_OR_RETURN(std::optional<std::string> description, json::GetString(msg, "description"));
  ASSIGN_OR_RETURN(std::optional<std::string> secret, json::GetString(msg, "secret"));
  ASSIGN_OR_RETURN(std::optional<std::vector<std::string>> events, ParseEvents(msg));
  RETURN_IF_ERROR(store_.GetWebhook(req.scope.tenant, id).status());
  metadata::WebhookUpdate update;
  // As MLflow: an empty name or URL means "unchanged"; an empty description or secret is set.
  if (name && !name->empty()) {
    RETURN_IF_ERROR(ValidateName(*name));
    update.name = std::move(name);
  }
  if (url && !url->empty()) {
    RETURN_IF_ERROR(dispatcher_.ValidateUrl(*url));
    update.url = std::move(url);
  }
  update.description = std::move(description);
  update.secret = std::move(secret);
  update.events = std::move(events);
  update.status = ParseStatus(msg);
  update.updated_at_ms = clock_.NowMillis();
  ASSIGN_OR_RETURN(metadata::WebhookRecord w, store_.UpdateWebhook(req.scope.tenant, id, update));
  return bj::object{{"webhook", WebhookToJson(w)}};
}

WebhookHandlers::JsonResult WebhookHandlers::Delete(const http::Request& req, const bj::object&) {
  RETURN_IF_ERROR(store_.DeleteWebhook(req.scope.tenant, req.PathParam("webhook_id")));
  return bj::object{};
}

WebhookHandlers::JsonResult WebhookHandlers::Test(const http::Request& req, const bj::object& msg) {
  std::optional<std::string> event;
  if (const bj::value* given = msg.if_contains("event"); given != nullptr && !given->is_null()) {
    ASSIGN_OR_RETURN(event, registry::WebhookEventFromJson(*given));
  }
  ASSIGN_OR_RETURN(metadata::WebhookRecord w,
                   store_.GetWebhook(req.scope.tenant, req.PathParam("webhook_id")));
  registry::WebhookDispatcher::TestResult result =
      dispatcher_.Test(w, event ? *event : w.events.front());
  bj::object out{{"success", result.success}};
  if (result.response_status != 0) {
    out["response_status"] = result.response_status;
    out["response_body"] = result.response_body;
  }
  if (!result.error_message.empty()) out["error_message"] = result.error_message;
  return bj::object{{"result", std::move(out)}};
}

}  // namespace cairn::api::mlflow
