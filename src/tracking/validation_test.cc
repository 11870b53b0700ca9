#include "tracking/validation.h"

#include <gtest/gtest.h>

namespace cairn::tracking {
namespace {

TEST(ValidationTest, KeysAcceptMlflowCharacterSet) {
  EXPECT_TRUE(ValidateKey("loss", "metric").ok());
  EXPECT_TRUE(ValidateKey("train/loss:epoch 1-a_b.c", "metric").ok());
  EXPECT_FALSE(ValidateKey("", "metric").ok());
  EXPECT_FALSE(ValidateKey("a$b", "metric").ok());
  EXPECT_FALSE(ValidateKey("../etc", "param").ok());
  EXPECT_FALSE(ValidateKey("a/../b", "param").ok());
  EXPECT_FALSE(ValidateKey("/abs", "tag").ok());
  EXPECT_FALSE(ValidateKey(".", "tag").ok());
  EXPECT_FALSE(ValidateKey("a//b", "tag").ok());
  EXPECT_FALSE(ValidateKey(std::string(251, 'k'), "tag").ok());
  EXPECT_TRUE(ValidateKey(std::string(250, 'k'), "tag").ok());
}

TEST(ValidationTest, RunAndExperimentIdFormats) {
  EXPECT_TRUE(ValidateRunId("0123456789abcdef0123456789abcdef").ok());
  EXPECT_FALSE(ValidateRunId("").ok());
  EXPECT_FALSE(ValidateRunId("_abc").ok());
  EXPECT_FALSE(ValidateRunId("abc'; DROP TABLE runs;--").ok());
  EXPECT_TRUE(ValidateExperimentId("0").ok());
  EXPECT_FALSE(ValidateExperimentId(std::string(65, '1')).ok());
}

TEST(ValidationTest, BatchLimitsAndTruncation) {
  std::vector<metadata::Metric> metrics(1001, metadata::Metric{.key = "m"});
  std::vector<metadata::Param> params;
  std::vector<metadata::Tag> tags;
  EXPECT_EQ(ValidateAndTruncateBatch(metrics, params, tags).code(), StatusCode::kInvalidArgument);

  metrics.resize(950);
  params.assign(60, metadata::Param{.key = "p", .value = std::string(7000, 'v')});
  EXPECT_FALSE(ValidateAndTruncateBatch(metrics, params, tags).ok());  // 1010 entities

  metrics.clear();
  tags.assign(1, metadata::Tag{.key = "t", .value = std::string(9000, 'x')});
  ASSERT_TRUE(ValidateAndTruncateBatch(metrics, params, tags).ok());
  EXPECT_EQ(params[0].value.size(), kMaxParamValueLength);
  EXPECT_EQ(tags[0].value.size(), kMaxTagValueLength);
}

TEST(ValidationTest, TruncationKeepsUtf8Whole) {
  std::vector<metadata::Metric> metrics;
  std::vector<metadata::Tag> tags;
  // 5999 ASCII bytes then a 2-byte character straddling the limit.
  std::vector<metadata::Param> params = {
      {.key = "p", .value = std::string(5999, 'a') + "\xC3\xA9"}};
  ASSERT_TRUE(ValidateAndTruncateBatch(metrics, params, tags).ok());
  EXPECT_EQ(params[0].value.size(), 5999u);
}

TEST(ValidationTest, NegativeTimestampRejected) {
  std::vector<metadata::Metric> metrics = {{.key = "m", .value = 1, .timestamp = -1}};
  std::vector<metadata::Param> params;
  std::vector<metadata::Tag> tags;
  EXPECT_FALSE(ValidateAndTruncateBatch(metrics, params, tags).ok());
}

TEST(ValidationTest, DatasetLimits) {
  metadata::DatasetInput in;
  in.dataset = {.name = "d", .digest = "abc", .source_type = "local", .source = "{}"};
  EXPECT_TRUE(ValidateDatasetInputs({in}).ok());
  in.dataset.digest = std::string(37, 'a');
  EXPECT_FALSE(ValidateDatasetInputs({in}).ok());
  in.dataset.digest = "abc";
  in.dataset.name.clear();
  EXPECT_FALSE(ValidateDatasetInputs({in}).ok());
}

TEST(ValidationTest, RelativeLocalArtifactLocationsBecomeAbsoluteAsInMlflow) {
  EXPECT_EQ(ResolveLocalArtifactLocation("rel/path", "/srv/data"), "/srv/data/rel/path");
  EXPECT_EQ(ResolveLocalArtifactLocation("./x", "/srv/data"), "/srv/data/x");
  EXPECT_EQ(ResolveLocalArtifactLocation("a//./b/", "/srv/data/"), "/srv/data/a/b");
  EXPECT_EQ(ResolveLocalArtifactLocation("file:rel", "/srv"), "file:///srv/rel");
  for (std::string_view kept :
       {"/abs/p", "file:///abs", "file://host/p", "s3://b/p", "mlflow-artifacts:/x", "gs://b"}) {
    EXPECT_EQ(ResolveLocalArtifactLocation(kept, "/srv"), kept);
  }
}

}  // namespace
}  // namespace cairn::tracking
