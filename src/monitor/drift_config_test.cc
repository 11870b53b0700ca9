#include "monitor/drift_config.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "base/status_testing.h"

namespace cairn::monitor {
namespace {

using namespace std::chrono_literals;

// INVALID_ARGUMENT whose message names `field` (quoted, as the parser writes it).
void ExpectRejected(const std::string& json, const std::string& field) {
  StatusOr<DriftConfig> parsed = ParseDriftConfig(json);
  ASSERT_FALSE(parsed.ok()) << json;
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << json;
  EXPECT_NE(parsed.status().message().find("'" + field + "'"), std::string::npos)
      << json << " -> " << parsed.status().message();
}

TEST(DriftConfigTest, EmptyObjectGetsTheDocumentedDefaults) {
  ASSERT_OK_AND_ASSIGN(DriftConfig c, ParseDriftConfig("{}"));
  EXPECT_FALSE(c.deployment.has_value());
  ASSERT_TRUE(c.window_duration.has_value());
  EXPECT_EQ(*c.window_duration, 5min);
  EXPECT_FALSE(c.window_size.has_value());
  EXPECT_FALSE(c.default_test.method.has_value());
  EXPECT_FALSE(c.default_test.threshold.has_value());
  EXPECT_TRUE(c.features.empty());
  EXPECT_TRUE(c.per_feature.empty());
  EXPECT_EQ(c.min_samples, 30);
  EXPECT_EQ(c.drift_share, 0.5);
  EXPECT_TRUE(c.prediction_drift);
  EXPECT_EQ(c.prediction_column, "prediction");
  EXPECT_EQ(c.severity, "warning");
  EXPECT_FALSE(c.performance.has_value());
  EXPECT_FALSE(c.max_error_rate.has_value());
  EXPECT_FALSE(c.max_latency_p99_ms.has_value());
  EXPECT_FALSE(c.concept_drift.has_value());
  EXPECT_EQ(c.reference_from_predictions, 0);
  EXPECT_TRUE(c.webhooks.empty());
  EXPECT_FALSE(c.retrain.has_value());
}

TEST(DriftConfigTest, FullConfigurationParses) {
  ASSERT_OK_AND_ASSIGN(DriftConfig c, ParseDriftConfig(R"({
    "deployment": "prod",
    "window": {"size": 1000},
    "method": "psi",
    "threshold": 0.2,
    "features": ["a", "b"],
    "per_feature": {"a": {"method": "ks", "threshold": 0.01}, "b": {"threshold": 0.3}},
    "min_samples": 50,
    "drift_share": 0.25,
    "prediction_drift": {"method": "jensenshannon", "threshold": 0.15},
    "prediction_column": "target",
    "severity": "critical",
    "performance": {"metric": "f1", "min": 0.7, "min_labels": 10, "positive_label": 1},
    "slo": {"error_rate": 0.05, "latency_p99_ms": 250},
    "concept_drift": {"detector": "ddm", "params": {}},
    "reference": {"from_predictions": 500},
    "sinks": [{"type": "webhook", "url": "https://hooks.example.com/a", "secret": "s"},
              {"type": "log"}],
    "retrain": {"type": "command", "command": ["python", "train.py"], "working_dir": "/tmp",
                "timeout": "2h", "experiment": "retrain", "cooldown": 600,
                "on": ["data_drift", "performance"]}
  })"));
  EXPECT_EQ(c.deployment, "prod");
  EXPECT_FALSE(c.window_duration.has_value());
  EXPECT_EQ(c.window_size, 1000);
  EXPECT_EQ(c.default_test.method, DriftMethod::kPsi);
  EXPECT_EQ(c.default_test.threshold, 0.2);
  EXPECT_EQ(c.features, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.min_samples, 50);
  EXPECT_EQ(c.drift_share, 0.25);
  EXPECT_TRUE(c.prediction_drift);
  EXPECT_EQ(c.prediction_test.method, DriftMethod::kJensenShannon);
  EXPECT_EQ(c.prediction_test.threshold, 0.15);
  EXPECT_EQ(c.prediction_column, "target");
  EXPECT_EQ(c.severity, "critical");
  ASSERT_TRUE(c.performance.has_value());
  EXPECT_EQ(c.performance->task, "classification");  // inferred from the metric
  EXPECT_EQ(c.performance->metric, "f1");
  EXPECT_EQ(c.performance->min, 0.7);
  EXPECT_FALSE(c.performance->max.has_value());
  EXPECT_EQ(c.performance->min_labels, 10);
  EXPECT_EQ(c.performance->positive_label, "1");  // a number is kept as its JSON text
  EXPECT_EQ(c.max_error_rate, 0.05);
  EXPECT_EQ(c.max_latency_p99_ms, 250);
  ASSERT_TRUE(c.concept_drift.has_value());
  EXPECT_EQ(c.concept_drift->detector, "ddm");
  EXPECT_EQ(c.concept_drift->params_json, "{}");
  EXPECT_EQ(c.reference_from_predictions, 500);
  ASSERT_EQ(c.webhooks.size(), 1u);
  EXPECT_EQ(c.webhooks[0].url, "https://hooks.example.com/a");
  EXPECT_EQ(c.webhooks[0].secret, "s");
  ASSERT_TRUE(c.retrain.has_value());
  EXPECT_EQ(c.retrain->type, RetrainAction::Type::kCommand);
  EXPECT_EQ(c.retrain->command, (std::vector<std::string>{"python", "train.py"}));
  EXPECT_EQ(c.retrain->working_dir, "/tmp");
  EXPECT_EQ(c.retrain->timeout, 2h);
  EXPECT_EQ(c.retrain->experiment, "retrain");
  EXPECT_EQ(c.retrain->cooldown, 600s);
  EXPECT_EQ(c.retrain->on, (std::vector<std::string>{"data_drift", "performance"}));

  // Per-feature settings override the defaults one field at a time.
  FeatureTest a = c.TestFor("a");
  EXPECT_EQ(a.method, DriftMethod::kKs);
  EXPECT_EQ(a.threshold, 0.01);
  FeatureTest b = c.TestFor("b");
  EXPECT_EQ(b.method, DriftMethod::kPsi);
  EXPECT_EQ(b.threshold, 0.3);
  FeatureTest other = c.TestFor("z");
  EXPECT_EQ(other.method, DriftMethod::kPsi);
  EXPECT_EQ(other.threshold, 0.2);
}

TEST(DriftConfigTest, RetrainDefaultsAndWebhookRetrain) {
  ASSERT_OK_AND_ASSIGN(DriftConfig c,
                       ParseDriftConfig(R"({"retrain": {"type": "command", "command": ["x"]}})"));
  ASSERT_TRUE(c.retrain.has_value());
  EXPECT_EQ(c.retrain->timeout, 3600s);
  EXPECT_EQ(c.retrain->cooldown, 3600s);
  EXPECT_EQ(c.retrain->experiment, "cairn-retraining");
  EXPECT_TRUE(c.retrain->on.empty());

  ASSERT_OK_AND_ASSIGN(c, ParseDriftConfig(R"({"retrain": {"type": "webhook",
      "url": "http://127.0.0.1:9/retrain", "secret": "k"}})"));
  EXPECT_EQ(c.retrain->type, RetrainAction::Type::kWebhook);
  EXPECT_EQ(c.retrain->webhook.url, "http://127.0.0.1:9/retrain");
  EXPECT_EQ(c.retrain->webhook.secret, "k");
}

TEST(DriftConfigTest, WindowsAndDurations) {
  ASSERT_OK_AND_ASSIGN(DriftConfig c, ParseDriftConfig(R"({"window": {"duration": "90s"}})"));
  EXPECT_EQ(c.window_duration, 90s);
  ASSERT_OK_AND_ASSIGN(c, ParseDriftConfig(R"({"window": {"duration": 2.5}})"));
  EXPECT_EQ(c.window_duration, 2500ms);
  ASSERT_OK_AND_ASSIGN(c, ParseDriftConfig(R"({"window": {"duration": "30d"}})"));
  EXPECT_EQ(c.window_duration, std::chrono::hours(24 * 30));
  ASSERT_OK_AND_ASSIGN(c, ParseDriftConfig(R"({"window": {"duration": "1s"}})"));
  EXPECT_EQ(c.window_duration, 1s);
  ASSERT_OK_AND_ASSIGN(c, ParseDriftConfig(R"({"window": {"size": 10}})"));
  EXPECT_EQ(c.window_size, 10);
  ASSERT_OK_AND_ASSIGN(c, ParseDriftConfig(R"({"window": {"size": 10000000}})"));
  EXPECT_EQ(c.window_size, 10'000'000);

  ExpectRejected(R"({"window": 5})", "window");
  ExpectRejected(R"({"window": {}})", "window");
  ExpectRejected(R"({"window": {"duration": "5m", "size": 100}})", "window");
  ExpectRejected(R"({"window": {"every": "5m"}})", "window");
  ExpectRejected(R"({"window": {"duration": "999ms"}})", "window.duration");
  ExpectRejected(R"({"window": {"duration": 0.5}})", "window.duration");
  ExpectRejected(R"({"window": {"duration": "31d"}})", "window.duration");
  ExpectRejected(R"({"window": {"duration": "5 minutes"}})", "window.duration");
  ExpectRejected(R"({"window": {"duration": -5}})", "window.duration");
  ExpectRejected(R"({"window": {"duration": true}})", "window.duration");
  ExpectRejected(R"({"window": {"size": 9}})", "window.size");
  ExpectRejected(R"({"window": {"size": 10000001}})", "window.size");
  ExpectRejected(R"({"window": {"size": 100.5}})", "window.size");
  ExpectRejected(R"({"window": {"size": "100"}})", "window.size");
  ExpectRejected(R"({"window": {"size": 18446744073709551615}})", "window.size");
}

TEST(DriftConfigTest, RejectsEveryBadField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"windows": {}})", "windows"},
      {R"({"deployment": 3})", "deployment"},
      {R"({"deployment": ""})", "deployment"},
      {R"({"method": "anderson"})", "method"},
      {R"({"method": 1})", "method"},
      {R"({"threshold": 0})", "threshold"},
      {R"({"threshold": -0.1})", "threshold"},
      {R"({"threshold": "0.1"})", "threshold"},
      {R"({"features": "a"})", "features"},
      {R"({"features": ["a", 1]})", "features"},
      {R"({"per_feature": []})", "per_feature"},
      {R"({"per_feature": {"a": 0.1}})", "per_feature.a"},
      {R"({"per_feature": {"a": {"method": "nope"}}})", "per_feature.a.method"},
      {R"({"per_feature": {"a": {"threshold": 0}}})", "per_feature.a.threshold"},
      {R"({"per_feature": {"a": {"weight": 1}}})", "per_feature.a"},
      {R"({"min_samples": 0})", "min_samples"},
      {R"({"min_samples": 10000001})", "min_samples"},
      {R"({"min_samples": 1.5})", "min_samples"},
      {R"({"drift_share": 0})", "drift_share"},
      {R"({"drift_share": 1.01})", "drift_share"},
      {R"({"drift_share": "half"})", "drift_share"},
      {R"({"prediction_drift": "yes"})", "prediction_drift"},
      {R"({"prediction_drift": {"method": "x"}})", "prediction_drift.method"},
      {R"({"prediction_drift": {"threshold": -1}})", "prediction_drift.threshold"},
      {R"({"prediction_column": 1})", "prediction_column"},
      {R"({"severity": "fatal"})", "severity"},
      {R"({"severity": 2})", "severity"},
      {R"({"performance": 1})", "performance"},
      {R"({"performance": {"min": 0.5}})", "performance"},
      {R"({"performance": {"metric": "accuracy"}})", "performance"},
      {R"({"performance": {"metric": "logloss", "min": 1}})", "performance.metric"},
      {R"({"performance": {"metric": 3, "min": 1}})", "performance.metric"},
      {R"({"performance": {"metric": "rmse", "max": 1, "task": "classification"}})",
       "performance.metric"},
      {R"({"performance": {"metric": "accuracy", "min": 1, "task": "ranking"}})",
       "performance.task"},
      {R"({"performance": {"metric": "accuracy", "min": "high"}})", "performance.min"},
      {R"({"performance": {"metric": "mae", "max": null}})", "performance.max"},
      {R"({"performance": {"metric": "accuracy", "min": 1, "min_labels": 0}})",
       "performance.min_labels"},
      {R"({"performance": {"metric": "accuracy", "min": 1, "positive_label": [1]}})",
       "performance.positive_label"},
      {R"({"performance": {"metric": "accuracy", "min": 1, "average": "macro"}})", "performance"},
      {R"({"slo": 1})", "slo"},
      {R"({"slo": {"p99": 1}})", "slo"},
      {R"({"slo": {"error_rate": 1.5}})", "slo.error_rate"},
      {R"({"slo": {"error_rate": -0.1}})", "slo.error_rate"},
      {R"({"slo": {"latency_p99_ms": 0}})", "slo.latency_p99_ms"},
      {R"({"concept_drift": 1})", "concept_drift"},
      {R"({"concept_drift": {}})", "concept_drift"},
      {R"({"concept_drift": {"detector": "kswin"}})", "concept_drift"},
      {R"({"concept_drift": {"detector": "ddm", "params": {"warm_start": -3}}})", "concept_drift"},
      {R"({"concept_drift": {"detector": "ddm", "params": {"bogus": 1}}})", "concept_drift"},
      {R"({"concept_drift": {"detector": "ddm", "params": 1}})", "concept_drift.params"},
      {R"({"concept_drift": {"detector": "ddm", "extra": 1}})", "concept_drift"},
      {R"({"reference": 1})", "reference"},
      {R"({"reference": {"from": 100}})", "reference"},
      {R"({"reference": {"from_predictions": 9}})", "reference.from_predictions"},
      {R"({"reference": {"from_predictions": 1000001}})", "reference.from_predictions"},
      {R"({"sinks": {}})", "sinks"},
      {R"({"sinks": [1]})", "sinks"},
      {R"({"sinks": [{"url": "http://a/"}]})", "sinks"},
      {R"({"sinks": [{"type": "email"}]})", "sinks.type"},
      {R"({"sinks": [{"type": "webhook"}]})", "sinks"},
      {R"({"sinks": [{"type": "webhook", "url": "ftp://a/b"}]})", "sinks.url"},
      {R"({"sinks": [{"type": "webhook", "url": 5}]})", "sinks.url"},
      {R"({"sinks": [{"type": "webhook", "url": "http://a/", "secret": 1}]})", "sinks.secret"},
      {R"({"sinks": [{"type": "log", "level": "warn"}]})", "sinks"},
      {R"({"retrain": 1})", "retrain"},
      {R"({"retrain": {}})", "retrain"},
      {R"({"retrain": {"type": "lambda"}})", "retrain.type"},
      {R"({"retrain": {"type": "command"}})", "retrain.command"},
      {R"({"retrain": {"type": "command", "command": []}})", "retrain.command"},
      {R"({"retrain": {"type": "command", "command": "train.sh"}})", "retrain.command"},
      {R"({"retrain": {"type": "command", "command": [1]}})", "retrain.command"},
      {R"({"retrain": {"type": "command", "command": [""]}})", "retrain.command"},
      {R"({"retrain": {"type": "command", "command": ["x"], "working_dir": 1}})",
       "retrain.working_dir"},
      {R"({"retrain": {"type": "command", "command": ["x"], "timeout": "0s"}})", "retrain.timeout"},
      {R"({"retrain": {"type": "command", "command": ["x"], "timeout": "soon"}})",
       "retrain.timeout"},
      {R"({"retrain": {"type": "command", "command": ["x"], "experiment": ""}})",
       "retrain.experiment"},
      {R"({"retrain": {"type": "command", "command": ["x"], "cooldown": "later"}})",
       "retrain.cooldown"},
      {R"({"retrain": {"type": "command", "command": ["x"], "on": "data_drift"}})", "retrain.on"},
      {R"({"retrain": {"type": "command", "command": ["x"], "on": ["everything"]}})", "retrain.on"},
      {R"({"retrain": {"type": "command", "command": ["x"], "shell": true}})", "retrain"},
      {R"({"retrain": {"type": "webhook"}})", "retrain"},
      {R"({"retrain": {"type": "webhook", "url": "mailto:a@b"}})", "retrain.url"},
  };
  for (const auto& [json, field] : cases) ExpectRejected(json, field);
}

TEST(DriftConfigTest, RejectsBodiesThatAreNotObjects) {
  for (const char* body : {"", "[]", "1", "null", "{", "\"x\""}) {
    EXPECT_EQ(ParseDriftConfig(body).status().code(), StatusCode::kInvalidArgument) << body;
  }
}

TEST(DriftConfigTest, PredictionDriftCanBeTurnedOff) {
  ASSERT_OK_AND_ASSIGN(DriftConfig c, ParseDriftConfig(R"({"prediction_drift": false})"));
  EXPECT_FALSE(c.prediction_drift);
  ASSERT_OK_AND_ASSIGN(c, ParseDriftConfig(R"({"method": "auto"})"));
  EXPECT_FALSE(c.default_test.method.has_value());
}

TEST(DriftConfigTest, PositiveLabelSpellings) {
  ASSERT_OK_AND_ASSIGN(DriftConfig c, ParseDriftConfig(
                                          R"({"performance": {"metric": "recall", "min": 0.5,
                                              "positive_label": "spam"}})"));
  EXPECT_EQ(c.performance->positive_label, "spam");
  ASSERT_OK_AND_ASSIGN(c, ParseDriftConfig(R"({"performance": {"metric": "recall", "min": 0.5,
                                              "positive_label": true}})"));
  EXPECT_EQ(c.performance->positive_label, "true");
  ASSERT_OK_AND_ASSIGN(c, ParseDriftConfig(R"({"performance": {"metric": "rmse", "max": 2}})"));
  EXPECT_EQ(c.performance->task, "regression");
  EXPECT_EQ(c.performance->min_labels, 30);
  EXPECT_EQ(c.performance->positive_label, "1");
}

TEST(ParseDurationTest, UnitsAndBareSeconds) {
  EXPECT_EQ(*ParseDuration("90"), 90s);
  EXPECT_EQ(*ParseDuration("90s"), 90s);
  EXPECT_EQ(*ParseDuration("5m"), 5min);
  EXPECT_EQ(*ParseDuration("1h"), 1h);
  EXPECT_EQ(*ParseDuration("2d"), 48h);
  EXPECT_EQ(*ParseDuration("0.5s"), 500ms);
  EXPECT_EQ(*ParseDuration("1.5m"), 90s);
  EXPECT_EQ(*ParseDuration("0"), 0ms);
}

TEST(ParseDurationTest, RejectsMalformedText) {
  for (const char* bad :
       {"", "s", "m", "5x", "5 m", " 5m", "-1s", "nan", "inf", "1e10", "5ms", "1h30m", "0x10"}) {
    EXPECT_EQ(ParseDuration(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace cairn::monitor
