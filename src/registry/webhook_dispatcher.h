#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "metadata/registry_store.h"
#include "metadata/webhook_store.h"
#include "registry/registry_observer.h"

namespace cairn::http {
class Client;
}  // namespace cairn::http
namespace cairn::monitor {
class WebhookSender;
}  // namespace cairn::monitor

namespace cairn::registry {

struct WebhookDispatcherOptions {
  // Schemes a webhook URL may use; MLflow's MLFLOW_WEBHOOK_ALLOWED_SCHEMES (default https).
  std::vector<std::string> allowed_schemes = {"https"};
  // Whether a webhook URL may name a host that resolves to a loopback, private, link-local or
  // otherwise non-public address; MLflow's MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS (default false).
  // Only for development and tests: with it, webhooks can reach internal services.
  bool allow_private_ips = false;
  // Registry events waiting to be matched with webhooks; one more is dropped (and counted).
  size_t max_queued_events = 1000;
  // Requests per delivery: MLflow's 1 + MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES (3). Connection
  // failures, 408, 429 and 5xx answers are retried after an exponential backoff starting at
  // `initial_backoff` (doubling, jittered, at most 60 s; Retry-After honoured).
  int max_attempts = 4;
  std::chrono::milliseconds initial_backoff{1000};
  // One request, connecting included; MLflow's MLFLOW_WEBHOOK_REQUEST_TIMEOUT (30 s).
  std::chrono::milliseconds request_timeout{30'000};
  // Deliveries accepted by the sender and not finished; more are dropped (and counted).
  size_t max_pending_deliveries = 1000;
  // Source of the body's timestamp and X-MLflow-Timestamp; null: SystemClock. Borrowed.
  const Clock* clock = nullptr;
};

// Delivers registry events to the tenant's webhooks the way MLflow 3 does
// (mlflow/webhooks/delivery.py): for each event, every ACTIVE webhook of the tenant subscribed
// to it gets a POST of {"entity", "action", "timestamp", "data"} with X-MLflow-Delivery-Id,
// X-MLflow-Timestamp and, when it has a secret, X-MLflow-Signature (see SignWebhookBody).
// Changes to prompts (registered models tagged mlflow.prompt.is_prompt=true) become the prompt
// events, as in MLflow.
//
// OnRegistryEvent only queues (bounded; a full queue drops the event and counts it), so a
// registry request never waits for or fails because of a webhook. One thread of its own matches
// queued events with webhooks (a store read per event, so a disabled or deleted webhook gets
// nothing more at once; MLflow caches the list for a minute) and hands each delivery to a
// monitor::WebhookSender, which retries on its own threads.
//
// Every URL is checked when a webhook is created or updated and again before each delivery
// (ValidateUrl); a URL that fails the check then is not called. Unless allow_private_ips, the
// connections themselves go only to public addresses (http::ClientOptions::
// public_addresses_only), so a host that resolves to a public address at the check and to a
// private one at the connection (DNS rebinding) reaches nothing internal either.
//
// Thread-safe. The stores must outlive the dispatcher; the destructor stops it (queued events
// are dropped, deliveries under way get a few seconds).
class WebhookDispatcher final : public RegistryObserver {
 public:
  struct Stats {
    uint64_t events_queued = 0;
    uint64_t events_dropped = 0;      // the queue was full
    uint64_t deliveries_sent = 0;     // handed to the sender
    uint64_t deliveries_refused = 0;  // URL failed the check, or the sender's queue was full
    uint64_t deliveries_ok = 0;
    uint64_t deliveries_failed = 0;
  };

  struct TestResult {
    bool success = false;
    int response_status = 0;  // 0: no answer
    std::string response_body;
    std::string error_message;
  };

  static StatusOr<std::unique_ptr<WebhookDispatcher>> Create(metadata::WebhookStore& webhooks,
                                                             metadata::RegistryStore& registry,
                                                             WebhookDispatcherOptions options);
  ~WebhookDispatcher() override;
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  void OnRegistryEvent(const RequestScope& scope, const RegistryEvent& event) override;

  // OK, or INVALID_ARGUMENT in MLflow's words: a scheme not allowed, no host, a host that does
  // not resolve or (unless allow_private_ips) resolves to a non-public address.
  Status ValidateUrl(std::string_view url) const;

  // Sends MLflow's example payload for `event` to the webhook once, now, and reports the answer
  // (success for a status below 400), as MLflow's "test webhook" does. Never retried.
  TestResult Test(const metadata::WebhookRecord& webhook, std::string_view event);

  Stats stats() const;
  // Waits until every queued event has been handed to the sender and the sender has finished
  // every delivery, or `timeout` passes; false on timeout.
  bool WaitIdleForTest(std::chrono::milliseconds timeout);

 private:
  struct QueuedEvent {
    std::string tenant;
    RegistryEvent event;
  };

  WebhookDispatcher(metadata::WebhookStore& webhooks, metadata::RegistryStore& registry,
                    WebhookDispatcherOptions options, std::unique_ptr<http::Client> client,
                    std::unique_ptr<monitor::WebhookSender> sender);
  void Run();
  void Dispatch(const QueuedEvent& queued);
  // The headers and body of one delivery of `data` for `event` to `webhook`.
  struct Request {
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
  };
  Request BuildRequest(const metadata::WebhookRecord& webhook, std::string_view event,
                       const boost::json::object& data) const;

  metadata::WebhookStore& webhooks_;
  metadata::RegistryStore& registry_;
  const WebhookDispatcherOptions options_;
  const Clock& clock_;
  const std::unique_ptr<http::Client> client_;  // for Test
  const std::unique_ptr<monitor::WebhookSender> sender_;

  mutable Mutex mu_;
  std::condition_variable cv_;
  std::deque<QueuedEvent> queue_ GUARDED_BY(mu_);
  bool busy_ GUARDED_BY(mu_) = false;  // the thread is dispatching an event
  bool stopping_ GUARDED_BY(mu_) = false;
  Stats stats_ GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace cairn::registry
