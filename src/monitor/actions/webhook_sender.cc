#include "monitor/actions/webhook_sender.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <random>
#include <utility>

#include "http/client.h"

namespace cairn::monitor {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;
using std::chrono::milliseconds;

constexpr std::string_view kSignaturePrefix = "sha256=";
constexpr size_t kKeptBodyBytes = 256;  // of a refusal's body, for last_error

struct MacDeleter {
  void operator()(EVP_MAC* mac) const { EVP_MAC_free(mac); }
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

// Empty when OpenSSL fails, which no valid signature equals.
std::string HmacSha256Hex(std::string_view key, std::string_view timestamp, std::string_view body) {
  // Fetched once: the algorithm object is immutable and safe to share between threads.
  static EVP_MAC* const hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (hmac == nullptr) return "";
  std::unique_ptr<EVP_MAC_CTX, MacDeleter> ctx(EVP_MAC_CTX_new(hmac));
  if (ctx == nullptr) return "";
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end(),
  };
  // An empty key is a valid HMAC key; OpenSSL wants a non-null pointer for it.
  static const unsigned char kNoKey = 0;
  const auto* key_bytes =
      key.empty() ? &kNoKey : reinterpret_cast<const unsigned char*>(key.data());
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t out_len = 0;
  if (EVP_MAC_init(ctx.get(), key_bytes, key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(timestamp.data()),
                     timestamp.size()) != 1 ||
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>("."), 1) != 1 ||
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(body.data()), body.size()) !=
          1 ||
      EVP_MAC_final(ctx.get(), out, &out_len, sizeof(out)) != 1) {
    return "";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(out_len * 2);
  for (size_t i = 0; i < out_len; ++i) {
    hex.push_back(kHex[out[i] >> 4]);
    hex.push_back(kHex[out[i] & 0xf]);
  }
  return hex;
}

// Delta seconds only; an HTTP-date (or anything else) gives nullopt and the normal backoff.
std::optional<milliseconds> ParseRetryAfter(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  int64_t seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || seconds < 0) {
    return std::nullopt;
  }
  // Anything this large is capped by max_retry_after anyway; keep the multiplication safe.
  return milliseconds(std::min<int64_t>(seconds, 86'400) * 1000);
}

bool IsRetryableStatus(int status) { return status == 408 || status == 429 || status >= 500; }

}  // namespace

Status ValidateWebhookUrl(std::string_view url) {
  auto parsed = http::ParseUrl(url);
  if (!parsed.ok()) {
    return InvalidArgument("webhook URL must be an absolute http:// or https:// URL: " +
                           parsed.status().message());
  }
  return Status::Ok();
}

std::string SignWebhook(std::string_view secret, int64_t timestamp, std::string_view body) {
  std::string hex = HmacSha256Hex(secret, std::to_string(timestamp), body);
  if (hex.empty()) return "";
  return std::string(kSignaturePrefix) + hex;
}

bool VerifyWebhookSignature(std::string_view secret, int64_t timestamp, std::string_view body,
                            std::string_view signature) {
  std::string expected = SignWebhook(secret, timestamp, body);
  // The length of a well-formed signature is public; only the bytes need a constant-time look.
  if (expected.empty() || signature.size() != expected.size()) return false;
  return CRYPTO_memcmp(expected.data(), signature.data(), expected.size()) == 0;
}

milliseconds WebhookBackoff(const WebhookSenderOptions& options, int retry, double unit_random) {
  double ceiling = static_cast<double>(options.initial_backoff.count()) *
                   std::pow(options.backoff_multiplier, std::max(0, retry - 1));
  ceiling = std::min(ceiling, static_cast<double>(options.max_backoff.count()));
  double draw = std::clamp(unit_random, 0.0, 1.0);
  return milliseconds(static_cast<int64_t>(std::floor(ceiling * draw)));
}

struct WebhookSender::Pending {
  WebhookDelivery delivery;
  Callback done;
  WebhookOutcome outcome;
  // Set by Attempt: whether another attempt may follow, and the receiver's Retry-After.
  bool retryable = false;
  std::optional<milliseconds> retry_after;
};

StatusOr<std::unique_ptr<WebhookSender>> WebhookSender::Create(WebhookSenderOptions options) {
  if (options.max_attempts < 1) return InvalidArgument("max_attempts must be at least 1");
  if (options.workers < 1) return InvalidArgument("workers must be at least 1");
  if (options.max_pending < 1) return InvalidArgument("max_pending must be at least 1");
  if (!(options.backoff_multiplier >= 1.0)) {
    return InvalidArgument("backoff_multiplier must be at least 1");
  }
  if (options.initial_backoff.count() < 0 || options.max_backoff.count() < 0 ||
      options.max_retry_after.count() < 0 || options.attempt_timeout.count() <= 0) {
    return InvalidArgument("webhook timeouts and backoffs must not be negative");
  }
  http::ClientOptions client_options;
  client_options.connect_timeout = options.attempt_timeout;
  client_options.read_timeout = options.attempt_timeout;
  client_options.total_timeout = options.attempt_timeout;
  client_options.ca_file = options.ca_file;
  client_options.user_agent = "cairn-webhooks";
  client_options.public_addresses_only = options.public_addresses_only;
  ASSIGN_OR_RETURN(std::unique_ptr<http::Client> client,
                   http::Client::Create(std::move(client_options)));
  return std::unique_ptr<WebhookSender>(new WebhookSender(std::move(options), std::move(client)));
}

WebhookSender::WebhookSender(WebhookSenderOptions options, std::unique_ptr<http::Client> client)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : SystemClock::Get()),
      client_(std::move(client)) {
  {
    MutexLock lock(mu_);
    random_ = options_.random;
    if (!random_) {
      random_ = [engine = std::mt19937_64(std::random_device{}()),
                 dist = std::uniform_real_distribution<double>(0.0, 1.0)]() mutable {
        return dist(engine);
      };
    }
  }
  MutexLock lock(join_mu_);
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { Run(); });
}

WebhookSender::~WebhookSender() {
  Shutdown(std::chrono::steady_clock::now() + options_.shutdown_grace);
}

void WebhookSender::Send(WebhookDelivery delivery, Callback done) {
  WebhookOutcome refused;
  if (Status valid = ValidateWebhookUrl(delivery.url); !valid.ok()) {
    refused.code = StatusCode::kInvalidArgument;
    refused.last_error = valid.message();
  }
  {
    MutexLock lock(mu_);
    if (refused.code == StatusCode::kInvalidArgument) {
      ++stats_.rejected_invalid;
    } else if (stopping_) {
      ++stats_.rejected_shut_down;
      refused.code = StatusCode::kUnavailable;
      refused.last_error = "shutting down";
    } else if (pending_ >= options_.max_pending) {
      ++stats_.rejected_queue_full;
      refused.code = StatusCode::kResourceExhausted;
      refused.last_error =
          "webhook queue full (" + std::to_string(options_.max_pending) + " deliveries pending)";
    } else {
      auto item = std::make_unique<Pending>();
      item->delivery = std::move(delivery);
      item->done = std::move(done);
      queue_.emplace(std::chrono::steady_clock::now(), std::move(item));
      ++pending_;
      ++stats_.accepted;
      cv_.notify_one();
      return;
    }
  }
  if (done) done(refused);
}

void WebhookSender::Shutdown(SteadyTime deadline) {
  {
    MutexLock lock(mu_);
    if (!stopping_) {
      stopping_ = true;
      deadline_ = deadline;
    }
    cv_.notify_all();
  }
  MutexLock join_lock(join_mu_);
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
}

WebhookSender::Stats WebhookSender::stats() const {
  MutexLock lock(mu_);
  return stats_;
}

size_t WebhookSender::pending() const {
  MutexLock lock(mu_);
  return pending_;
}

void WebhookSender::Run() {
  MutexLock lock(mu_);
  while (true) {
    SteadyTime now = std::chrono::steady_clock::now();
    if (stopping_) {
      // Whatever cannot start before the deadline is abandoned now rather than at it.
      std::vector<std::unique_ptr<Pending>> abandoned;
      for (auto it = queue_.begin(); it != queue_.end();) {
        if (now >= deadline_ || it->first >= deadline_) {
          abandoned.push_back(std::move(it->second));
          it = queue_.erase(it);
        } else {
          ++it;
        }
      }
      if (!abandoned.empty()) {
        pending_ -= abandoned.size();
        stats_.failed += abandoned.size();
        lock.Unlock();
        for (auto& item : abandoned) {
          item->outcome.delivered = false;
          item->outcome.last_error = "shutting down";
          item->outcome.code = StatusCode::kUnavailable;
          if (item->done) item->done(item->outcome);
        }
        lock.Lock();
        continue;
      }
      if (queue_.empty()) return;
    }
    if (queue_.empty()) {
      lock.Wait(cv_);
      continue;
    }
    auto first = queue_.begin();
    if (first->first > now) {
      // A copy: wait_until reads the time again after waking, when another worker may have
      // erased this entry.
      SteadyTime due = first->first;
      lock.WaitUntil(cv_, due);
      continue;
    }
    std::unique_ptr<Pending> item = std::move(first->second);
    queue_.erase(first);
    SteadyTime attempt_deadline = stopping_ ? deadline_ : SteadyTime::max();
    ++stats_.attempts;

    lock.Unlock();
    Attempt(*item, attempt_deadline);
    lock.Lock();

    WebhookOutcome& outcome = item->outcome;
    if (!outcome.delivered && item->retryable && outcome.attempts < options_.max_attempts) {
      milliseconds wait = item->retry_after ? std::min(*item->retry_after, options_.max_retry_after)
                                            : WebhookBackoff(options_, outcome.attempts, random_());
      SteadyTime due = std::chrono::steady_clock::now() + wait;
      if (!stopping_ || due < deadline_) {
        queue_.emplace(due, std::move(item));
        cv_.notify_one();
        continue;
      }
      outcome.last_error = "shutting down";
    }
    if (outcome.delivered) {
      outcome.code = StatusCode::kOk;
      outcome.last_error.clear();
      ++stats_.delivered;
    } else {
      if (outcome.code == StatusCode::kOk) outcome.code = StatusCode::kUnavailable;
      ++stats_.failed;
    }
    --pending_;
    lock.Unlock();
    if (item->done) item->done(outcome);
    item.reset();
    lock.Lock();
  }
}

void WebhookSender::Attempt(Pending& item, SteadyTime deadline) {
  const WebhookDelivery& delivery = item.delivery;
  WebhookOutcome& outcome = item.outcome;
  item.retryable = false;
  item.retry_after.reset();
  ++outcome.attempts;

  int64_t timestamp = clock_.NowMillis() / 1000;
  http::ClientRequest request;
  request.method = http::Method::kPost;
  request.url = delivery.url;
  request.headers = {
      {"Content-Type", "application/json"},
      {"User-Agent", "cairn-webhooks"},
  };
  if (!delivery.headers.empty()) {
    request.headers.insert(request.headers.end(), delivery.headers.begin(), delivery.headers.end());
  } else {
    request.headers.emplace_back("X-Cairn-Event", delivery.event);
    request.headers.emplace_back("X-Cairn-Delivery", delivery.delivery_id);
    request.headers.emplace_back("X-Cairn-Timestamp", std::to_string(timestamp));
  }
  if (delivery.headers.empty() && !delivery.secret.empty()) {
    request.headers.emplace_back("X-Cairn-Signature",
                                 SignWebhook(delivery.secret, timestamp, delivery.payload_json));
  }
  request.body = delivery.payload_json;
  milliseconds timeout = options_.attempt_timeout;
  if (deadline != SteadyTime::max()) {
    auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    timeout = std::clamp(left, milliseconds(1), timeout);
  }
  request.total_timeout = timeout;
  // The answer's body only matters for the error message: keep its start, drop the rest.
  std::string body_start;
  request.on_body = [&body_start](std::string_view piece) {
    if (body_start.size() < kKeptBodyBytes) {
      body_start.append(piece.substr(0, kKeptBodyBytes - body_start.size()));
    }
    return Status::Ok();
  };

  StatusOr<http::ClientResponse> response = client_->Send(request);
  if (!response.ok()) {
    outcome.last_status = 0;
    outcome.last_error = response.status().message();
    // A bad URL or an oversized header will not get better by trying again.
    item.retryable = response.status().code() == StatusCode::kUnavailable;
    outcome.code = item.retryable ? StatusCode::kUnavailable : response.status().code();
    return;
  }
  outcome.last_status = response->status;
  if (response->status >= 200 && response->status < 300) {
    outcome.delivered = true;
    return;
  }
  outcome.last_error = "HTTP " + std::to_string(response->status);
  if (!body_start.empty()) outcome.last_error += ": " + body_start;
  if (IsRetryableStatus(response->status)) {
    item.retryable = true;
    outcome.code = StatusCode::kUnavailable;
    if (auto value = response->headers.Get("Retry-After"))
      item.retry_after = ParseRetryAfter(*value);
  } else {
    outcome.code = StatusCode::kFailedPrecondition;
  }
}

}  // namespace cairn::monitor
