#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "http/middleware.h"
#include "http/router.h"
#include "metrics/metrics_registry.h"

namespace cairn::http {

// Records every request in `registry`:
//   cairn_http_requests_total{method,route,status}           counter
//   cairn_http_request_duration_seconds{method,route}         histogram (0.0001 .. 10 s)
// `route` is the matched route pattern (bounded cardinality), "unmatched" when none matched.
// Thread-safe: a small mutex-guarded cache maps (method, route, status) to its series.
class MetricsMiddleware final : public Middleware {
 public:
  explicit MetricsMiddleware(metrics::MetricsRegistry& registry) : registry_(registry) {}

  std::optional<Response> OnRequest(Request& request) override;
  void OnResponse(const Request& request, Response& response, int64_t elapsed_ns) override;

 private:
  struct Key {
    Method method;
    int status;
    std::string route;
  };
  struct KeyView {
    Method method;
    int status;
    std::string_view route;
  };
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(const KeyView& k) const;
    size_t operator()(const Key& k) const { return (*this)(KeyView{k.method, k.status, k.route}); }
  };
  struct KeyEqual {
    using is_transparent = void;
    static KeyView View(const Key& k) { return {k.method, k.status, k.route}; }
    static KeyView View(const KeyView& k) { return k; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      KeyView x = View(a);
      KeyView y = View(b);
      return x.method == y.method && x.status == y.status && x.route == y.route;
    }
  };
  struct Series {
    metrics::Counter* requests;
    metrics::Histogram* duration;
  };

  metrics::MetricsRegistry& registry_;
  Mutex mu_;
  std::unordered_map<Key, Series, KeyHash, KeyEqual> cache_ GUARDED_BY(mu_);
};

// Serves `registry` at GET /metrics in the Prometheus text format.
void AddMetricsRoute(Router& router, const metrics::MetricsRegistry& registry);

}  // namespace cairn::http
