#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cairn::artifact {

// The credentials a request is signed with. `session_token` is empty for long-term keys.
struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
};

// One request as AWS Signature Version 4 sees it. Every header listed is signed; the caller
// sends exactly these headers (plus unsigned transport ones such as Content-Length).
struct SigV4Request {
  std::string method;  // "GET", "PUT", ...
  // The path exactly as it goes on the wire, already percent-encoded once (S3 does not encode
  // it a second time for the canonical request), e.g. "/bucket/a%20b.txt".
  std::string encoded_path;
  // Query parameters, not encoded; the signer encodes and sorts them.
  std::vector<std::pair<std::string, std::string>> query;
  // Header names in any case; values are trimmed and inner runs of spaces folded for signing.
  std::vector<std::pair<std::string, std::string>> headers;
  // Lower-case hex SHA-256 of the body, or "UNSIGNED-PAYLOAD".
  std::string payload_hash;
};

struct SigV4Result {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // lower-case hex
  std::string authorization;  // the Authorization header's value
};

// Computes AWS Signature Version 4 (HMAC-SHA256 over the canonical request) for one request.
// Pure and thread-safe; `amz_date` is the request time as "YYYYMMDDTHHMMSSZ" and must equal the
// X-Amz-Date header the caller sends (it is not added here). The caller adds
// x-amz-content-sha256 and, for temporary credentials, x-amz-security-token to `headers` before
// signing; S3Client does.
SigV4Result SignV4(const SigV4Request& request, const AwsCredentials& credentials,
                   std::string_view region, std::string_view service, std::string_view amz_date);

// AWS's URI encoding: every byte but A-Z a-z 0-9 - _ . ~ as %XY (upper-case hex); '/' kept
// when `keep_slash`.
std::string AwsUriEncode(std::string_view in, bool keep_slash);

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// "YYYYMMDDTHHMMSSZ" for a UNIX time in seconds.
std::string AmzDate(int64_t unix_seconds);

}  // namespace cairn::artifact
