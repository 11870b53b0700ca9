#include "monitor/actions/webhook_sender.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/status_testing.h"
#include "http/router.h"
#include "http/server.h"

namespace cairn::monitor {
namespace {

using namespace std::chrono_literals;
using SteadyTime = std::chrono::steady_clock::time_point;

// Computed independently with Python:
//   hmac.new(b"whsec_test", b'1700000000.{"event":"alert.fired","alert_id":"a1"}',
//            hashlib.sha256).hexdigest()
constexpr char kVectorSecret[] = "whsec_test";
constexpr int64_t kVectorTimestamp = 1700000000;
constexpr char kVectorBody[] = R"({"event":"alert.fired","alert_id":"a1"})";
constexpr char kVectorSignature[] =
    "sha256=08f170e32356d9f02c1b536bc62869fbe4dc514cb08198a169fa30f3d64cac20";
// hmac.new(b"", b"0.", hashlib.sha256).hexdigest()
constexpr char kEmptyKeySignature[] =
    "sha256=b849d5a581847b281957065739df36df2463d1977ea8d6e1e4e6cf33fadc68c3";

TEST(SignWebhookTest, MatchesKnownVector) {
  EXPECT_EQ(SignWebhook(kVectorSecret, kVectorTimestamp, kVectorBody), kVectorSignature);
  EXPECT_EQ(SignWebhook("", 0, ""), kEmptyKeySignature);
}

TEST(SignWebhookTest, VerifyAcceptsOnlyTheExactSignature) {
  EXPECT_TRUE(
      VerifyWebhookSignature(kVectorSecret, kVectorTimestamp, kVectorBody, kVectorSignature));
  EXPECT_FALSE(VerifyWebhookSignature("other", kVectorTimestamp, kVectorBody, kVectorSignature));
  EXPECT_FALSE(
      VerifyWebhookSignature(kVectorSecret, kVectorTimestamp + 1, kVectorBody, kVectorSignature));
  EXPECT_FALSE(VerifyWebhookSignature(kVectorSecret, kVectorTimestamp, R"({"event":"x"})",
                                      kVectorSignature));
  std::string truncated = kVectorSignature;
  truncated.pop_back();
  EXPECT_FALSE(VerifyWebhookSignature(kVectorSecret, kVectorTimestamp, kVectorBody, truncated));
  std::string upper = kVectorSignature;
  upper[7] = 'F';  // "sha256=" then the hex digits; the first one is '0'
  EXPECT_FALSE(VerifyWebhookSignature(kVectorSecret, kVectorTimestamp, kVectorBody, upper));
  EXPECT_FALSE(VerifyWebhookSignature(kVectorSecret, kVectorTimestamp, kVectorBody,
                                      std::string(kVectorSignature).substr(7)));
}

TEST(ValidateWebhookUrlTest, AcceptsHttpAndHttpsOnly) {
  EXPECT_OK(ValidateWebhookUrl("http://hooks.example.com/alerts"));
  EXPECT_OK(ValidateWebhookUrl("https://hooks.example.com:8443/a?b=c"));
  for (const char* bad : {"ftp://example.com/x", "file:///etc/passwd", "example.com/hook", "",
                          "http://user:pw@example.com/", "javascript:alert(1)"}) {
    EXPECT_EQ(ValidateWebhookUrl(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(WebhookBackoffTest, GrowsGeometricallyUpToTheCapScaledByTheDraw) {
  WebhookSenderOptions options;  // 1 s, x2, 60 s
  std::vector<int64_t> full;
  for (int retry = 1; retry <= 8; ++retry) {
    full.push_back(WebhookBackoff(options, retry, 1.0).count());
  }
  EXPECT_EQ(full, (std::vector<int64_t>{1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000}));
  EXPECT_EQ(WebhookBackoff(options, 3, 0.5).count(), 2000);
  EXPECT_EQ(WebhookBackoff(options, 3, 0.0).count(), 0);
  EXPECT_EQ(WebhookBackoff(options, 100, 0.25).count(), 15000);
}

struct Reply {
  int status = 200;
  std::string retry_after;
  bool hold = false;  // wait at the gate before answering
};

struct Received {
  std::string name;
  http::Headers headers;
  std::string body;
  SteadyTime at;
};

// Collects one outcome per Send.
class Outcomes {
 public:
  WebhookSender::Callback Callback() {
    return [this](const WebhookOutcome& outcome) {
      std::lock_guard lock(mu_);
      outcomes_.push_back(outcome);
      cv_.notify_all();
    };
  }
  // The first `n` outcomes, in completion order; fails the test after a timeout.
  std::vector<WebhookOutcome> Wait(size_t n, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    EXPECT_TRUE(cv_.wait_for(lock, timeout, [&] { return outcomes_.size() >= n; }))
        << "got " << outcomes_.size() << " of " << n << " outcomes";
    return outcomes_;
  }
  size_t size() {
    std::lock_guard lock(mu_);
    return outcomes_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<WebhookOutcome> outcomes_;
};

// A real Cairn HTTP server on a free loopback port: POST /hook/{name} records the request and
// answers with the next scripted Reply for `name` (200 once the script runs out).
class WebhookSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add(http::Method::kPost, "/hook/{name}",
                [this](http::Request& request) { return Handle(request); });
    port_ = StartServer(0);
  }

  void TearDown() override {
    OpenGate();
    sender_.reset();
    if (server_) server_->Stop();
  }

  uint16_t StartServer(uint16_t port) {
    http::ServerOptions options;
    options.host = "127.0.0.1";
    options.port = port;
    options.io_threads = 2;
    options.threads = 4;
    options.drain_timeout = 2s;
    server_ =
        std::make_unique<http::HttpServer>(options, router_, std::vector<http::Middleware*>{});
    auto bound = server_->Start();
    EXPECT_TRUE(bound.ok()) << bound.status().ToString();
    return bound.ok() ? *bound : 0;
  }

  http::Response Handle(http::Request& request) {
    std::unique_lock lock(mu_);
    std::string name = request.PathParam("name");
    received_.push_back({name, request.headers, request.body, std::chrono::steady_clock::now()});
    cv_.notify_all();
    Reply reply;
    auto& script = scripts_[name];
    if (!script.empty()) {
      reply = script.front();
      script.pop_front();
    }
    if (reply.hold) cv_.wait(lock, [this] { return gate_open_; });
    http::Response response = http::Response::Json(reply.status, R"({"ok":true})");
    if (!reply.retry_after.empty()) response.headers.Add("Retry-After", reply.retry_after);
    return response;
  }

  void Script(const std::string& name, std::vector<Reply> replies) {
    std::lock_guard lock(mu_);
    scripts_[name].assign(replies.begin(), replies.end());
  }
  std::vector<Received> ReceivedRequests() {
    std::lock_guard lock(mu_);
    return received_;
  }
  void WaitForRequests(size_t n) {
    std::unique_lock lock(mu_);
    ASSERT_TRUE(cv_.wait_for(lock, 5s, [&] { return received_.size() >= n; }));
  }
  void OpenGate() {
    std::lock_guard lock(mu_);
    gate_open_ = true;
    cv_.notify_all();
  }

  std::string Url(const std::string& name) const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/hook/" + name;
  }
  WebhookDelivery Delivery(const std::string& name, std::string secret = "") const {
    return {.url = Url(name),
            .secret = std::move(secret),
            .event = "alert.fired",
            .delivery_id = "d-" + name,
            .payload_json = kVectorBody};
  }

  // Short backoffs: whole tests take well under a second unless they measure a wait.
  static WebhookSenderOptions FastOptions() {
    WebhookSenderOptions options;
    options.initial_backoff = 10ms;
    options.max_backoff = 50ms;
    options.attempt_timeout = 2s;
    options.shutdown_grace = 1s;
    options.random = [] { return 1.0; };
    return options;
  }
  WebhookSender& MakeSender(WebhookSenderOptions options) {
    auto sender = WebhookSender::Create(std::move(options));
    EXPECT_TRUE(sender.ok()) << sender.status().ToString();
    sender_ = std::move(sender).value();
    return *sender_;
  }

  http::Router router_;
  std::unique_ptr<http::HttpServer> server_;
  uint16_t port_ = 0;
  std::unique_ptr<WebhookSender> sender_;
  Outcomes outcomes_;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::deque<Reply>> scripts_;
  std::vector<Received> received_;
  bool gate_open_ = false;
};

TEST_F(WebhookSenderTest, DeliversSignedJsonPostWithCairnHeaders) {
  ManualClock clock(kVectorTimestamp * 1000 + 250);
  WebhookSenderOptions options = FastOptions();
  options.clock = &clock;
  WebhookSender& sender = MakeSender(options);
  sender.Send(Delivery("signed", kVectorSecret), outcomes_.Callback());

  WebhookOutcome outcome = outcomes_.Wait(1).at(0);
  EXPECT_TRUE(outcome.delivered);
  EXPECT_EQ(outcome.attempts, 1);
  EXPECT_EQ(outcome.last_status, 200);
  EXPECT_EQ(outcome.code, StatusCode::kOk);
  EXPECT_EQ(outcome.last_error, "");

  std::vector<Received> received = ReceivedRequests();
  ASSERT_EQ(received.size(), 1u);
  const http::Headers& headers = received[0].headers;
  EXPECT_EQ(received[0].body, kVectorBody);
  EXPECT_EQ(headers.Get("Content-Type").value_or(""), "application/json");
  EXPECT_EQ(headers.Get("User-Agent").value_or(""), "cairn-webhooks");
  EXPECT_EQ(headers.Get("X-Cairn-Event").value_or(""), "alert.fired");
  EXPECT_EQ(headers.Get("X-Cairn-Delivery").value_or(""), "d-signed");
  EXPECT_EQ(headers.Get("X-Cairn-Timestamp").value_or(""), "1700000000");
  // What a receiver does: recompute with its copy of the secret and the sent timestamp.
  std::string signature(headers.Get("X-Cairn-Signature").value_or(""));
  EXPECT_EQ(signature, kVectorSignature);
  EXPECT_TRUE(VerifyWebhookSignature(kVectorSecret, kVectorTimestamp, received[0].body, signature));
}

TEST_F(WebhookSenderTest, GivenHeadersReplaceTheCairnHeadersOnEveryAttempt) {
  Script("own", {{.status = 503}});
  WebhookSender& sender = MakeSender(FastOptions());
  WebhookDelivery delivery = Delivery("own", kVectorSecret);
  delivery.headers = {{"X-MLflow-Delivery-Id", "id-1"}, {"X-MLflow-Signature", "v1,abc"}};
  sender.Send(std::move(delivery), outcomes_.Callback());
  EXPECT_TRUE(outcomes_.Wait(1).at(0).delivered);
  std::vector<Received> received = ReceivedRequests();
  ASSERT_EQ(received.size(), 2u);
  for (const Received& r : received) {
    EXPECT_EQ(r.headers.Get("Content-Type").value_or(""), "application/json");
    EXPECT_EQ(r.headers.Get("X-MLflow-Delivery-Id").value_or(""), "id-1");
    EXPECT_EQ(r.headers.Get("X-MLflow-Signature").value_or(""), "v1,abc");
    EXPECT_FALSE(r.headers.Get("X-Cairn-Signature").has_value());
    EXPECT_FALSE(r.headers.Get("X-Cairn-Event").has_value());
  }
}

TEST_F(WebhookSenderTest, WithoutSecretSendsNoSignature) {
  WebhookSender& sender = MakeSender(FastOptions());
  sender.Send(Delivery("unsigned"), outcomes_.Callback());
  EXPECT_TRUE(outcomes_.Wait(1).at(0).delivered);
  std::vector<Received> received = ReceivedRequests();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_FALSE(received[0].headers.Get("X-Cairn-Signature").has_value());
  EXPECT_TRUE(received[0].headers.Get("X-Cairn-Timestamp").has_value());
}

TEST_F(WebhookSenderTest, RetriesServerErrorsThenSucceeds) {
  Script("flaky", {{.status = 500}, {.status = 503}, {.status = 502}});
  WebhookSender& sender = MakeSender(FastOptions());
  sender.Send(Delivery("flaky", "s"), outcomes_.Callback());

  WebhookOutcome outcome = outcomes_.Wait(1).at(0);
  EXPECT_TRUE(outcome.delivered);
  EXPECT_EQ(outcome.attempts, 4);
  EXPECT_EQ(outcome.last_status, 200);
  std::vector<Received> received = ReceivedRequests();
  ASSERT_EQ(received.size(), 4u);
  for (const Received& r : received) {
    // The same delivery id every time, a fresh signature over each attempt's timestamp.
    EXPECT_EQ(r.headers.Get("X-Cairn-Delivery").value_or(""), "d-flaky");
    int64_t timestamp = std::stoll(std::string(r.headers.Get("X-Cairn-Timestamp").value_or("0")));
    EXPECT_TRUE(VerifyWebhookSignature(
        "s", timestamp, r.body, std::string(r.headers.Get("X-Cairn-Signature").value_or(""))));
  }
  EXPECT_EQ(sender.stats().attempts, 4u);
  EXPECT_EQ(sender.stats().delivered, 1u);
}

TEST_F(WebhookSenderTest, RetriesRefusedConnectionUntilTheReceiverComesUp) {
  server_->Stop();  // the port is free now: connecting is refused
  WebhookSenderOptions options = FastOptions();
  options.initial_backoff = 200ms;
  options.max_backoff = 200ms;
  WebhookSender& sender = MakeSender(options);
  sender.Send(Delivery("late"), outcomes_.Callback());

  // After the first refused attempt, bring the receiver up on the same port.
  SteadyTime give_up = std::chrono::steady_clock::now() + 5s;
  while (sender.stats().attempts < 1 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(outcomes_.size(), 0u);
  ASSERT_EQ(StartServer(port_), port_);

  WebhookOutcome outcome = outcomes_.Wait(1).at(0);
  EXPECT_TRUE(outcome.delivered) << outcome.last_error;
  EXPECT_GE(outcome.attempts, 2);
  EXPECT_EQ(ReceivedRequests().size(), 1u);
}

TEST_F(WebhookSenderTest, ExhaustedAttemptsReportTheLastFailure) {
  Script("down", {{.status = 503}, {.status = 503}, {.status = 503}, {.status = 503}});
  WebhookSenderOptions options = FastOptions();
  options.max_attempts = 3;
  WebhookSender& sender = MakeSender(options);
  sender.Send(Delivery("down"), outcomes_.Callback());

  WebhookOutcome outcome = outcomes_.Wait(1).at(0);
  EXPECT_FALSE(outcome.delivered);
  EXPECT_EQ(outcome.attempts, 3);
  EXPECT_EQ(outcome.last_status, 503);
  EXPECT_EQ(outcome.code, StatusCode::kUnavailable);
  EXPECT_NE(outcome.last_error.find("503"), std::string::npos) << outcome.last_error;
  EXPECT_EQ(ReceivedRequests().size(), 3u);
  EXPECT_EQ(sender.stats().failed, 1u);
}

TEST_F(WebhookSenderTest, ExhaustedAttemptsAgainstNoServerHaveNoStatus) {
  server_->Stop();
  WebhookSenderOptions options = FastOptions();
  options.max_attempts = 2;
  WebhookSender& sender = MakeSender(options);
  sender.Send(Delivery("nobody"), outcomes_.Callback());
  WebhookOutcome outcome = outcomes_.Wait(1).at(0);
  EXPECT_FALSE(outcome.delivered);
  EXPECT_EQ(outcome.attempts, 2);
  EXPECT_EQ(outcome.last_status, 0);
  EXPECT_FALSE(outcome.last_error.empty());
}

TEST_F(WebhookSenderTest, ClientErrorIsPermanentAndNotRetried) {
  Script("bad", {{.status = 400}});
  WebhookSender& sender = MakeSender(FastOptions());
  sender.Send(Delivery("bad"), outcomes_.Callback());
  WebhookOutcome outcome = outcomes_.Wait(1).at(0);
  EXPECT_FALSE(outcome.delivered);
  EXPECT_EQ(outcome.attempts, 1);
  EXPECT_EQ(outcome.last_status, 400);
  EXPECT_EQ(outcome.code, StatusCode::kFailedPrecondition);
  std::this_thread::sleep_for(100ms);  // several backoffs: a retry would have arrived
  EXPECT_EQ(ReceivedRequests().size(), 1u);
}

TEST_F(WebhookSenderTest, HonoursRetryAfterOnTooManyRequests) {
  Script("busy", {{.status = 429, .retry_after = "1"}});
  WebhookSenderOptions options = FastOptions();
  options.initial_backoff = 10ms;  // the jittered wait would be 10 ms
  options.max_retry_after = 5s;
  WebhookSender& sender = MakeSender(options);
  sender.Send(Delivery("busy"), outcomes_.Callback());
  WebhookOutcome outcome = outcomes_.Wait(1).at(0);
  EXPECT_TRUE(outcome.delivered);
  EXPECT_EQ(outcome.attempts, 2);
  std::vector<Received> received = ReceivedRequests();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_GE(received[1].at - received[0].at, 950ms);
  EXPECT_LT(received[1].at - received[0].at, 3s);
}

TEST_F(WebhookSenderTest, CapsRetryAfter) {
  Script("slow-down",
         {{.status = 429, .retry_after = "3600"}, {.status = 503, .retry_after = "x"}});
  WebhookSenderOptions options = FastOptions();
  options.max_retry_after = 50ms;
  WebhookSender& sender = MakeSender(options);
  SteadyTime start = std::chrono::steady_clock::now();
  sender.Send(Delivery("slow-down"), outcomes_.Callback());
  WebhookOutcome outcome = outcomes_.Wait(1).at(0);
  EXPECT_TRUE(outcome.delivered);
  EXPECT_EQ(outcome.attempts, 3);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(WebhookSenderTest, BackoffFollowsTheInjectedRandomSource) {
  Script("jitter", {{.status = 500}, {.status = 500}, {.status = 500}});
  std::atomic<int> draws{0};
  WebhookSenderOptions options = FastOptions();
  options.initial_backoff = 80ms;
  options.max_backoff = 1s;
  // Draws 0.5 then 1.0 then 0.25: waits of 40 ms, 160 ms and 80 ms.
  options.random = [&draws] {
    constexpr double kDraws[] = {0.5, 1.0, 0.25};
    return kDraws[draws++ % 3];
  };
  WebhookSender& sender = MakeSender(options);
  sender.Send(Delivery("jitter"), outcomes_.Callback());
  EXPECT_TRUE(outcomes_.Wait(1).at(0).delivered);
  EXPECT_EQ(draws.load(), 3);
  std::vector<Received> received = ReceivedRequests();
  ASSERT_EQ(received.size(), 4u);
  const std::chrono::milliseconds expected[] = {40ms, 160ms, 80ms};
  for (int i = 0; i < 3; ++i) {
    auto gap = received[i + 1].at - received[i].at;
    EXPECT_GE(gap, expected[i] - 5ms) << "retry " << i + 1;
    EXPECT_LT(gap, expected[i] + 500ms) << "retry " << i + 1;
  }
}

TEST_F(WebhookSenderTest, FullQueueFailsAtOnceWithResourceExhausted) {
  Script("held", {{.hold = true}});
  WebhookSenderOptions options = FastOptions();
  options.workers = 1;
  options.max_pending = 2;
  WebhookSender& sender = MakeSender(options);
  sender.Send(Delivery("held"), outcomes_.Callback());
  WaitForRequests(1);  // in flight, waiting at the gate
  sender.Send(Delivery("queued"), outcomes_.Callback());

  std::optional<WebhookOutcome> refused;
  sender.Send(Delivery("refused"), [&refused](const WebhookOutcome& o) { refused = o; });
  ASSERT_TRUE(refused.has_value()) << "the callback runs before Send returns";
  EXPECT_FALSE(refused->delivered);
  EXPECT_EQ(refused->attempts, 0);
  EXPECT_EQ(refused->code, StatusCode::kResourceExhausted);
  EXPECT_EQ(sender.stats().rejected_queue_full, 1u);
  EXPECT_EQ(sender.pending(), 2u);

  OpenGate();
  for (const WebhookOutcome& outcome : outcomes_.Wait(2)) EXPECT_TRUE(outcome.delivered);
  EXPECT_EQ(sender.pending(), 0u);
}

TEST_F(WebhookSenderTest, RefusesInvalidUrlThroughTheCallback) {
  WebhookSender& sender = MakeSender(FastOptions());
  WebhookDelivery delivery = Delivery("x");
  delivery.url = "ftp://127.0.0.1/x";
  std::optional<WebhookOutcome> refused;
  sender.Send(delivery, [&refused](const WebhookOutcome& o) { refused = o; });
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->code, StatusCode::kInvalidArgument);
  EXPECT_EQ(refused->attempts, 0);
  EXPECT_EQ(sender.stats().rejected_invalid, 1u);
}

TEST_F(WebhookSenderTest, ShutdownFinishesWhatItCanAndAbandonsTheRest) {
  Script("never", std::vector<Reply>(10, Reply{.status = 503}));
  Script("stuck", {{.hold = true}});
  WebhookSenderOptions options = FastOptions();
  options.workers = 2;
  options.initial_backoff = 10s;  // the retry of "never" falls after the deadline
  options.max_backoff = 10s;
  // "stuck" started before Shutdown and keeps its own timeout, which bounds Shutdown.
  options.attempt_timeout = 600ms;
  WebhookSender& sender = MakeSender(options);
  sender.Send(Delivery("stuck"), outcomes_.Callback());
  sender.Send(Delivery("never"), outcomes_.Callback());
  WaitForRequests(2);  // "stuck" is in flight, "never" waits 10 s for its retry
  sender.Send(Delivery("quick"), outcomes_.Callback());

  SteadyTime start = std::chrono::steady_clock::now();
  sender.Shutdown(start + 300ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);

  std::vector<WebhookOutcome> outcomes = outcomes_.Wait(3, 0ms);
  ASSERT_EQ(outcomes.size(), 3u);
  int delivered = 0;
  int abandoned = 0;
  for (const WebhookOutcome& outcome : outcomes) {
    if (outcome.delivered) {
      ++delivered;
    } else {
      EXPECT_EQ(outcome.last_error, "shutting down");
      EXPECT_EQ(outcome.code, StatusCode::kUnavailable);
      ++abandoned;
    }
  }
  EXPECT_EQ(delivered, 1);  // "quick"
  EXPECT_EQ(abandoned, 2);  // "never" waiting for its retry, "stuck" cut at the deadline
  EXPECT_EQ(sender.pending(), 0u);

  std::optional<WebhookOutcome> late;
  sender.Send(Delivery("late"), [&late](const WebhookOutcome& o) { late = o; });
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(late->code, StatusCode::kUnavailable);
  EXPECT_EQ(sender.stats().rejected_shut_down, 1u);
}

TEST(WebhookSenderCreateTest, RejectsBadOptions) {
  WebhookSenderOptions options;
  options.max_attempts = 0;
  EXPECT_EQ(WebhookSender::Create(options).status().code(), StatusCode::kInvalidArgument);
  options = {};
  options.workers = 0;
  EXPECT_EQ(WebhookSender::Create(options).status().code(), StatusCode::kInvalidArgument);
  options = {};
  options.backoff_multiplier = 0.5;
  EXPECT_EQ(WebhookSender::Create(options).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cairn::monitor
