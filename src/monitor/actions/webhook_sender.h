#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"

namespace cairn::http {
class Client;
}  // namespace cairn::http

namespace cairn::monitor {

// OK when `url` is an absolute http:// or https:// URL with a host (no credentials);
// INVALID_ARGUMENT otherwise. Config validation calls it before a webhook is accepted.
Status ValidateWebhookUrl(std::string_view url);

// The X-Cairn-Signature header value for a delivery: "sha256=" followed by the lowercase hex
// HMAC-SHA256, keyed with `secret`, of `<timestamp>.<body>` (timestamp in decimal unix seconds,
// the X-Cairn-Timestamp header).
std::string SignWebhook(std::string_view secret, int64_t timestamp, std::string_view body);

// Whether `signature` (an X-Cairn-Signature header value) is SignWebhook(secret, timestamp,
// body). The comparison takes the same time wherever the first difference lies. Receivers
// should also refuse timestamps far from their own clock, so a captured delivery cannot be
// replayed later.
bool VerifyWebhookSignature(std::string_view secret, int64_t timestamp, std::string_view body,
                            std::string_view signature);

struct WebhookDelivery {
  std::string url;           // http:// or https://
  std::string secret;        // empty: sent unsigned
  std::string event;         // X-Cairn-Event, e.g. "alert.fired"
  std::string delivery_id;   // X-Cairn-Delivery; the same on every attempt, for deduplication
  std::string payload_json;  // the POST body
  // When not empty, sent instead of the X-Cairn-* headers (event, delivery, timestamp,
  // signature) on every attempt, after Content-Type and User-Agent: for senders that speak
  // another webhook protocol and sign the body themselves (MLflow's registry webhooks).
  std::vector<std::pair<std::string, std::string>> headers;
};

struct WebhookOutcome {
  bool delivered = false;
  int attempts = 0;        // requests sent (0 when refused before any)
  int last_status = 0;     // HTTP status of the last answer; 0 when there was none
  std::string last_error;  // empty when delivered
  // Why it was not delivered: OK when delivered; RESOURCE_EXHAUSTED when the queue was full;
  // INVALID_ARGUMENT for a bad URL; FAILED_PRECONDITION for a permanent refusal (a 4xx other
  // than 408 and 429, a redirect); UNAVAILABLE when the attempts ran out or the sender shut
  // down first.
  StatusCode code = StatusCode::kOk;
};

struct WebhookSenderOptions {
  int max_attempts = 5;  // at least 1
  // Before retry n (n = 1 for the second attempt) the sender waits a uniformly random time in
  // [0, min(max_backoff, initial_backoff * backoff_multiplier^(n-1))] ("full jitter").
  std::chrono::milliseconds initial_backoff{1000};
  double backoff_multiplier = 2.0;
  std::chrono::milliseconds max_backoff{60'000};
  // A Retry-After (delta seconds) on a retryable answer replaces the jittered wait, capped here.
  std::chrono::milliseconds max_retry_after{60'000};
  // Connecting, sending and reading the answer of one attempt, together.
  std::chrono::milliseconds attempt_timeout{10'000};
  // Deliveries accepted and not yet finished (waiting, being sent or waiting for a retry).
  size_t max_pending = 1000;
  int workers = 2;  // threads sending requests; at least 1
  // The destructor's Shutdown deadline, from the moment it runs.
  std::chrono::milliseconds shutdown_grace{5000};
  // PEM file of trusted CA certificates for https; empty: the system store.
  std::string ca_file;
  // Connect only to public addresses (http::ClientOptions::public_addresses_only); a delivery
  // to a host without one fails at once with PERMISSION_DENIED, never retried.
  bool public_addresses_only = false;
  // Returns a number uniformly distributed in [0, 1) for the jitter; empty: a seeded
  // std::mt19937_64. Called from worker threads, one call at a time (under the sender's lock).
  std::function<double()> random;
  // Source of X-Cairn-Timestamp; null: SystemClock. Borrowed; must outlive the sender.
  const Clock* clock = nullptr;
};

// The wait before retry `retry` (1 for the second attempt), given a draw `unit_random` in
// [0, 1). Exposed for tests and documentation of the schedule.
std::chrono::milliseconds WebhookBackoff(const WebhookSenderOptions& options, int retry,
                                         double unit_random);

// Delivers JSON payloads by HTTP POST with retries, on worker threads of its own so that the
// caller (the monitor's window loop) never waits on a slow receiver.
//
// Each attempt sends Content-Type: application/json, User-Agent: cairn-webhooks,
// X-Cairn-Event, X-Cairn-Delivery, X-Cairn-Timestamp (unix seconds at that attempt) and, with a
// secret, X-Cairn-Signature (see SignWebhook). A 2xx answer delivers. Connection failures,
// timeouts, 408, 429 and 5xx are retried after a backoff (Retry-After honoured, capped) until
// max_attempts have been made; any other answer fails at once. Retries waiting for their time
// hold no thread.
//
// The callback runs exactly once per Send: on a worker thread once the delivery is finished,
// or on the calling thread, before Send returns, when the delivery is refused at once (bad
// URL, queue full, shut down). It must not call Shutdown or destroy the sender; a delivery
// that was not delivered is the caller's dead letter to record.
//
// Thread-safe: every method may be called from any thread.
class WebhookSender {
 public:
  using Callback = std::function<void(const WebhookOutcome&)>;

  struct Stats {
    uint64_t accepted = 0;
    uint64_t delivered = 0;
    uint64_t failed = 0;               // finished without delivery (shutdown included)
    uint64_t rejected_queue_full = 0;  // refused by Send because max_pending were pending
    uint64_t rejected_invalid = 0;     // refused by Send for a bad URL
    uint64_t rejected_shut_down = 0;   // refused by Send after Shutdown began
    uint64_t attempts = 0;             // requests sent
  };

  // INVALID_ARGUMENT when the options are out of range or ca_file cannot be loaded.
  static StatusOr<std::unique_ptr<WebhookSender>> Create(WebhookSenderOptions options = {});
  // Shutdown(now + options.shutdown_grace).
  ~WebhookSender();
  WebhookSender(const WebhookSender&) = delete;
  WebhookSender& operator=(const WebhookSender&) = delete;

  // Queues `delivery`; `done` learns how it ended (see the class comment for the thread).
  void Send(WebhookDelivery delivery, Callback done);

  // Stops taking deliveries, keeps working on the pending ones until `deadline`, then
  // abandons the rest (delivered=false, last_error "shutting down"), and joins the workers.
  // Attempts started after Shutdown are given at most the time left; one already waiting for
  // its answer cannot be cut short, so Shutdown returns by the deadline or by the end of that
  // attempt's attempt_timeout, whichever is later. Idempotent: a later call only waits for the
  // first. Must not be called from a callback.
  void Shutdown(std::chrono::steady_clock::time_point deadline);

  Stats stats() const;
  // Deliveries accepted and not yet finished.
  size_t pending() const;

 private:
  struct Pending;

  WebhookSender(WebhookSenderOptions options, std::unique_ptr<http::Client> client);
  void Run();
  // Sends one attempt of `item` (called without the lock) and records its answer in `item`;
  // the attempt ends by `deadline` at the latest.
  void Attempt(Pending& item, std::chrono::steady_clock::time_point deadline);

  const WebhookSenderOptions options_;
  const Clock& clock_;
  const std::unique_ptr<http::Client> client_;

  mutable Mutex mu_;
  std::condition_variable cv_;
  // Waiting deliveries by the time their next attempt is due.
  std::multimap<std::chrono::steady_clock::time_point, std::unique_ptr<Pending>> queue_
      GUARDED_BY(mu_);
  size_t pending_ GUARDED_BY(mu_) = 0;  // queued and in flight
  bool stopping_ GUARDED_BY(mu_) = false;
  std::chrono::steady_clock::time_point deadline_ GUARDED_BY(mu_);
  Stats stats_ GUARDED_BY(mu_);
  std::function<double()> random_ GUARDED_BY(mu_);

  Mutex join_mu_;  // serialises Shutdown's joining
  std::vector<std::thread> workers_ GUARDED_BY(join_mu_);
};

}  // namespace cairn::monitor
