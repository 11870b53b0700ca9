#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "metadata/types.h"

namespace cairn::metadata {

// A registry webhook as stored (MLflow's Webhook entity plus its secret).
struct WebhookRecord {
  std::string id;  // unique across tenants (a UUID)
  std::string name;
  std::string description;
  std::string url;
  // "entity.action" in MLflow's lower-case spelling ("model_version_tag.set"). Never empty.
  // Read back sorted, without duplicates (the order MLflow's SQL store answers in).
  std::vector<std::string> events;
  std::string status = "ACTIVE";  // "ACTIVE" or "DISABLED"
  // The HMAC key deliveries are signed with; empty: deliveries are unsigned. Stored so that
  // delivery can sign; the API never returns it.
  std::string secret;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

// The fields an update replaces; unset ones are kept.
struct WebhookUpdate {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::string> url;
  std::optional<std::vector<std::string>> events;  // replaces the whole list when set
  std::optional<std::string> status;
  std::optional<std::string> secret;
  int64_t updated_at_ms = 0;
};

// Registry webhooks, per tenant. The contract shared by every domain store is in
// metadata_stores.h (tenant scoping, errors, atomic durable writes, thread safety). Values are
// stored as given: names, URLs and events are validated by the caller.
//
// NOT_FOUND carries MLflow's wording: "Webhook with ID <id> not found."
class WebhookStore {
 public:
  virtual ~WebhookStore() = default;

  // ALREADY_EXISTS when the id is taken (in any tenant).
  virtual Status CreateWebhook(std::string_view tenant, const WebhookRecord& record) = 0;
  virtual StatusOr<WebhookRecord> GetWebhook(std::string_view tenant, std::string_view id) = 0;
  // The tenant's webhooks, newest first (created_at descending, then id), `max_results` from
  // `offset`; has_more when more follow.
  virtual StatusOr<ResultPage<WebhookRecord>> ListWebhooks(std::string_view tenant,
                                                           int64_t max_results, int64_t offset) = 0;
  // The tenant's ACTIVE webhooks subscribed to `event` ("entity.action"), newest first: what a
  // delivery goes to.
  virtual StatusOr<std::vector<WebhookRecord>> ListActiveWebhooksForEvent(
      std::string_view tenant, std::string_view event) = 0;
  // Applies `update` and returns the result.
  virtual StatusOr<WebhookRecord> UpdateWebhook(std::string_view tenant, std::string_view id,
                                                const WebhookUpdate& update) = 0;
  // Removes the webhook and its secret for good.
  virtual Status DeleteWebhook(std::string_view tenant, std::string_view id) = 0;
};

// Forwards every call; tests override one method to inject faults.
class WebhookStoreWrapper : public WebhookStore {
 public:
  explicit WebhookStoreWrapper(WebhookStore& target) : target_(target) {}
  Status CreateWebhook(std::string_view t, const WebhookRecord& r) override {
    return target_.CreateWebhook(t, r);
  }
  StatusOr<WebhookRecord> GetWebhook(std::string_view t, std::string_view id) override {
    return target_.GetWebhook(t, id);
  }
  StatusOr<ResultPage<WebhookRecord>> ListWebhooks(std::string_view t, int64_t max_results,
                                                   int64_t offset) override {
    return target_.ListWebhooks(t, max_results, offset);
  }
  StatusOr<std::vector<WebhookRecord>> ListActiveWebhooksForEvent(std::string_view t,
                                                                  std::string_view e) override {
    return target_.ListActiveWebhooksForEvent(t, e);
  }
  StatusOr<WebhookRecord> UpdateWebhook(std::string_view t, std::string_view id,
                                        const WebhookUpdate& u) override {
    return target_.UpdateWebhook(t, id, u);
  }
  Status DeleteWebhook(std::string_view t, std::string_view id) override {
    return target_.DeleteWebhook(t, id);
  }

 private:
  WebhookStore& target_;
};

}  // namespace cairn::metadata
