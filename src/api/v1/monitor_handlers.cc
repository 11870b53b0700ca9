#include "api/v1/monitor_handlers.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

#include "base/ascii.h"
#include "http/error_response.h"
#include "monitor/profile/table_reader.h"

namespace cairn::api::v1 {
namespace {

namespace bj = boost::json;

constexpr uint64_t kMaxConfigBytes = 256 * 1024;
constexpr uint64_t kMaxFeedbackBytes = 16 << 20;

http::Response JsonReply(const StatusOr<bj::object>& result) {
  if (!result.ok()) return http::ErrorResponse(result.status());
  return http::Response::Json(200, bj::serialize(*result));
}

bj::object ConfigJson(const metadata::DriftConfigRecord& r) {
  bj::object o;
  o["config_id"] = r.id;
  o["model_name"] = r.model_name;
  if (!r.deployment_id.empty()) o["deployment_id"] = r.deployment_id;
  bj::error_code ec;
  o["spec"] = bj::parse(monitor::RedactSecrets(r.spec_json), ec);
  o["created_at"] = r.created_at_ms;
  o["updated_at"] = r.updated_at_ms;
  return o;
}

bj::object ReferenceJson(const metadata::ReferenceRecord& r, bool with_summary) {
  bj::object o;
  o["deployment_id"] = r.deployment_id;
  o["version"] = r.version;
  o["source"] = r.source;
  o["created_at"] = r.created_at_ms;
  if (with_summary) {
    bj::error_code ec;
    bj::value profile = bj::parse(r.summary_json, ec);
    // The version is the store's, assigned after the summary was written.
    if (profile.is_object()) profile.get_object()["version"] = r.version;
    o["profile"] = std::move(profile);
  }
  return o;
}

Status ParseInt(std::string_view name, std::string_view text, int64_t lo, int64_t hi,
                int64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end != text.data() + text.size() || out < lo || out > hi) {
    return InvalidArgument(std::string(name) + " must be an integer between " + std::to_string(lo) +
                           " and " + std::to_string(hi));
  }
  return Status::Ok();
}

StatusOr<int64_t> IntParam(const http::Request& request, std::string_view name, int64_t fallback,
                           int64_t lo, int64_t hi) {
  std::optional<std::string> value = request.QueryParam(name);
  if (!value || value->empty()) return fallback;
  int64_t out = 0;
  RETURN_IF_ERROR(ParseInt(name, *value, lo, hi, out));
  return out;
}

// The table format from ?format=, else the Content-Type.
StatusOr<monitor::TableFormat> FormatOf(const http::Request& request) {
  if (auto format = request.QueryParam("format"); format && !format->empty()) {
    std::optional<monitor::TableFormat> f = monitor::TableFormatFromName(*format);
    if (!f) return InvalidArgument("format must be csv or jsonl");
    return *f;
  }
  std::string_view type = request.headers.Get("content-type").value_or("");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (EqualsIgnoreCase(type, "text/csv")) return monitor::TableFormat::kCsv;
  if (EqualsIgnoreCase(type, "application/x-ndjson") ||
      EqualsIgnoreCase(type, "application/jsonl") ||
      EqualsIgnoreCase(type, "application/json-lines") ||
      EqualsIgnoreCase(type, "application/x-jsonlines")) {
    return monitor::TableFormat::kJsonLines;
  }
  return InvalidArgument(
      "Send the reference as text/csv or application/x-ndjson (JSON lines), or say ?format=");
}

std::set<std::string, std::less<>> SplitList(std::string_view text) {
  std::set<std::string, std::less<>> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    if (!item.empty()) out.emplace(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

// Streams an uploaded table into the reader; builds and stores the profile when it ends.
class ReferenceSink final : public http::BodySink {
 public:
  ReferenceSink(monitor::MonitorService& monitor, RequestScope scope,
                metadata::DeploymentRecord deployment, monitor::TableFormat format,
                monitor::TableReaderOptions options)
      : monitor_(monitor),
        scope_(std::move(scope)),
        deployment_(std::move(deployment)),
        format_(format),
        reader_(format, std::move(options)) {}

  Status Write(std::string_view chunk) override { return reader_.Feed(chunk); }
  void Abort() override {}
  http::Response Finish() override {
    if (Status done = reader_.Finish(); !done.ok()) return http::ErrorResponse(done);
    const int64_t rows = reader_.rows_read();
    auto stored =
        monitor_.AddReference(scope_, deployment_, reader_.TakeColumns(), "upload",
                              std::string(format_ == monitor::TableFormat::kCsv ? "csv" : "jsonl") +
                                  " upload of " + std::to_string(rows) + " rows");
    if (!stored.ok()) return http::ErrorResponse(stored.status());
    return http::Response::Json(200, bj::serialize(ReferenceJson(*stored, true)));
  }

 private:
  monitor::MonitorService& monitor_;
  const RequestScope scope_;
  const metadata::DeploymentRecord deployment_;
  const monitor::TableFormat format_;
  monitor::TableReader reader_;
};

}  // namespace

http::Response MonitorHandlers::ReferenceFromRun(http::Request& request) {
  auto deployment = monitor_.FindDeployment(request.scope, request.PathParam("id"));
  if (!deployment.ok()) return http::ErrorResponse(deployment.status());
  bj::error_code ec;
  bj::value body = bj::parse(request.body, ec);
  if (ec || !body.is_object()) return http::ErrorResponse(InvalidArgument("Body must be JSON"));
  const bj::object& o = body.get_object();
  const bj::value* path = o.if_contains("path");
  if (path == nullptr || !path->is_string() || path->get_string().empty()) {
    return http::ErrorResponse(
        InvalidArgument("path (the dataset file inside the run's artifacts) is required"));
  }
  std::string run_id;
  if (const bj::value* r = o.if_contains("run_id")) {
    if (!r->is_string()) return http::ErrorResponse(InvalidArgument("run_id must be a string"));
    run_id = std::string(r->get_string());
  }
  monitor::TableReaderOptions options;
  options.hints = monitor_.HintsFor(request.scope.tenant, *deployment);
  if (const bj::value* exclude = o.if_contains("exclude")) {
    if (!exclude->is_array()) {
      return http::ErrorResponse(InvalidArgument("exclude must be a list of column names"));
    }
    for (const bj::value& name : exclude->get_array()) {
      if (!name.is_string()) {
        return http::ErrorResponse(InvalidArgument("exclude must be a list of column names"));
      }
      options.exclude.emplace(name.get_string());
    }
  }
  std::string_view file = path->get_string();
  monitor::TableFormat format = monitor::TableFormat::kCsv;
  if (const bj::value* f = o.if_contains("format")) {
    auto parsed = f->is_string() ? monitor::TableFormatFromName(f->get_string()) : std::nullopt;
    if (!parsed) return http::ErrorResponse(InvalidArgument("format must be csv or jsonl"));
    format = *parsed;
  } else if (file.ends_with(".jsonl") || file.ends_with(".ndjson") || file.ends_with(".json")) {
    format = monitor::TableFormat::kJsonLines;
  } else if (!file.ends_with(".csv")) {
    return http::ErrorResponse(InvalidArgument("Cannot tell the format of '" + std::string(file) +
                                               "': name a .csv or .jsonl file, or give format"));
  }
  auto reader = open_run_artifact_(request.scope, *deployment, run_id, file);
  if (!reader.ok()) return http::ErrorResponse(reader.status());
  if ((*reader)->Size() > max_reference_bytes_) {
    return http::ErrorResponse(
        Status(StatusCode::kPayloadTooLarge, "The dataset is larger than the reference limit"));
  }
  monitor::TableReader table(format, std::move(options));
  std::string buffer(1 << 16, '\0');
  while (true) {
    auto n = (*reader)->Read(buffer.data(), buffer.size());
    if (!n.ok()) return http::ErrorResponse(n.status());
    if (*n == 0) break;
    if (Status fed = table.Feed(std::string_view(buffer.data(), *n)); !fed.ok()) {
      return http::ErrorResponse(fed);
    }
  }
  if (Status done = table.Finish(); !done.ok()) return http::ErrorResponse(done);
  auto stored = monitor_.AddReference(
      request.scope, *deployment, table.TakeColumns(), "run_artifact",
      (run_id.empty() ? std::string("model run") : run_id) + ":" + std::string(file));
  if (!stored.ok()) return http::ErrorResponse(stored.status());
  return http::Response::Json(200, bj::serialize(ReferenceJson(*stored, true)));
}

http::Response MonitorHandlers::GetReference(http::Request& request) {
  auto deployment = monitor_.FindDeployment(request.scope, request.PathParam("id"));
  if (!deployment.ok()) return http::ErrorResponse(deployment.status());
  auto version = IntParam(request, "version", 0, 1, int64_t{1} << 40);
  if (!version.ok()) return http::ErrorResponse(version.status());
  auto reference = monitor_.Reference(request.scope, deployment->id,
                                      *version == 0 ? std::nullopt : std::optional(*version));
  if (!reference.ok()) return http::ErrorResponse(reference.status());
  return http::Response::Json(200, bj::serialize(ReferenceJson(*reference, true)));
}

http::Response MonitorHandlers::ListAlerts(http::Request& request, bool drift_only) {
  metadata::AlertFilter filter;
  auto take = [&](std::string_view name, std::optional<std::string>& into) {
    if (auto v = request.QueryParam(name); v && !v->empty()) into = *v;
  };
  take("model", filter.model_name);
  take("deployment", filter.deployment_id);
  take("kind", filter.kind);
  take("state", filter.state);
  auto from = IntParam(request, "from", 0, 0, int64_t{1} << 50);
  auto to = IntParam(request, "to", 0, 0, int64_t{1} << 50);
  auto limit = IntParam(request, "max_results", 100, 1, 1000);
  for (const auto* status : {&from, &to, &limit}) {
    if (!status->ok()) return http::ErrorResponse(status->status());
  }
  filter.from_ms = *from;
  filter.to_ms = *to;
  filter.limit = static_cast<int>(*limit);
  std::vector<metadata::AlertRecord> found;
  // The seed's drift view: the three drift kinds, each asked for, merged newest first.
  const std::vector<std::optional<std::string>> kinds =
      drift_only && !filter.kind
          ? std::vector<std::optional<std::string>>{"data_drift", "prediction_drift",
                                                    "concept_drift"}
          : std::vector<std::optional<std::string>>{filter.kind};
  for (const std::optional<std::string>& kind : kinds) {
    filter.kind = kind;
    auto alerts = monitor_.Alerts(request.scope, filter);
    if (!alerts.ok()) return http::ErrorResponse(alerts.status());
    found.insert(found.end(), alerts->begin(), alerts->end());
  }
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return a.fired_at_ms != b.fired_at_ms ? a.fired_at_ms > b.fired_at_ms : a.id < b.id;
  });
  bj::array list;
  for (const metadata::AlertRecord& a : found) {
    if (static_cast<int64_t>(list.size()) >= *limit) break;
    list.push_back(monitor::MonitorService::AlertJson(a));
  }
  bj::object out;
  out["alerts"] = std::move(list);
  return http::Response::Json(200, bj::serialize(out));
}

void MonitorHandlers::Register(http::Router& router) {
  using P = http::Permission;
  const http::RouteOptions config_body{.max_body_bytes = kMaxConfigBytes, .permission = P::kDeploy};
  const http::RouteOptions admin_body{.max_body_bytes = kMaxConfigBytes, .permission = P::kAdmin};
  const http::RouteOptions read{.permission = P::kRead};
  const http::RouteOptions deploy{.permission = P::kDeploy};
  router.Add(
      http::Method::kPost, "/api/v1/models/{name}/drift-config",
      [this](http::Request& req) {
        auto stored = monitor_.PutDriftConfig(req.scope, req.PathParam("name"), req.body);
        if (!stored.ok()) return http::ErrorResponse(stored.status());
        return http::Response::Json(200, bj::serialize(ConfigJson(*stored)));
      },
      config_body);
  router.Add(
      http::Method::kGet, "/api/v1/models/{name}/drift-config",
      [this](http::Request& req) {
        auto configs = monitor_.ListDriftConfigs(req.scope, req.PathParam("name"));
        if (!configs.ok()) return http::ErrorResponse(configs.status());
        bj::array list;
        for (const auto& c : *configs) list.push_back(ConfigJson(c));
        bj::object out;
        out["configs"] = std::move(list);
        return http::Response::Json(200, bj::serialize(out));
      },
      read);
  router.Add(
      http::Method::kDelete, "/api/v1/models/{name}/drift-config/{id}",
      [this](http::Request& req) {
        Status deleted =
            monitor_.DeleteDriftConfig(req.scope, req.PathParam("name"), req.PathParam("id"));
        if (!deleted.ok()) return http::ErrorResponse(deleted);
        return http::Response::Json(200, "{}");
      },
      deploy);
  router.Add(
      http::Method::kGet, "/api/v1/models/{name}/metrics",
      [this](http::Request& req) {
        auto from = IntParam(req, "from", 0, 0, int64_t{1} << 50);
        auto to = IntParam(req, "to", 0, 0, int64_t{1} << 50);
        auto limit = IntParam(req, "max_results", 1000, 1, 10000);
        for (const auto* status : {&from, &to, &limit}) {
          if (!status->ok()) return http::ErrorResponse(status->status());
        }
        return JsonReply(monitor_.Metrics(req.scope, req.PathParam("name"),
                                          req.QueryParam("deployment").value_or(""), *from, *to,
                                          static_cast<int>(*limit)));
      },
      read);

  router.AddStreaming(
      http::Method::kPost, "/api/v1/deployments/{id}/reference",
      [this](http::Request& req) -> StatusOr<std::unique_ptr<http::BodySink>> {
        ASSIGN_OR_RETURN(metadata::DeploymentRecord deployment,
                         monitor_.FindDeployment(req.scope, req.PathParam("id")));
        ASSIGN_OR_RETURN(monitor::TableFormat format, FormatOf(req));
        monitor::TableReaderOptions options;
        options.hints = monitor_.HintsFor(req.scope.tenant, deployment);
        if (auto exclude = req.QueryParam("exclude")) options.exclude = SplitList(*exclude);
        return std::unique_ptr<http::BodySink>(std::make_unique<ReferenceSink>(
            monitor_, req.scope, std::move(deployment), format, std::move(options)));
      },
      http::RouteOptions{.max_body_bytes = max_reference_bytes_, .permission = P::kDeploy});
  router.Add(
      http::Method::kPost, "/api/v1/deployments/{id}/reference/from-run",
      [this](http::Request& req) { return ReferenceFromRun(req); }, config_body);
  router.Add(
      http::Method::kGet, "/api/v1/deployments/{id}/reference",
      [this](http::Request& req) { return GetReference(req); }, read);
  router.Add(
      http::Method::kGet, "/api/v1/deployments/{id}/reference/versions",
      [this](http::Request& req) {
        auto deployment = monitor_.FindDeployment(req.scope, req.PathParam("id"));
        if (!deployment.ok()) return http::ErrorResponse(deployment.status());
        auto versions = monitor_.ReferenceVersions(req.scope, deployment->id);
        if (!versions.ok()) return http::ErrorResponse(versions.status());
        bj::array list;
        for (const auto& r : *versions) list.push_back(ReferenceJson(r, false));
        bj::object out;
        out["versions"] = std::move(list);
        return http::Response::Json(200, bj::serialize(out));
      },
      read);
  router.Add(
      http::Method::kGet, "/api/v1/deployments/{id}/monitor",
      [this](http::Request& req) {
        return JsonReply(monitor_.DeploymentStatus(req.scope, req.PathParam("id")));
      },
      read);

  router.Add(
      http::Method::kPost, "/api/v1/feedback",
      [this](http::Request& req) { return JsonReply(monitor_.Feedback(req.scope, req.body)); },
      http::RouteOptions{.max_body_bytes = kMaxFeedbackBytes, .permission = P::kPredict});

  router.Add(
      http::Method::kGet, "/api/v1/alerts",
      [this](http::Request& req) { return ListAlerts(req, false); }, read);
  router.Add(
      http::Method::kGet, "/api/v1/alerts/model-drift",
      [this](http::Request& req) { return ListAlerts(req, true); }, read);
  router.Add(
      http::Method::kGet, "/api/v1/alerts/{id}",
      [this](http::Request& req) {
        auto alert = monitor_.Alert(req.scope, req.PathParam("id"));
        if (!alert.ok()) return http::ErrorResponse(alert.status());
        return http::Response::Json(200, bj::serialize(monitor::MonitorService::AlertJson(*alert)));
      },
      read);
  router.Add(
      http::Method::kPost, "/api/v1/alerts/{id}/acknowledge",
      [this](http::Request& req) {
        auto alert = monitor_.Acknowledge(req.scope, req.PathParam("id"));
        if (!alert.ok()) return http::ErrorResponse(alert.status());
        return http::Response::Json(200, bj::serialize(monitor::MonitorService::AlertJson(*alert)));
      },
      deploy);
  router.Add(
      http::Method::kGet, "/api/v1/alerts/{id}/actions",
      [this](http::Request& req) {
        auto actions = monitor_.Actions(req.scope, req.PathParam("id"), 100);
        if (!actions.ok()) return http::ErrorResponse(actions.status());
        bj::array list;
        for (const metadata::ActionRecord& a : *actions) {
          bj::object o;
          o["id"] = a.id;
          o["action"] = a.action;
          o["target"] = a.target;
          o["status"] = a.status;
          o["attempts"] = a.attempts;
          bj::error_code ec;
          o["detail"] = bj::parse(a.detail_json, ec);
          o["created_at"] = a.created_at_ms;
          o["updated_at"] = a.updated_at_ms;
          list.push_back(std::move(o));
        }
        bj::object out;
        out["actions"] = std::move(list);
        return http::Response::Json(200, bj::serialize(out));
      },
      read);

  router.Add(
      http::Method::kPost, "/api/v1/erasure",
      [this](http::Request& req) {
        bj::error_code ec;
        bj::value body = bj::parse(req.body, ec);
        if (ec || !body.is_object()) {
          return http::ErrorResponse(InvalidArgument("Body must be a JSON object"));
        }
        const bj::value* subject = body.get_object().if_contains("subject_id");
        if (subject == nullptr || !subject->is_string()) {
          return http::ErrorResponse(InvalidArgument("subject_id (a string) is required"));
        }
        std::vector<std::string> tenants = {req.scope.tenant};
        if (const bj::value* list = body.get_object().if_contains("tenants")) {
          if (!list->is_array() || list->get_array().empty()) {
            return http::ErrorResponse(InvalidArgument("tenants must be a non-empty list"));
          }
          tenants.clear();
          for (const bj::value& t : list->get_array()) {
            if (!t.is_string() || t.get_string().empty()) {
              return http::ErrorResponse(InvalidArgument("tenants must hold tenant names"));
            }
            tenants.emplace_back(t.get_string());
          }
        }
        // Another tenant's data is erased only by an administrator.
        for (const std::string& tenant : tenants) {
          if (tenant != req.scope.tenant && !req.scope.HasRoleIn(tenant, "admin")) {
            return http::ErrorResponse(
                Status(StatusCode::kPermissionDenied,
                       "Erasing in tenant '" + tenant + "' needs the admin role"));
          }
        }
        return JsonReply(monitor_.Erase(req.scope, subject->get_string(), tenants));
      },
      admin_body);
  router.Add(
      http::Method::kPost, "/api/v1/export",
      [this](http::Request& req) {
        bj::error_code ec;
        bj::value body = bj::parse(req.body, ec);
        const bj::value* subject =
            !ec && body.is_object() ? body.get_object().if_contains("subject_id") : nullptr;
        if (subject == nullptr || !subject->is_string()) {
          return http::ErrorResponse(InvalidArgument("subject_id (a string) is required"));
        }
        return JsonReply(monitor_.Export(req.scope, subject->get_string()));
      },
      admin_body);
}

}  // namespace cairn::api::v1
