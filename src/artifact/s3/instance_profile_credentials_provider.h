#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "artifact/s3/aws_credentials_provider.h"
#include "artifact/s3/curl_http_client.h"
#include "base/clock.h"
#include "base/mutex.h"

namespace cairn::artifact {

// The role credentials of an EC2 instance profile, through the instance metadata service with
// IMDSv2 session tokens: PUT /latest/api/token, then GET
// /latest/meta-data/iam/security-credentials/ (the role name) and .../<role> (a JSON document
// with AccessKeyId, SecretAccessKey, Token, Expiration; a missing Token means long-term keys).
// Cached until five minutes before they expire; a failed refresh keeps serving unexpired
// credentials. The endpoint is http://169.254.169.254 unless AWS_EC2_METADATA_SERVICE_ENDPOINT says
// otherwise (tests point it at a fake). Thread-safe; one refresh at a time.
class InstanceProfileCredentialsProvider : public AwsCredentialsProvider {
 public:
  InstanceProfileCredentialsProvider(std::string endpoint, Clock& clock);

  StatusOr<AwsCredentials> Get() override;

 private:
  StatusOr<AwsCredentials> Fetch(int64_t& expires_unix_s);

  const std::string endpoint_;
  Clock& clock_;
  CurlHttpClient http_;
  Mutex mu_;
  std::optional<AwsCredentials> cached_ GUARDED_BY(mu_);
  int64_t expires_unix_s_ GUARDED_BY(mu_) = 0;
};

}  // namespace cairn::artifact
