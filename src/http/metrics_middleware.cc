#include "http/metrics_middleware.h"

#include <functional>

namespace cairn::http {

size_t MetricsMiddleware::KeyHash::operator()(const KeyView& k) const {
  size_t h = std::hash<std::string_view>{}(k.route);
  h ^= (static_cast<size_t>(k.status) << 8 | static_cast<size_t>(k.method)) * 0x9E3779B97F4A7C15ull;
  return h;
}

std::optional<Response> MetricsMiddleware::OnRequest(Request& /*request*/) { return std::nullopt; }

void MetricsMiddleware::OnResponse(const Request& request, Response& response, int64_t elapsed_ns) {
  const std::string_view route =
      request.route_pattern.empty() ? std::string_view("unmatched") : request.route_pattern;
  const KeyView key{request.method, response.status, route};
  Series series;
  {
    MutexLock lock(mu_);
    auto it = cache_.find(key);
    if (it == cache_.end()) {
      const std::string method(MethodName(request.method));
      Series created{&registry_.GetCounter("cairn_http_requests_total", "HTTP requests served.",
                                           {{"method", method},
                                            {"route", std::string(route)},
                                            {"status", std::to_string(response.status)}}),
                     &registry_.GetHistogram("cairn_http_request_duration_seconds",
                                             "Time from request header to response, seconds.",
                                             {{"method", method}, {"route", std::string(route)}})};
      it = cache_.emplace(Key{key.method, key.status, std::string(route)}, created).first;
    }
    series = it->second;
  }
  series.requests->Increment();
  series.duration->Observe(static_cast<double>(elapsed_ns) / 1e9);
}

void AddMetricsRoute(Router& router, const metrics::MetricsRegistry& registry) {
  router.Add(
      Method::kGet, "/metrics",
      [&registry](Request& /*request*/) {
        Response response = Response::Text(200, registry.RenderPrometheus());
        response.content_type = "text/plain; version=0.0.4; charset=utf-8";
        return response;
      },
      RouteOptions{.run_inline = true, .permission = Permission::kServerRead});
}

}  // namespace cairn::http
