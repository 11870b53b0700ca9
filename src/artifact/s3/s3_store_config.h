#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "artifact/s3/s3_artifact_store.h"
#include "base/uri.h"

namespace cairn::artifact {

// Where an S3 artifact store lives and how to reach it, resolved from the artifacts URI and the
// standard AWS environment (the URI wins):
//   bucket, prefix   s3://bucket/prefix
//   endpoint         ?endpoint=http://host:port, else AWS_ENDPOINT_URL_S3, else
//                    AWS_ENDPOINT_URL, else `endpoint_url` of the AWS profile, else
//                    https://s3.<region>.amazonaws.com
//   region           ?region=, else AWS_REGION, else AWS_DEFAULT_REGION, else `region` of the
//                    AWS profile, else us-east-1
//   addressing       ?addressing=path|virtual; default path with an endpoint override (MinIO,
//                    Ceph), virtual-hosted on AWS unless the bucket name has a '.'
//   part size        ?part_size_mb=N (5..5120, default 8)
//   https trust      AWS_CA_BUNDLE (a PEM file), else the system's certificate authorities
//   credentials      AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), else the
//                    AWS profile's keys (shared credentials file, then shared config file),
//                    else the EC2 instance profile through IMDSv2
//                    (AWS_EC2_METADATA_SERVICE_ENDPOINT overrides its address;
//                    AWS_EC2_METADATA_DISABLED=true turns it off).
// The AWS profile is AWS_PROFILE (else "default") of the AWS shared files, read once here, at
// store open (aws_shared_config.h says where they are and how they are parsed); a profile that
// AWS_PROFILE names and neither file has is INVALID_ARGUMENT, as is a profile whose credentials
// come from a source Cairn does not implement (role_arn, SSO, credential_process, web identity)
// while the environment has no keys.
// Keys never come from the URI: the server logs it.
struct S3StoreConfig {
  S3ClientOptions client;
  S3ArtifactStoreOptions store;
  std::optional<AwsCredentials> credentials;  // nullopt: the instance profile
  std::string imds_endpoint;                  // "" when IMDS is disabled
  // Where the credentials come from, for the start-up log (never the keys themselves):
  // "the environment", "<file> (AWS profile '<name>')" or "the EC2 instance profile".
  std::string credentials_from;
};

// Reads the environment through `env` (a getenv; "" for unset) and the AWS shared files it
// points at. INVALID_ARGUMENT, naming the problem, for a malformed bucket, prefix, endpoint,
// option or AWS shared file.
StatusOr<S3StoreConfig> ParseS3StoreConfig(const Uri& uri,
                                           const std::function<std::string(const char*)>& env);

// Builds the client and opens the store (which checks the bucket answers).
StatusOr<std::unique_ptr<S3ArtifactStore>> OpenS3ArtifactStore(const S3StoreConfig& config);

}  // namespace cairn::artifact
