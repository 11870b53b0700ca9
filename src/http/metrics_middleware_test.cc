#include "http/metrics_middleware.h"

#include <gtest/gtest.h>

#include "metrics/metrics_registry.h"

namespace cairn::http {
namespace {

using metrics::MetricsRegistry;

bool Contains(const std::string& text, std::string_view needle) {
  return text.find(needle) != std::string::npos;
}

TEST(MetricsMiddlewareTest, LabelsByRoutePatternAndUnmatched) {
  ManualClock clock(0);
  MetricsRegistry registry(clock);
  MetricsMiddleware middleware(registry);
  const std::string pattern = "/runs/{id}";

  Request matched;
  matched.method = Method::kGet;
  matched.path = "/runs/123";
  matched.route_pattern = pattern;
  Response ok = Response::Json(200, "{}");
  EXPECT_FALSE(middleware.OnRequest(matched).has_value());
  middleware.OnResponse(matched, ok, 2'000'000);
  matched.path = "/runs/456";
  middleware.OnResponse(matched, ok, 3'000'000);

  Request unmatched;
  unmatched.method = Method::kPost;
  unmatched.path = "/nope/1";
  Response missing = Response::Json(404, "{}");
  middleware.OnResponse(unmatched, missing, 1000);

  std::string text = registry.RenderPrometheus();
  EXPECT_TRUE(Contains(
      text, "cairn_http_requests_total{method=\"GET\",route=\"/runs/{id}\",status=\"200\"} 2\n"))
      << text;
  EXPECT_TRUE(Contains(
      text, "cairn_http_requests_total{method=\"POST\",route=\"unmatched\",status=\"404\"} 1\n"))
      << text;
  EXPECT_TRUE(Contains(text,
                       "cairn_http_request_duration_seconds_bucket{method=\"GET\",route=\"/runs/"
                       "{id}\",le=\"0.0025\"} 1\n"))
      << text;
  EXPECT_TRUE(Contains(
      text, "cairn_http_request_duration_seconds_count{method=\"GET\",route=\"/runs/{id}\"} 2\n"))
      << text;
  EXPECT_FALSE(Contains(text, "/runs/123"));
}

TEST(MetricsMiddlewareTest, MetricsRouteServesTextFormat) {
  ManualClock clock(0);
  MetricsRegistry registry(clock);
  Router router;
  AddMetricsRoute(router, registry);
  auto match = router.Find(Method::kGet, "/metrics");
  ASSERT_NE(match.route, nullptr);
  Request request;
  Response response = match.route->handler(request);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_TRUE(Contains(response.body, "cairn_up 1\n"));
}

}  // namespace
}  // namespace cairn::http
