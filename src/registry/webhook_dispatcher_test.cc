#include "registry/webhook_dispatcher.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "base/status_testing.h"
#include "http/router.h"
#include "http/server.h"
#include "metadata/sqlite/sqlite_metadata_backend.h"
#include "registry/webhook_payload.h"

namespace cairn::registry {
namespace {

using namespace std::chrono_literals;
namespace bj = boost::json;

struct Received {
  http::Headers headers;
  std::string body;
};

// Blocks ListActiveWebhooksForEvent until released, to hold the dispatcher's thread.
class GatedWebhookStore : public metadata::WebhookStoreWrapper {
 public:
  using WebhookStoreWrapper::WebhookStoreWrapper;
  StatusOr<std::vector<metadata::WebhookRecord>> ListActiveWebhooksForEvent(
      std::string_view t, std::string_view e) override {
    std::unique_lock lock(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
    --waiting_;
    lock.unlock();
    return WebhookStoreWrapper::ListActiveWebhooksForEvent(t, e);
  }
  // Waits until a caller is held at the closed gate; false after `timeout`.
  bool WaitHeld(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return waiting_ > 0; });
  }
  void Close() {
    std::lock_guard lock(mu_);
    open_ = false;
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  int waiting_ = 0;
};

class WebhookDispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cairn-wh-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto stores = metadata::OpenSqliteMetadataStores(dir_ + "/meta.db");
    ASSERT_OK(stores);
    stores_ = std::move(stores).value();
    gated_ = std::make_unique<GatedWebhookStore>(*stores_.webhooks);

    router_.Add(http::Method::kPost, "/hook", [this](http::Request& request) {
      std::lock_guard lock(mu_);
      received_.push_back({request.headers, request.body});
      cv_.notify_all();
      int status = 200;
      if (!statuses_.empty()) {
        status = statuses_.front();
        statuses_.pop_front();
      }
      return http::Response::Json(status, R"({"got":true})");
    });
    http::ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.io_threads = 1;
    options.threads = 2;
    server_ =
        std::make_unique<http::HttpServer>(options, router_, std::vector<http::Middleware*>{});
    auto port = server_->Start();
    ASSERT_OK(port);
    url_ = "http://127.0.0.1:" + std::to_string(*port) + "/hook";
  }

  void TearDown() override {
    if (gated_) gated_->Open();
    dispatcher_.reset();
    if (server_) server_->Stop();
    stores_ = {};
    std::filesystem::remove_all(dir_);
  }

  WebhookDispatcher& MakeDispatcher(WebhookDispatcherOptions options = {}) {
    options.allowed_schemes = {"http", "https"};
    options.allow_private_ips = true;
    options.initial_backoff = 10ms;
    options.request_timeout = 2s;
    auto made = WebhookDispatcher::Create(*gated_, *stores_.registry, std::move(options));
    EXPECT_OK(made);
    dispatcher_ = std::move(made).value();
    return *dispatcher_;
  }

  void AddHook(std::string tenant, std::string id, std::vector<std::string> events,
               std::string status = "ACTIVE", std::string secret = "s3cret") {
    ASSERT_OK(
        stores_.webhooks->CreateWebhook(tenant, metadata::WebhookRecord{.id = std::move(id),
                                                                        .name = "h",
                                                                        .url = url_,
                                                                        .events = std::move(events),
                                                                        .status = std::move(status),
                                                                        .secret = std::move(secret),
                                                                        .created_at_ms = 1,
                                                                        .updated_at_ms = 1}));
  }

  std::vector<Received> WaitReceived(size_t n) {
    std::unique_lock lock(mu_);
    EXPECT_TRUE(cv_.wait_for(lock, 5s, [&] { return received_.size() >= n; }));
    return received_;
  }

  std::string dir_;
  metadata::MetadataStores stores_;
  std::unique_ptr<GatedWebhookStore> gated_;
  http::Router router_;
  std::unique_ptr<http::HttpServer> server_;
  std::string url_;
  std::unique_ptr<WebhookDispatcher> dispatcher_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Received> received_;
  std::deque<int> statuses_;
};

RegistryEvent AliasSet() {
  return {.kind = RegistryEvent::Kind::kAliasSet, .name = "m", .version = "3", .alias = "prod"};
}

TEST_F(WebhookDispatcherTest, DeliversSignedMlflowPayloadToActiveSubscribersOfTheTenant) {
  AddHook("t1", "sub", {"model_version_alias.created"});
  AddHook("t1", "other-event", {"model_version_alias.deleted"});
  AddHook("t1", "disabled", {"model_version_alias.created"}, "DISABLED");
  AddHook("t2", "other-tenant", {"model_version_alias.created"});
  WebhookDispatcher& dispatcher = MakeDispatcher();
  dispatcher.OnRegistryEvent(RequestScope::ForTenant("t1"), AliasSet());
  ASSERT_TRUE(dispatcher.WaitIdleForTest(5s));

  std::vector<Received> got = WaitReceived(1);
  ASSERT_EQ(got.size(), 1u);
  bj::object body = bj::parse(got[0].body).as_object();
  EXPECT_EQ(body["entity"], "model_version_alias");
  EXPECT_EQ(body["action"], "created");
  EXPECT_EQ(bj::serialize(body["data"]), R"({"name":"m","alias":"prod","version":"3"})");
  std::string id(got[0].headers.Get("X-MLflow-Delivery-Id").value_or(""));
  std::string ts(got[0].headers.Get("X-MLflow-Timestamp").value_or(""));
  EXPECT_EQ(got[0].headers.Get("X-MLflow-Signature").value_or(""),
            SignWebhookBody("s3cret", id, ts, got[0].body));
  EXPECT_EQ(got[0].headers.Get("Content-Type").value_or(""), "application/json");
  EXPECT_EQ(dispatcher.stats().deliveries_ok, 1u);
}

TEST_F(WebhookDispatcherTest, WithoutSecretSendsNoSignature) {
  AddHook("t1", "plain", {"model_version_alias.created"}, "ACTIVE", "");
  WebhookDispatcher& dispatcher = MakeDispatcher();
  dispatcher.OnRegistryEvent(RequestScope::ForTenant("t1"), AliasSet());
  ASSERT_TRUE(dispatcher.WaitIdleForTest(5s));
  std::vector<Received> got = WaitReceived(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FALSE(got[0].headers.Get("X-MLflow-Signature").has_value());
}

TEST_F(WebhookDispatcherTest, RetriesServerErrorsAndTooManyRequests) {
  statuses_ = {503, 429};
  AddHook("t1", "sub", {"model_version_alias.created"});
  WebhookDispatcher& dispatcher = MakeDispatcher();
  dispatcher.OnRegistryEvent(RequestScope::ForTenant("t1"), AliasSet());
  ASSERT_TRUE(dispatcher.WaitIdleForTest(5s));
  std::vector<Received> got = WaitReceived(3);
  ASSERT_EQ(got.size(), 3u);
  // Every attempt is the same delivery: same id, timestamp and body.
  EXPECT_EQ(got[0].body, got[2].body);
  EXPECT_EQ(got[0].headers.Get("X-MLflow-Delivery-Id"), got[2].headers.Get("X-MLflow-Delivery-Id"));
  EXPECT_EQ(dispatcher.stats().deliveries_ok, 1u);
}

TEST_F(WebhookDispatcherTest, AFullQueueDropsAndCountsEvents) {
  AddHook("t1", "sub", {"model_version_alias.created"});
  gated_->Close();
  WebhookDispatcher& dispatcher = MakeDispatcher({.max_queued_events = 2});
  RequestScope scope = RequestScope::ForTenant("t1");
  dispatcher.OnRegistryEvent(scope, AliasSet());
  // The thread takes the first event and is held at the store; then two fill the queue and the
  // third is dropped.
  ASSERT_TRUE(gated_->WaitHeld(5s));
  for (int i = 0; i < 3; ++i) dispatcher.OnRegistryEvent(scope, AliasSet());
  EXPECT_EQ(dispatcher.stats().events_dropped, 1u);
  gated_->Open();
  ASSERT_TRUE(dispatcher.WaitIdleForTest(5s));
  WebhookDispatcher::Stats stats = dispatcher.stats();
  EXPECT_EQ(stats.deliveries_ok, stats.events_queued);
  EXPECT_EQ(stats.deliveries_ok, 3u);  // the one held and the two queued
}

TEST_F(WebhookDispatcherTest, TestSendsTheExamplePayloadOnceAndReportsTheAnswer) {
  statuses_ = {503};
  WebhookDispatcher& dispatcher = MakeDispatcher();
  metadata::WebhookRecord hook{.id = "h", .url = url_, .events = {"model_version.created"}};
  WebhookDispatcher::TestResult result = dispatcher.Test(hook, "prompt_tag.set");
  EXPECT_FALSE(result.success);
  EXPECT_EQ(result.response_status, 503);
  EXPECT_EQ(result.response_body, R"({"got":true})");
  std::vector<Received> got = WaitReceived(1);
  ASSERT_EQ(got.size(), 1u);
  bj::object body = bj::parse(got[0].body).as_object();
  EXPECT_EQ(body["entity"], "prompt_tag");
  EXPECT_EQ(bj::serialize(body["data"]),
            R"({"name":"example_prompt","key":"example_key","value":"example_value"})");

  result = dispatcher.Test(hook, "model_version.created");
  EXPECT_TRUE(result.success);
  EXPECT_EQ(result.response_status, 200);

  hook.url = "http://127.0.0.1:1/closed";
  result = dispatcher.Test(hook, "model_version.created");
  EXPECT_FALSE(result.success);
  EXPECT_EQ(result.response_status, 0);
  EXPECT_TRUE(result.error_message.starts_with("Failed to test webhook: ")) << result.error_message;
}

TEST_F(WebhookDispatcherTest, UrlCheckFollowsMlflow) {
  auto made = WebhookDispatcher::Create(*stores_.webhooks, *stores_.registry, {});
  ASSERT_OK(made);
  WebhookDispatcher& strict = **made;
  EXPECT_EQ(strict.ValidateUrl("http://example.com/x").message(),
            "Invalid webhook URL scheme: 'http'. Allowed schemes are: https.");
  EXPECT_EQ(strict.ValidateUrl("https:///x").message(),
            "Webhook URL must include a hostname: 'https:///x'");
  EXPECT_EQ(strict.ValidateUrl("   ").message(),
            "Webhook URL cannot be empty or just whitespace: '   '");
  for (const char* url : {"https://127.0.0.1/x", "https://10.1.2.3/", "https://169.254.169.254/",
                          "https://[::1]/", "https://[::ffff:192.168.0.1]/", "https://localhost/",
                          "https://100.64.0.1/", "https://[fd00::1]/"}) {
    Status s = strict.ValidateUrl(url);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << url;
    EXPECT_NE(s.message().find("non-public IP address"), std::string::npos) << s.message();
  }
  EXPECT_OK(strict.ValidateUrl("https://93.184.215.14/hook"));
  EXPECT_OK(strict.ValidateUrl("https://[2606:4700::1111]/hook"));

  WebhookDispatcher& loose = MakeDispatcher();
  EXPECT_OK(loose.ValidateUrl("http://127.0.0.1:1/x"));
  EXPECT_EQ(loose.ValidateUrl("ftp://example.com/x").message(),
            "Invalid webhook URL scheme: 'ftp'. Allowed schemes are: http, https.");
}

TEST_F(WebhookDispatcherTest, RefusesAtDeliveryAUrlThatNoLongerPassesTheCheck) {
  AddHook("t1", "sub", {"model_version_alias.created"});
  auto made = WebhookDispatcher::Create(*stores_.webhooks, *stores_.registry,
                                        {.allowed_schemes = {"http"}});
  ASSERT_OK(made);
  (*made)->OnRegistryEvent(RequestScope::ForTenant("t1"), AliasSet());
  ASSERT_TRUE((*made)->WaitIdleForTest(5s));
  EXPECT_EQ((*made)->stats().deliveries_refused, 1u);
  std::lock_guard lock(mu_);
  EXPECT_TRUE(received_.empty());
}

}  // namespace
}  // namespace cairn::registry
