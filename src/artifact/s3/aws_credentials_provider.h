#pragma once

#include <memory>
#include <optional>

#include "artifact/s3/sigv4_signer.h"
#include "base/status.h"

namespace cairn::artifact {

// Where the keys that sign S3 requests come from. Get is called for every request (and again
// on each retry), so temporary credentials are refreshed as they near expiry. Thread-safe.
// Errors: UNAUTHENTICATED when the source has no credentials to give; UNAVAILABLE when it cannot
// be reached right now.
class AwsCredentialsProvider {
 public:
  virtual ~AwsCredentialsProvider() = default;
  virtual StatusOr<AwsCredentials> Get() = 0;
};

// Fixed keys (from the environment or a test).
class StaticCredentialsProvider : public AwsCredentialsProvider {
 public:
  explicit StaticCredentialsProvider(AwsCredentials credentials)
      : credentials_(std::move(credentials)) {}
  StatusOr<AwsCredentials> Get() override { return credentials_; }

 private:
  const AwsCredentials credentials_;
};

}  // namespace cairn::artifact
