#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "artifact/s3/aws_credentials_provider.h"
#include "artifact/s3/curl_http_client.h"
#include "base/clock.h"
#include "base/status.h"

namespace cairn::artifact {

struct S3ClientOptions {
  // Scheme and authority of the service, no trailing '/': "https://s3.us-east-1.amazonaws.com",
  // "http://127.0.0.1:9000" for MinIO or Ceph.
  std::string endpoint;
  std::string region = "us-east-1";
  std::string bucket;
  // true: http://endpoint/bucket/key (MinIO, Ceph, S3Proxy); false: http://bucket.endpoint/key.
  bool path_style = true;
  // Attempts per request, the first included; retried are transport errors, 5xx, 429 and
  // S3's SlowDown / RequestTimeout, after min(max_backoff, initial_backoff * 2^n) times a random
  // factor in [0.5, 1] ("equal jitter").
  int max_attempts = 5;
  int64_t initial_backoff_ms = 100;
  int64_t max_backoff_ms = 5000;
  HttpClientOptions http;
};

struct S3Object {
  std::string key;
  uint64_t size = 0;
};

struct S3ListPage {
  std::vector<S3Object> objects;
  std::vector<std::string> common_prefixes;
  std::string next_continuation_token;  // empty: last page
};

struct S3Range {
  std::string body;
  uint64_t object_size = 0;
  std::string etag;
};

// The S3 REST calls the artifact store needs, signed with SigV4 (payloads hashed: every body is
// in memory, at most one part) and retried as S3ClientOptions says. Thread-safe.
// Errors: NOT_FOUND for a missing key (NoSuchKey); FAILED_PRECONDITION when an If-Match fails
// (the object changed); PERMISSION_DENIED when S3 rejects the credentials or the signature;
// INVALID_ARGUMENT for a missing bucket; UNAVAILABLE when retries ran out; INTERNAL otherwise.
// Every message names the S3 error code and the key.
class S3Client {
 public:
  S3Client(S3ClientOptions options, std::unique_ptr<AwsCredentialsProvider> credentials,
           Clock& clock);

  const S3ClientOptions& options() const { return options_; }

  // nullopt when there is no such key.
  StatusOr<std::optional<uint64_t>> HeadObject(const std::string& key);
  Status PutObject(const std::string& key, std::string_view body);
  // Bytes [offset, offset + length) (fewer at the end), with the object's total size and ETag.
  // With a non-empty `if_match`, FAILED_PRECONDITION if the object's ETag is now another.
  StatusOr<S3Range> GetRange(const std::string& key, uint64_t offset, uint64_t length,
                             const std::string& if_match);
  // ListObjectsV2. `delimiter` "" lists every key below `prefix`.
  StatusOr<S3ListPage> ListObjects(const std::string& prefix, const std::string& delimiter,
                                   const std::string& continuation_token, int max_keys);
  // DeleteObjects, at most 1000 keys; missing keys are not errors.
  Status DeleteObjects(const std::vector<std::string>& keys);

  StatusOr<std::string> CreateMultipartUpload(const std::string& key);
  // Returns the part's ETag.
  StatusOr<std::string> UploadPart(const std::string& key, const std::string& upload_id,
                                   int part_number, std::string_view body);
  Status CompleteMultipartUpload(const std::string& key, const std::string& upload_id,
                                 const std::vector<std::string>& part_etags);
  Status AbortMultipartUpload(const std::string& key, const std::string& upload_id);

  // One signed request with retries; a response of any status. Exposed for tests.
  StatusOr<HttpResponse> Send(const std::string& method, const std::string& key,
                              std::vector<std::pair<std::string, std::string>> query,
                              std::vector<std::pair<std::string, std::string>> headers,
                              std::string_view body);

  // The error of a non-2xx response, mapped as the class comment says.
  Status ErrorOf(const HttpResponse& response, std::string_view what) const;

  // Replaces the sleep between retries; tests record the delays instead of waiting.
  void SetSleepForTest(std::function<void(int64_t ms)> sleep) { sleep_ = std::move(sleep); }

 private:
  S3ClientOptions options_;
  std::unique_ptr<AwsCredentialsProvider> credentials_;
  Clock& clock_;
  CurlHttpClient http_;
  std::function<void(int64_t ms)> sleep_;
};

}  // namespace cairn::artifact
