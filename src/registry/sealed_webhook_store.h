#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "artifact/encrypted/secret_box.h"
#include "metadata/webhook_store.h"

namespace cairn::registry {

// A WebhookStore decorator that keeps webhook secrets sealed at rest (artifact::SecretBox, the
// artifact master key ring): secrets are sealed before they reach the inner store and opened on
// the way out, with the tenant and webhook id as the sealing context, so a sealed secret copied
// onto another webhook row does not open. Secrets stored before sealing was turned on (not in
// the sealed form) are read as they are and sealed at their next update.
//
// A secret that cannot be opened (its master key left the ring, or the row was tampered with)
// makes GetWebhook and UpdateWebhook fail with INTERNAL; ListActiveWebhooksForEvent leaves that
// webhook out (logged), so it is never called unsigned and the others still are; ListWebhooks,
// whose answers never show secrets, clears it.
//
// Thread-safe when the inner store is. The inner store must outlive the decorator.
class SealedWebhookStore final : public metadata::WebhookStoreWrapper {
 public:
  SealedWebhookStore(metadata::WebhookStore& inner, artifact::SecretBox box)
      : WebhookStoreWrapper(inner), box_(std::move(box)) {}

  Status CreateWebhook(std::string_view tenant, const metadata::WebhookRecord& record) override;
  StatusOr<metadata::WebhookRecord> GetWebhook(std::string_view tenant,
                                               std::string_view id) override;
  StatusOr<metadata::ResultPage<metadata::WebhookRecord>> ListWebhooks(std::string_view tenant,
                                                                       int64_t max_results,
                                                                       int64_t offset) override;
  StatusOr<std::vector<metadata::WebhookRecord>> ListActiveWebhooksForEvent(
      std::string_view tenant, std::string_view event) override;
  StatusOr<metadata::WebhookRecord> UpdateWebhook(std::string_view tenant, std::string_view id,
                                                  const metadata::WebhookUpdate& update) override;

 private:
  StatusOr<std::string> SealFor(std::string_view tenant, std::string_view id,
                                const std::string& secret) const;
  // Replaces a sealed record.secret by its plaintext.
  Status OpenIn(std::string_view tenant, metadata::WebhookRecord& record) const;

  const artifact::SecretBox box_;
};

}  // namespace cairn::registry
