#pragma once

#include <memory>
#include <string>

#include "metrics/metrics_registry.h"

namespace cairn::serving {

// The Prometheus series of one deployment and model version, looked up once when the version is
// published so the prediction path only touches atomics:
//   cairn_predictions_total{deployment, version, code}
//   cairn_prediction_latency_seconds{deployment, version}   (histogram)
// Per deployment (sampled by the autoscaler tick): cairn_deployment_in_flight,
// cairn_deployment_replicas, cairn_deployment_load_seconds.
class ServingMetrics {
 public:
  ServingMetrics(metrics::MetricsRegistry& registry, std::string deployment, std::string version);

  // One answered prediction.
  void Record(int http_status, double seconds);

  metrics::Gauge& in_flight() { return *in_flight_; }
  metrics::Gauge& replicas() { return *replicas_; }
  metrics::Gauge& load_seconds() { return *load_seconds_; }

 private:
  metrics::Counter& CounterFor(int http_status);

  metrics::MetricsRegistry& registry_;
  const std::string deployment_;
  const std::string version_;
  metrics::Histogram* latency_;
  // The codes a prediction usually ends with; others are looked up in the registry.
  metrics::Counter* ok_;
  metrics::Counter* bad_request_;
  metrics::Counter* unavailable_;
  metrics::Counter* internal_;
  metrics::Gauge* in_flight_;
  metrics::Gauge* replicas_;
  metrics::Gauge* load_seconds_;
};

}  // namespace cairn::serving
