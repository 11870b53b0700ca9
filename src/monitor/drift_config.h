#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "monitor/stats/drift_method.h"

namespace cairn::monitor {

// How one feature is tested: a method (nullopt: Evidently's automatic choice) and a threshold
// (nullopt: the method's default).
struct FeatureTest {
  std::optional<DriftMethod> method;
  std::optional<double> threshold;
};

struct WebhookSink {
  std::string url;
  std::string secret;  // empty: deliveries are not signed
};

// What a firing alert launches to retrain the model.
struct RetrainAction {
  enum class Type { kCommand, kWebhook };
  Type type = Type::kCommand;
  std::vector<std::string> command;  // kCommand: argv, no shell
  std::string working_dir;
  std::chrono::seconds timeout{3600};
  WebhookSink webhook;  // kWebhook
  // The MLflow experiment each launch is recorded in (created when missing).
  std::string experiment = "cairn-retraining";
  // A second launch for the same configuration waits at least this long after the first.
  std::chrono::seconds cooldown{3600};
  // Alert kinds that launch it; empty: every kind.
  std::vector<std::string> on;
};

// Performance expectations, checked on each window's labeled predictions.
struct PerformanceRule {
  std::string task;           // "classification" or "regression"; empty: inferred from the labels
  std::string metric;         // accuracy, precision, recall, f1, auc, rmse, mae
  std::optional<double> min;  // alert when the metric falls below (higher-is-better metrics)
  std::optional<double> max;  // alert when it rises above (errors)
  int64_t min_labels = 30;    // fewer labels in a window: no verdict
  std::string positive_label = "1";
};

struct ConceptDriftRule {
  std::string detector;     // adwin, ddm, eddm, page_hinkley
  std::string params_json;  // the detector's parameters, "{}" for its defaults
};

// A validated drift configuration: the JSON accepted by POST /api/v1/models/{name}/drift-config.
//
//   {"deployment": "<id or name>",             absent: every deployment of the model
//    "window": {"duration": "5m"} | {"size": 1000},
//    "method": "auto" | "ks" | "chisquare" | "z" | "psi" | "kl_div" | "jensenshannon" |
//              "wasserstein",
//    "threshold": 0.1,                         for every feature without its own
//    "features": ["a", "b"],                   default: every feature of the reference
//    "per_feature": {"a": {"method": "psi", "threshold": 0.2}},
//    "min_samples": 30,                        a smaller window gets no drift verdict
//    "drift_share": 0.5,                       dataset drift: share of drifted features
//    "prediction_drift": true | {"method": ..., "threshold": ...},
//    "prediction_column": "prediction",        the reference column holding predictions
//    "severity": "warning" | "critical",
//    "performance": {"metric": "accuracy", "min": 0.8, "task": ..., "min_labels": 30,
//                    "positive_label": "1"},
//    "slo": {"error_rate": 0.05, "latency_p99_ms": 250},
//    "concept_drift": {"detector": "adwin", "params": {...}},
//    "reference": {"from_predictions": 1000},  build one from the first N predictions when none
//                                              was uploaded
//    "sinks": [{"type": "webhook", "url": ..., "secret": ...}, {"type": "log"}],
//    "retrain": {"type": "command", "command": [...], "working_dir": ..., "timeout": "1h",
//                "experiment": ..., "cooldown": "1h", "on": ["data_drift"]}
//             | {"type": "webhook", "url": ..., "secret": ..., ...}}
//
// Durations are a number of seconds or a string with a unit (s, m, h, d).
struct DriftConfig {
  std::optional<std::string> deployment;  // as given (id or name)
  std::optional<std::chrono::milliseconds> window_duration;
  std::optional<int64_t> window_size;
  FeatureTest default_test;
  std::vector<std::string> features;  // empty: all
  std::map<std::string, FeatureTest, std::less<>> per_feature;
  int64_t min_samples = 30;
  double drift_share = 0.5;
  bool prediction_drift = true;
  FeatureTest prediction_test;
  std::string prediction_column = "prediction";
  std::string severity = "warning";
  std::optional<PerformanceRule> performance;
  std::optional<double> max_error_rate;
  std::optional<double> max_latency_p99_ms;
  std::optional<ConceptDriftRule> concept_drift;
  int64_t reference_from_predictions = 0;  // 0: only uploaded references
  bool log_sink = true;                    // alerts are always logged; kept for the spec echo
  std::vector<WebhookSink> webhooks;
  std::optional<RetrainAction> retrain;

  // The test for `feature`: its own settings over the defaults.
  FeatureTest TestFor(std::string_view feature) const;
};

// Parses and validates a drift configuration. INVALID_ARGUMENT naming the field for anything
// malformed: unknown keys, wrong types, a window with neither or both of duration and size, a
// duration under 1 s or over 30 d, a size outside 10..10,000,000, an unknown method, a
// threshold that is not finite and positive, drift_share outside (0, 1], an unknown metric or a
// performance rule with neither min nor max, a sink that is not http(s), an empty command, an
// unknown detector or bad detector parameters.
StatusOr<DriftConfig> ParseDriftConfig(std::string_view json);

// The spec as the API shows it: every webhook `secret` (sinks and retrain) replaced by
// "********". Secrets are stored, never echoed.
std::string RedactSecrets(std::string_view spec_json);

// Parses "90", "90s", "5m", "1h", "2d" (or a JSON number given as text) as a duration.
StatusOr<std::chrono::milliseconds> ParseDuration(std::string_view text);

}  // namespace cairn::monitor
