#include "api/v1/audit_handlers.h"

#include <boost/json.hpp>
#include <charconv>

#include "auth/security_service.h"
#include "http/error_response.h"

namespace cairn::api::v1 {
namespace {

namespace bj = boost::json;

StatusOr<std::optional<int64_t>> IntQuery(const http::Request& req, std::string_view name,
                                          int64_t min, int64_t max) {
  std::optional<std::string> text = req.QueryParam(name);
  if (!text || text->empty()) return std::optional<int64_t>();
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < min || value > max) {
    return InvalidArgument("Invalid value for parameter '" + std::string(name) +
                           "': expected an integer in [" + std::to_string(min) + ", " +
                           std::to_string(max) + "]");
  }
  return std::optional<int64_t>(value);
}

// The filter a request asks for, narrowed to what the caller may see.
StatusOr<audit::AuditFilter> FilterOf(const http::Request& req) {
  audit::AuditFilter filter;
  std::optional<std::string> tenant = req.QueryParam("tenant");
  if (auth::SecurityService::Administers(req.scope, "*")) {
    if (tenant && !tenant->empty() && *tenant != "*") filter.tenant = *tenant;
  } else {
    if (tenant && !tenant->empty() && *tenant != req.scope.tenant) {
      return Status(StatusCode::kPermissionDenied,
                    "Reading another tenant's audit entries needs server admin");
    }
    filter.tenant = req.scope.tenant;
  }
  if (auto p = req.QueryParam("principal"); p && !p->empty()) filter.principal = *p;
  if (auto a = req.QueryParam("action"); a && !a->empty()) filter.action_prefix = *a;
  if (auto o = req.QueryParam("outcome"); o && !o->empty()) filter.outcome = *o;
  ASSIGN_OR_RETURN(filter.from_ms, IntQuery(req, "from", 0, int64_t{1} << 50));
  ASSIGN_OR_RETURN(filter.to_ms, IntQuery(req, "to", 0, int64_t{1} << 50));
  ASSIGN_OR_RETURN(std::optional<int64_t> after, IntQuery(req, "page_token", 0, INT64_MAX));
  filter.after_seq = after.value_or(0);
  ASSIGN_OR_RETURN(std::optional<int64_t> limit,
                   IntQuery(req, "max_results", 1, audit::kMaxQueryLimit));
  filter.limit = static_cast<int>(limit.value_or(100));
  return filter;
}

// Streams every matching entry as a JSON line, a page at a time.
class ExportSource final : public http::BodySource {
 public:
  ExportSource(audit::AuditLog& log, audit::AuditFilter filter)
      : log_(log), filter_(std::move(filter)) {
    filter_.limit = audit::kMaxQueryLimit;
  }
  StatusOr<size_t> Read(char* buffer, size_t capacity) override {
    while (pending_.size() == offset_) {
      if (done_) return size_t{0};
      ASSIGN_OR_RETURN(audit::AuditPage page, log_.Query(filter_));
      pending_.clear();
      offset_ = 0;
      for (const audit::AuditEntry& e : page.entries) pending_ += audit::ToJsonLine(e);
      if (page.next_after_seq) {
        filter_.after_seq = *page.next_after_seq;
      } else {
        done_ = true;
      }
    }
    size_t n = std::min(capacity, pending_.size() - offset_);
    std::copy_n(pending_.data() + offset_, n, buffer);
    offset_ += n;
    return n;
  }
  std::optional<uint64_t> Size() const override { return std::nullopt; }

 private:
  audit::AuditLog& log_;
  audit::AuditFilter filter_;
  std::string pending_;
  size_t offset_ = 0;
  bool done_ = false;
};

}  // namespace

void AuditHandlers::Register(http::Router& router) {
  router.Add(
      http::Method::kGet, "/api/v1/audit", [this](http::Request& req) { return List(req); },
      http::RouteOptions{.permission = http::Permission::kAdmin});
  router.Add(
      http::Method::kGet, "/api/v1/audit/export",
      [this](http::Request& req) { return Export(req); },
      http::RouteOptions{.permission = http::Permission::kAdmin});
  router.Add(
      http::Method::kGet, "/api/v1/audit/verify",
      [this](http::Request& req) { return Verify(req); },
      http::RouteOptions{.permission = http::Permission::kServerAdmin});
}

http::Response AuditHandlers::List(const http::Request& req) {
  StatusOr<audit::AuditFilter> filter = FilterOf(req);
  if (!filter.ok()) return http::ErrorResponse(filter.status());
  StatusOr<audit::AuditPage> page = log_.Query(*filter);
  if (!page.ok()) return http::ErrorResponse(page.status());
  std::string body = R"({"entries":[)";
  bool first = true;
  for (const audit::AuditEntry& e : page->entries) {
    std::string line = audit::ToJsonLine(e);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    body += first ? "" : ",";
    body += line;
    first = false;
  }
  body += "]";
  if (page->next_after_seq) {
    body += R"(,"next_page_token":")" + std::to_string(*page->next_after_seq) + "\"";
  }
  body += "}";
  return http::Response::Json(200, std::move(body));
}

http::Response AuditHandlers::Export(const http::Request& req) {
  StatusOr<audit::AuditFilter> filter = FilterOf(req);
  if (!filter.ok()) return http::ErrorResponse(filter.status());
  http::Response response;
  response.content_type = "application/x-ndjson";
  response.stream = std::make_unique<ExportSource>(log_, std::move(filter).value());
  return response;
}

http::Response AuditHandlers::Verify(const http::Request& /*req*/) {
  StatusOr<audit::VerifyResult> result = log_.Verify();
  if (!result.ok()) return http::ErrorResponse(result.status());
  audit::AuditHead head = log_.Head();
  bj::object out;
  out["ok"] = result->ok;
  out["checked"] = result->entries_checked;
  if (!result->ok) {
    out["first_bad_seq"] = result->first_bad_seq;
    out["failure"] = std::string(audit::VerifyFailureName(result->failure));
    out["reason"] = result->reason;
  }
  out["head_seq"] = head.seq;
  out["head_hash"] = head.hash;
  return http::Response::Json(200, bj::serialize(out));
}

}  // namespace cairn::api::v1
