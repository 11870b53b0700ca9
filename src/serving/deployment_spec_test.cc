#include "serving/deployment_spec.h"

#include <gtest/gtest.h>

namespace cairn::serving {
namespace {

TEST(DeploymentSpecTest, ParsesTheSeedBody) {
  StatusOr<DeploymentSpec> spec = ParseDeploymentSpec(R"({
    "model_name": "Fraud Detector", "version": 3,
    "deployment_config": {"replicas": 2, "cpu": "500m", "memory": "2Gi",
                          "autoscaling": {"min": 1, "max": 4, "target_concurrency": 8}}})");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->version, "3");
  EXPECT_EQ(spec->name, "fraud-detector-v3");
  EXPECT_EQ(spec->runtime, "auto");
  EXPECT_EQ(spec->replicas, 2);
  EXPECT_EQ(spec->cpu, "500m");
  ASSERT_TRUE(spec->autoscaling.has_value());
  EXPECT_EQ(spec->autoscaling->max, 4);
  EXPECT_EQ(MinReplicas(*spec), 1);
  EXPECT_EQ(MaxReplicas(*spec), 4);
}

TEST(DeploymentSpecTest, RoundTripsThroughJson) {
  StatusOr<DeploymentSpec> spec = ParseDeploymentSpec(
      R"({"model_name": "m", "alias": "champion", "name": "prod", "runtime": "onnx",
          "device": "cpu", "options": {"intra_op_threads": 2, "graph_optimization": "basic",
          "log_predictions": false, "backpressure": true, "predict_timeout_ms": 500}})");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  StatusOr<DeploymentSpec> again = SpecFromJson(SpecToJson(*spec));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->alias, "champion");
  EXPECT_EQ(again->name, "prod");
  EXPECT_EQ(again->runtime_options.intra_op_threads, 2);
  EXPECT_EQ(again->runtime_options.graph_optimization, "basic");
  EXPECT_EQ(again->runtime_options.predict_timeout.count(), 500);
  EXPECT_FALSE(again->log_predictions);
  EXPECT_TRUE(again->backpressure);
}

TEST(DeploymentSpecTest, RejectsBadFieldsByName) {
  struct Case {
    const char* body;
    const char* mentions;
  };
  for (const Case& c : {
           Case{R"({"version": 1})", "model_name"},
           Case{R"({"model_name": "m"})", "version or alias"},
           Case{R"({"model_name": "m", "version": 1, "alias": "a"})", "not both"},
           Case{R"({"model_name": "m", "version": -1})", "version"},
           Case{R"({"model_name": "m", "version": "1x"})", "version"},
           Case{R"({"model_name": "m", "version": 1, "name": "Bad_Name"})", "DNS label"},
           Case{R"({"model_name": "m", "version": 1, "runtime": "tensorrt"})", "runtime"},
           Case{R"({"model_name": "m", "version": 1, "device": "tpu"})", "device"},
           Case{R"({"model_name": "m", "version": 1, "deployment_config": {"replicas": 0}})",
                "replicas"},
           Case{R"({"model_name": "m", "version": 1, "deployment_config": {"replicas": 1000}})",
                "replicas"},
           Case{R"({"model_name": "m", "version": 1,
                   "deployment_config": {"autoscaling": {"min": 3, "max": 2}}})",
                "min"},
           Case{R"({"model_name": "m", "version": 1, "deployment_config": {"cpu": "1; rm"}})",
                "cpu"},
           Case{R"({"model_name": "m", "version": 1, "deployment_config": []})",
                "deployment_config"},
           Case{R"([1, 2])", ""},
           Case{R"({"model_name": "m", )", ""},
       }) {
    StatusOr<DeploymentSpec> spec = ParseDeploymentSpec(c.body);
    ASSERT_FALSE(spec.ok()) << c.body;
    EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument) << c.body;
    EXPECT_NE(spec.status().message().find(c.mentions), std::string::npos)
        << c.body << " -> " << spec.status().message();
  }
}

TEST(DeploymentSpecTest, ScaleAndUpdate) {
  StatusOr<DeploymentSpec> base = ParseDeploymentSpec(R"({"model_name": "m", "version": 1})");
  ASSERT_TRUE(base.ok());
  StatusOr<DeploymentSpec> scaled = ApplyScale(*base, R"({"replicas": 3})");
  ASSERT_TRUE(scaled.ok()) << scaled.status().ToString();
  EXPECT_EQ(MinReplicas(*scaled), 3);
  StatusOr<DeploymentSpec> bounded =
      ApplyScale(*scaled, R"({"autoscaling": {"min": 2, "max": 5}})");
  ASSERT_TRUE(bounded.ok()) << bounded.status().ToString();
  EXPECT_EQ(MinReplicas(*bounded), 2);
  EXPECT_EQ(MaxReplicas(*bounded), 5);
  EXPECT_FALSE(ApplyScale(*base, R"({})").ok());
  StatusOr<DeploymentSpec> updated = ApplySpecUpdate(*base, R"({"version": "2"})");
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->version, "2");
  EXPECT_EQ(updated->name, "m-v1");  // the endpoint keeps its name
  EXPECT_FALSE(ApplySpecUpdate(*base, R"({"model_name": "other"})").ok());
}

TEST(DeploymentSpecTest, DefaultNamesAreDnsLabels) {
  DeploymentSpec spec{.model_name = "9 Lives__Model!", .version = "12"};
  std::string name = DefaultEndpointName(spec);
  EXPECT_TRUE(ValidateEndpointName(name).ok()) << name;
  spec.model_name = std::string(200, 'x');
  EXPECT_TRUE(ValidateEndpointName(DefaultEndpointName(spec)).ok());
}

}  // namespace
}  // namespace cairn::serving
