#include "artifact/s3/instance_profile_credentials_provider.h"

#include <cstdio>
#include <ctime>

#include "base/json.h"

namespace cairn::artifact {
namespace {

constexpr int64_t kRefreshBeforeExpiryS = 300;

// "2026-12-04T20:00:00Z" -> UNIX seconds; 0 when it does not parse.
int64_t ParseExpiration(const std::string& text) {
  std::tm tm{};
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
    return 0;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace

InstanceProfileCredentialsProvider::InstanceProfileCredentialsProvider(std::string endpoint,
                                                                       Clock& clock)
    : endpoint_(std::move(endpoint)),
      clock_(clock),
      http_(HttpClientOptions{.connect_ms = 1000, .stall_s = 5, .total_ms = 5000}) {}

StatusOr<AwsCredentials> InstanceProfileCredentialsProvider::Get() {
  MutexLock lock(mu_);
  int64_t now_s = clock_.NowMillis() / 1000;
  if (cached_ && now_s < expires_unix_s_ - kRefreshBeforeExpiryS) return *cached_;
  int64_t expires = 0;
  StatusOr<AwsCredentials> fresh = Fetch(expires);
  if (!fresh.ok()) {
    if (cached_ && now_s < expires_unix_s_) return *cached_;
    return fresh.status();
  }
  cached_ = *fresh;
  expires_unix_s_ = expires;
  return *cached_;
}

StatusOr<AwsCredentials> InstanceProfileCredentialsProvider::Fetch(int64_t& expires_unix_s) {
  auto fail = [](std::string what) {
    return Unavailable("no credentials from the EC2 instance metadata service: " + what);
  };
  HttpRequest token_request{"PUT",
                            endpoint_ + "/latest/api/token",
                            {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}},
                            ""};
  StatusOr<HttpResponse> token = http_.Perform(token_request);
  if (!token.ok()) return fail(token.status().message());
  if (token->status != 200) return fail("token request answered " + std::to_string(token->status));
  std::vector<std::pair<std::string, std::string>> auth = {
      {"X-aws-ec2-metadata-token", token->body}};
  const std::string base = endpoint_ + "/latest/meta-data/iam/security-credentials/";
  StatusOr<HttpResponse> role = http_.Perform({"GET", base, auth, ""});
  if (!role.ok()) return fail(role.status().message());
  if (role->status == 404) {
    return Status(StatusCode::kUnauthenticated,
                  "the EC2 instance has no instance profile (no IAM role attached)");
  }
  if (role->status != 200) return fail("role lookup answered " + std::to_string(role->status));
  std::string role_name = role->body.substr(0, role->body.find('\n'));
  if (role_name.empty() || role_name.find('/') != std::string::npos) {
    return fail("unexpected role name '" + role_name + "'");
  }
  StatusOr<HttpResponse> document = http_.Perform({"GET", base + role_name, auth, ""});
  if (!document.ok()) return fail(document.status().message());
  if (document->status != 200) {
    return fail("credentials request answered " + std::to_string(document->status));
  }
  StatusOr<boost::json::object> document_json = json::ParseObject(document->body);
  if (!document_json.ok()) return fail("malformed credentials document");
  AwsCredentials credentials;
  auto field = [&](std::string_view key, std::string& out) -> Status {
    ASSIGN_OR_RETURN(std::optional<std::string> value, json::GetString(*document_json, key));
    if (!value || value->empty()) return fail("credentials document lacks " + std::string(key));
    out = std::move(*value);
    return Status::Ok();
  };
  RETURN_IF_ERROR(field("AccessKeyId", credentials.access_key_id));
  RETURN_IF_ERROR(field("SecretAccessKey", credentials.secret_access_key));
  // EC2 always sends a session token; S3-compatible stand-ins (and the tests' fake) may not.
  ASSIGN_OR_RETURN(std::optional<std::string> session_token,
                   json::GetString(*document_json, "Token"));
  credentials.session_token = session_token.value_or("");
  std::string expiration;
  RETURN_IF_ERROR(field("Expiration", expiration));
  expires_unix_s = ParseExpiration(expiration);
  if (expires_unix_s == 0) return fail("unreadable Expiration '" + expiration + "'");
  return credentials;
}

}  // namespace cairn::artifact
