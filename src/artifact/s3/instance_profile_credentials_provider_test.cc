#include "artifact/s3/instance_profile_credentials_provider.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>

#include "http/router.h"
#include "http/server.h"

namespace cairn::artifact {
namespace {

constexpr char kToken[] = "imds-session-token-1";
constexpr char kBase[] = "/latest/meta-data/iam/security-credentials/";
// 2030-01-01T00:00:00Z
constexpr int64_t kExpiry = 1893456000;

// An IMDSv2 stand-in: a token from PUT /latest/api/token, required on the role lookups.
class FakeImds {
 public:
  FakeImds() {
    router_.Add(http::Method::kPut, "/latest/api/token", [this](http::Request& req) {
      ++requests_;
      if (!req.headers.Get("X-aws-ec2-metadata-token-ttl-seconds")) {
        return http::Response::Text(400, "ttl header missing");
      }
      return http::Response::Text(200, kToken);
    });
    router_.Add(http::Method::kGet, std::string(kBase), [this](http::Request& req) {
      ++requests_;
      if (req.headers.Get("X-aws-ec2-metadata-token") != kToken) {
        return http::Response::Text(401, "");
      }
      if (no_role_) return http::Response::Text(404, "");
      return http::Response::Text(200, "the-role\n");
    });
    router_.Add(http::Method::kGet, std::string(kBase) + "{role}", [this](http::Request& req) {
      ++requests_;
      if (req.headers.Get("X-aws-ec2-metadata-token") != kToken) {
        return http::Response::Text(401, "");
      }
      if (failing_) return http::Response::Text(500, "");
      return http::Response::Json(200, R"({"Code": "Success", "AccessKeyId": "ASIA)" +
                                           std::to_string(++issued_) +
                                           R"(", "SecretAccessKey": "secret", "Token": "session", )"
                                           R"("Expiration": "2030-01-01T00:00:00Z"})");
    });
    http::ServerOptions options;
    options.port = 0;
    options.threads = 1;
    server_ =
        std::make_unique<http::HttpServer>(options, router_, std::vector<http::Middleware*>{});
    auto port = server_->Start();
    EXPECT_TRUE(port.ok()) << port.status().ToString();
    url_ = "http://127.0.0.1:" + std::to_string(port.ok() ? *port : 1);
  }
  ~FakeImds() { server_->Stop(); }

  const std::string& url() const { return url_; }
  int requests() const { return requests_; }
  void set_failing(bool failing) { failing_ = failing; }
  void set_no_role(bool no_role) { no_role_ = no_role; }

 private:
  http::Router router_;
  std::unique_ptr<http::HttpServer> server_;
  std::string url_;
  std::atomic<int> requests_{0};
  std::atomic<int> issued_{0};
  std::atomic<bool> failing_{false};
  std::atomic<bool> no_role_{false};
};

TEST(InstanceProfileCredentialsProviderTest, FetchesWithASessionTokenAndCaches) {
  FakeImds imds;
  ManualClock clock((kExpiry - 3600) * 1000);
  InstanceProfileCredentialsProvider provider(imds.url(), clock);
  auto first = provider.Get();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->access_key_id, "ASIA1");
  EXPECT_EQ(first->secret_access_key, "secret");
  EXPECT_EQ(first->session_token, "session");
  EXPECT_EQ(imds.requests(), 3);  // token, role, credentials
  auto again = provider.Get();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->access_key_id, "ASIA1");
  EXPECT_EQ(imds.requests(), 3);
}

TEST(InstanceProfileCredentialsProviderTest, RefreshesFiveMinutesBeforeExpiry) {
  FakeImds imds;
  ManualClock clock((kExpiry - 3600) * 1000);
  InstanceProfileCredentialsProvider provider(imds.url(), clock);
  ASSERT_EQ(provider.Get()->access_key_id, "ASIA1");
  clock.AdvanceMillis((3600 - 301) * 1000);
  EXPECT_EQ(provider.Get()->access_key_id, "ASIA1");
  clock.AdvanceMillis(2000);
  EXPECT_EQ(provider.Get()->access_key_id, "ASIA2");
}

TEST(InstanceProfileCredentialsProviderTest, FailedRefreshServesUnexpiredThenFails) {
  FakeImds imds;
  ManualClock clock((kExpiry - 3600) * 1000);
  InstanceProfileCredentialsProvider provider(imds.url(), clock);
  ASSERT_TRUE(provider.Get().ok());
  imds.set_failing(true);
  clock.AdvanceMillis((3600 - 60) * 1000);  // inside the refresh window, not expired
  auto stale = provider.Get();
  ASSERT_TRUE(stale.ok()) << stale.status().ToString();
  EXPECT_EQ(stale->access_key_id, "ASIA1");
  clock.AdvanceMillis(120 * 1000);  // expired
  auto expired = provider.Get();
  EXPECT_EQ(expired.status().code(), StatusCode::kUnavailable) << expired.status().ToString();
}

TEST(InstanceProfileCredentialsProviderTest, NoRoleIsUnauthenticated) {
  FakeImds imds;
  imds.set_no_role(true);
  ManualClock clock(0);
  InstanceProfileCredentialsProvider provider(imds.url(), clock);
  EXPECT_EQ(provider.Get().status().code(), StatusCode::kUnauthenticated);
}

TEST(InstanceProfileCredentialsProviderTest, UnreachableServiceIsUnavailable) {
  ManualClock clock(0);
  InstanceProfileCredentialsProvider provider("http://127.0.0.1:1", clock);
  auto got = provider.Get();
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(got.status().message().find("instance metadata"), std::string::npos);
}

}  // namespace
}  // namespace cairn::artifact
