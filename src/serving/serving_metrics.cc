#include "serving/serving_metrics.h"

#include <array>

namespace cairn::serving {
namespace {

constexpr std::string_view kRequests = "cairn_predictions_total";
constexpr std::string_view kRequestsHelp = "Predictions answered, by deployment, version and code";

// Prediction latencies are microseconds to seconds: finer low buckets than the HTTP defaults.
constexpr std::array<double, 16> kLatencyBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                    0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                                    0.5,     1,      2.5,     10};

}  // namespace

ServingMetrics::ServingMetrics(metrics::MetricsRegistry& registry, std::string deployment,
                               std::string version)
    : registry_(registry), deployment_(std::move(deployment)), version_(std::move(version)) {
  const metrics::MetricLabels labels = {{"deployment", deployment_}, {"version", version_}};
  latency_ = &registry_.GetHistogram("cairn_prediction_latency_seconds",
                                     "Time from request parsed to response written", labels,
                                     kLatencyBuckets);
  ok_ = &CounterFor(200);
  bad_request_ = &CounterFor(400);
  unavailable_ = &CounterFor(503);
  internal_ = &CounterFor(500);
  const metrics::MetricLabels deployment_label = {{"deployment", deployment_}};
  in_flight_ = &registry_.GetGauge("cairn_deployment_in_flight", "Predictions being answered",
                                   deployment_label);
  replicas_ =
      &registry_.GetGauge("cairn_deployment_replicas", "Replicas serving", deployment_label);
  load_seconds_ = &registry_.GetGauge("cairn_deployment_load_seconds",
                                      "Time the serving version took to load", deployment_label);
}

metrics::Counter& ServingMetrics::CounterFor(int http_status) {
  return registry_.GetCounter(
      kRequests, kRequestsHelp,
      {{"deployment", deployment_}, {"version", version_}, {"code", std::to_string(http_status)}});
}

void ServingMetrics::Record(int http_status, double seconds) {
  latency_->Observe(seconds);
  switch (http_status) {
    case 200:
      ok_->Increment();
      break;
    case 400:
      bad_request_->Increment();
      break;
    case 503:
      unavailable_->Increment();
      break;
    case 500:
      internal_->Increment();
      break;
    default:
      CounterFor(http_status).Increment();
  }
}

}  // namespace cairn::serving
