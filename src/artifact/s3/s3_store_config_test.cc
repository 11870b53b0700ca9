#include "artifact/s3/s3_store_config.h"

#include <gtest/gtest.h>

#include <map>

namespace cairn::artifact {
namespace {

StatusOr<S3StoreConfig> Parse(const std::string& uri_text,
                              std::map<std::string, std::string> environment = {}) {
  auto uri = Uri::Parse(uri_text);
  if (!uri.ok()) return uri.status();
  return ParseS3StoreConfig(*uri, [&](const char* name) {
    auto it = environment.find(name);
    return it == environment.end() ? std::string() : it->second;
  });
}

TEST(S3StoreConfigTest, AwsDefaultsUseVirtualHostedAddressingAndTheRegionalEndpoint) {
  auto config = Parse("s3://my-bucket/mlflow/artifacts", {{"AWS_REGION", "eu-west-3"},
                                                          {"AWS_ACCESS_KEY_ID", "k"},
                                                          {"AWS_SECRET_ACCESS_KEY", "s"},
                                                          {"AWS_SESSION_TOKEN", "t"}});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->client.bucket, "my-bucket");
  EXPECT_EQ(config->store.prefix, "mlflow/artifacts");
  EXPECT_EQ(config->client.region, "eu-west-3");
  EXPECT_EQ(config->client.endpoint, "https://s3.eu-west-3.amazonaws.com");
  EXPECT_FALSE(config->client.path_style);
  ASSERT_TRUE(config->credentials.has_value());
  EXPECT_EQ(config->credentials->session_token, "t");
  EXPECT_EQ(config->store.part_size, size_t{8} << 20);
}

TEST(S3StoreConfigTest, EndpointOverrideMeansPathStyle) {
  auto config = Parse("s3://bucket",
                      {{"AWS_ENDPOINT_URL", "http://minio:9000/"}, {"AWS_DEFAULT_REGION", "auto"}});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->client.endpoint, "http://minio:9000");
  EXPECT_TRUE(config->client.path_style);
  EXPECT_EQ(config->client.region, "auto");
  EXPECT_EQ(config->store.prefix, "");
  // No keys in the environment: the instance profile.
  EXPECT_FALSE(config->credentials.has_value());
  EXPECT_EQ(config->imds_endpoint, "http://169.254.169.254");
}

TEST(S3StoreConfigTest, UriOptionsWinOverTheEnvironment) {
  auto config = Parse(
      "s3://bucket/p?endpoint=http://127.0.0.1:9000&region=r1&addressing=virtual&part_size_mb=16",
      {{"AWS_ENDPOINT_URL_S3", "http://other:1"},
       {"AWS_REGION", "r2"},
       {"AWS_EC2_METADATA_DISABLED", "true"}});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->client.endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(config->client.region, "r1");
  EXPECT_FALSE(config->client.path_style);
  EXPECT_EQ(config->store.part_size, size_t{16} << 20);
  EXPECT_EQ(config->imds_endpoint, "");
  EXPECT_EQ(OpenS3ArtifactStore(*config).status().code(), StatusCode::kInvalidArgument);
}

TEST(S3StoreConfigTest, S3SpecificEndpointWinsOverTheGeneralOne) {
  auto config = Parse("s3://bucket", {{"AWS_ENDPOINT_URL_S3", "http://s3only:1"},
                                      {"AWS_ENDPOINT_URL", "http://general:2"}});
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->client.endpoint, "http://s3only:1");
  EXPECT_EQ(config->client.http.ca_file, "");
}

TEST(S3StoreConfigTest, CaBundleFromTheEnvironment) {
  auto config = Parse("s3://bucket", {{"AWS_CA_BUNDLE", "/etc/minio/ca.pem"}});
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->client.http.ca_file, "/etc/minio/ca.pem");
}

TEST(S3StoreConfigTest, RejectsMalformedInput) {
  const std::string bad[] = {
      "s3:///prefix",                          // no bucket
      "s3://Upper_Case/x",                     // not a bucket name
      "s3://ab/x",                             // too short
      "s3://key:secret@bucket/x",              // credentials in the URI
      "s3://bucket/a/../b",                    // traversal in the prefix
      "s3://bucket/a%2F..%2Fb",                // encoded traversal
      "s3://bucket/x?endpoint=ftp://h",        // not http(s)
      "s3://bucket/x?endpoint=http://h/path",  // a path in the endpoint
      "s3://bucket/x?endpoint=http://u@h",     // a user in the endpoint
      "s3://bucket/x?addressing=dns",          // unknown addressing
      "s3://bucket/x?part_size_mb=4",          // below S3's minimum
      "s3://bucket/x?part_size_mb=8MB",        // not a number
      "s3://bucket/x?colour=blue",             // unknown option
      "s3://bucket/x?region=a%2Fb",            // a '/' in the region
  };
  for (const std::string& uri : bad) {
    EXPECT_EQ(Parse(uri).status().code(), StatusCode::kInvalidArgument) << uri;
  }
  EXPECT_EQ(Parse("s3://bucket", {{"AWS_ACCESS_KEY_ID", "only-the-id"}}).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cairn::artifact
