#include "registry/webhook_dispatcher.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "http/client.h"
#include "http/ip_address.h"
#include "monitor/actions/webhook_sender.h"
#include "registry/webhook_payload.h"

namespace cairn::registry {
namespace {

constexpr size_t kMaxTestResponseBytes = 1 << 20;
constexpr std::chrono::seconds kShutdownGrace{5};

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

// Python's urlparse scheme: letters, digits, "+-." before the first ':' (lower-cased), else "".
std::string UrlScheme(std::string_view url) {
  size_t colon = url.find(':');
  if (colon == std::string_view::npos || colon == 0) return "";
  std::string scheme;
  for (char c : url.substr(0, colon)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return "";
    }
    scheme.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return std::isalpha(static_cast<unsigned char>(scheme[0])) ? scheme : "";
}

// The host of scheme://[userinfo@]host[:port]/..., "" when there is none.
std::string UrlHost(std::string_view url) {
  size_t start = url.find("://");
  if (start == std::string_view::npos) return "";
  std::string_view rest = url.substr(start + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (rest.starts_with('[')) return std::string(rest.substr(1, rest.find(']') - 1));
  return std::string(rest.substr(0, rest.find(':')));
}

}  // namespace

StatusOr<std::unique_ptr<WebhookDispatcher>> WebhookDispatcher::Create(
    metadata::WebhookStore& webhooks, metadata::RegistryStore& registry,
    WebhookDispatcherOptions options) {
  if (options.max_queued_events < 1) return InvalidArgument("max_queued_events must be >= 1");
  http::ClientOptions client_options;
  client_options.connect_timeout = options.request_timeout;
  client_options.read_timeout = options.request_timeout;
  client_options.total_timeout = options.request_timeout;
  client_options.max_response_bytes = kMaxTestResponseBytes;
  client_options.user_agent = "cairn-webhooks";
  client_options.public_addresses_only = !options.allow_private_ips;
  ASSIGN_OR_RETURN(std::unique_ptr<http::Client> client, http::Client::Create(client_options));
  ASSIGN_OR_RETURN(std::unique_ptr<monitor::WebhookSender> sender,
                   monitor::WebhookSender::Create(monitor::WebhookSenderOptions{
                       .max_attempts = options.max_attempts,
                       .initial_backoff = options.initial_backoff,
                       .attempt_timeout = options.request_timeout,
                       .max_pending = options.max_pending_deliveries,
                       .public_addresses_only = !options.allow_private_ips,
                       .clock = options.clock}));
  return std::unique_ptr<WebhookDispatcher>(new WebhookDispatcher(
      webhooks, registry, std::move(options), std::move(client), std::move(sender)));
}

WebhookDispatcher::WebhookDispatcher(metadata::WebhookStore& webhooks,
                                     metadata::RegistryStore& registry,
                                     WebhookDispatcherOptions options,
                                     std::unique_ptr<http::Client> client,
                                     std::unique_ptr<monitor::WebhookSender> sender)
    : webhooks_(webhooks),
      registry_(registry),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : SystemClock::Get()),
      client_(std::move(client)),
      sender_(std::move(sender)) {
  thread_ = std::thread([this] { Run(); });
}

WebhookDispatcher::~WebhookDispatcher() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  thread_.join();
  // Now, while the counters its callbacks update still exist: deliveries under way get a grace
  // period, the rest are abandoned.
  sender_->Shutdown(std::chrono::steady_clock::now() + kShutdownGrace);
}

void WebhookDispatcher::OnRegistryEvent(const RequestScope& scope, const RegistryEvent& event) {
  MutexLock lock(mu_);
  if (stopping_ || queue_.size() >= options_.max_queued_events) {
    ++stats_.events_dropped;
    return;
  }
  queue_.push_back(QueuedEvent{scope.tenant, event});
  ++stats_.events_queued;
  cv_.notify_all();
}

void WebhookDispatcher::Run() {
  MutexLock lock(mu_);
  while (true) {
    while (!stopping_ && queue_.empty()) lock.Wait(cv_);
    if (stopping_) {
      stats_.events_dropped += queue_.size();
      queue_.clear();
      cv_.notify_all();
      return;
    }
    QueuedEvent queued = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.Unlock();
    Dispatch(queued);
    lock.Lock();
    busy_ = false;
    cv_.notify_all();
  }
}

void WebhookDispatcher::Dispatch(const QueuedEvent& queued) {
  bool prompt = false;
  if (NeedsPromptLookup(queued.event)) {
    StatusOr<metadata::RegisteredModel> model =
        registry_.GetRegisteredModel(queued.tenant, queued.event.name);
    if (model.ok()) {
      std::string value = "false";
      for (const metadata::Tag& t : model->tags) {
        if (t.key == "mlflow.prompt.is_prompt") value = t.value;
      }
      std::transform(value.begin(), value.end(), value.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      prompt = value == "true";
    }
  }
  std::optional<WebhookMessage> message = WebhookMessageFor(queued.event, prompt);
  if (!message) return;
  StatusOr<std::vector<metadata::WebhookRecord>> hooks =
      webhooks_.ListActiveWebhooksForEvent(queued.tenant, message->event);
  if (!hooks.ok()) {
    spdlog::warn("webhooks: cannot list the webhooks of tenant {} for {}: {}", queued.tenant,
                 message->event, hooks.status().ToString());
    return;
  }
  for (const metadata::WebhookRecord& hook : *hooks) {
    if (Status valid = ValidateUrl(hook.url); !valid.ok()) {
      spdlog::warn("webhooks: not delivering {} to webhook {}: {}", message->event, hook.id,
                   valid.message());
      MutexLock lock(mu_);
      ++stats_.deliveries_refused;
      continue;
    }
    Request request = BuildRequest(hook, message->event, message->data);
    monitor::WebhookDelivery delivery;
    delivery.url = hook.url;
    delivery.event = message->event;
    delivery.delivery_id = request.headers[0].second;
    delivery.payload_json = std::move(request.body);
    delivery.headers = std::move(request.headers);
    {
      MutexLock lock(mu_);
      ++stats_.deliveries_sent;
    }
    sender_->Send(std::move(delivery), [this, id = hook.id, event = message->event](
                                           const monitor::WebhookOutcome& outcome) {
      if (!outcome.delivered) {
        spdlog::warn("webhooks: delivery of {} to webhook {} failed after {} attempt(s): {}", event,
                     id, outcome.attempts, outcome.last_error);
      }
      MutexLock lock(mu_);
      ++(outcome.delivered ? stats_.deliveries_ok : stats_.deliveries_failed);
      if (outcome.code == StatusCode::kResourceExhausted) ++stats_.deliveries_refused;
      cv_.notify_all();
    });
  }
}

WebhookDispatcher::Request WebhookDispatcher::BuildRequest(const metadata::WebhookRecord& webhook,
                                                           std::string_view event,
                                                           const boost::json::object& data) const {
  int64_t now_ms = clock_.NowMillis();
  Request request;
  request.body = WebhookBody(event, data, now_ms * 1000);
  std::string delivery_id = NewDeliveryId();
  std::string timestamp = std::to_string(now_ms / 1000);
  request.headers.emplace_back(std::string(kWebhookDeliveryIdHeader), delivery_id);
  request.headers.emplace_back(std::string(kWebhookTimestampHeader), timestamp);
  if (!webhook.secret.empty()) {
    request.headers.emplace_back(
        std::string(kWebhookSignatureHeader),
        SignWebhookBody(webhook.secret, delivery_id, timestamp, request.body));
  }
  return request;
}

Status WebhookDispatcher::ValidateUrl(std::string_view url) const {
  std::string trimmed(url);
  if (trimmed.find_first_not_of(" \t\r\n") == std::string::npos) {
    return InvalidArgument("Webhook URL cannot be empty or just whitespace: " + Quoted(url));
  }
  std::string scheme = UrlScheme(url);
  if (std::find(options_.allowed_schemes.begin(), options_.allowed_schemes.end(), scheme) ==
      options_.allowed_schemes.end()) {
    std::string allowed;
    for (const std::string& s : options_.allowed_schemes) {
      allowed += (allowed.empty() ? "" : ", ") + s;
    }
    return InvalidArgument("Invalid webhook URL scheme: " + Quoted(scheme) +
                           ". Allowed schemes are: " + allowed + ".");
  }
  std::string host = UrlHost(url);
  if (host.empty()) {
    return InvalidArgument("Webhook URL must include a hostname: " + Quoted(url));
  }
  StatusOr<http::Url> parsed = http::ParseUrl(url);
  if (!parsed.ok()) {
    return InvalidArgument("Invalid webhook URL " + Quoted(url) + ": " + parsed.status().message());
  }
  if (options_.allow_private_ips) return Status::Ok();

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(parsed->host.c_str(), nullptr, &hints, &found);
  if (rc != 0) {
    return InvalidArgument("Cannot resolve Webhook URL hostname " + Quoted(parsed->host) + ": " +
                           gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(found, freeaddrinfo);
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    bool public_ip = false;
    if (a->ai_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
      inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
      public_ip = http::IsPublicIpv4(ntohl(in->sin_addr.s_addr));
    } else if (a->ai_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a->ai_addr);
      inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
      std::array<uint8_t, 16> bytes{};
      std::memcpy(bytes.data(), in6->sin6_addr.s6_addr, bytes.size());
      public_ip = http::IsPublicIpv6(bytes);
    }
    if (!public_ip) {
      return InvalidArgument("Webhook URL must not resolve to a non-public IP address. " +
                             Quoted(parsed->host) + " resolves to " + text + ".");
    }
  }
  return Status::Ok();
}

WebhookDispatcher::TestResult WebhookDispatcher::Test(const metadata::WebhookRecord& webhook,
                                                      std::string_view event) {
  TestResult result;
  if (Status valid = ValidateUrl(webhook.url); !valid.ok()) {
    result.error_message = "Failed to test webhook: " + valid.message();
    return result;
  }
  Request built = BuildRequest(webhook, event, ExampleWebhookPayload(event));
  http::ClientRequest request;
  request.method = http::Method::kPost;
  request.url = webhook.url;
  request.headers = {{"Content-Type", "application/json"}};
  request.headers.insert(request.headers.end(), built.headers.begin(), built.headers.end());
  request.body = std::move(built.body);
  StatusOr<http::ClientResponse> response = client_->Send(request);
  if (!response.ok()) {
    result.error_message = "Failed to test webhook: " + response.status().message();
    return result;
  }
  result.success = response->status < 400;
  result.response_status = response->status;
  result.response_body = std::move(response->body);
  return result;
}

WebhookDispatcher::Stats WebhookDispatcher::stats() const {
  MutexLock lock(mu_);
  return stats_;
}

bool WebhookDispatcher::WaitIdleForTest(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(mu_);
  while (!queue_.empty() || busy_ ||
         stats_.deliveries_ok + stats_.deliveries_failed < stats_.deliveries_sent) {
    if (!lock.WaitUntil(cv_, deadline)) {
      return queue_.empty() && !busy_ &&
             stats_.deliveries_ok + stats_.deliveries_failed >= stats_.deliveries_sent;
    }
  }
  return true;
}

}  // namespace cairn::registry
