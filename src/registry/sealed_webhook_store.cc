#include "registry/sealed_webhook_store.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace cairn::registry {
namespace {

std::string Context(std::string_view tenant, std::string_view id) {
  std::string context("webhook");
  context.push_back('\0');
  context.append(tenant);
  context.push_back('\0');
  context.append(id);
  return context;
}

}  // namespace

StatusOr<std::string> SealedWebhookStore::SealFor(std::string_view tenant, std::string_view id,
                                                  const std::string& secret) const {
  if (secret.empty()) return secret;  // "no secret" stays visible as such
  return box_.Seal(Context(tenant, id), secret);
}

Status SealedWebhookStore::OpenIn(std::string_view tenant, metadata::WebhookRecord& record) const {
  if (!artifact::SecretBox::IsSealed(record.secret)) return Status::Ok();
  StatusOr<std::string> plain = box_.Open(Context(tenant, record.id), record.secret);
  if (!plain.ok()) {
    return Internal("cannot open the secret of webhook " + record.id + ": " +
                    plain.status().message());
  }
  record.secret = std::move(plain).value();
  return Status::Ok();
}

Status SealedWebhookStore::CreateWebhook(std::string_view tenant,
                                         const metadata::WebhookRecord& record) {
  metadata::WebhookRecord sealed = record;
  ASSIGN_OR_RETURN(sealed.secret, SealFor(tenant, record.id, record.secret));
  return WebhookStoreWrapper::CreateWebhook(tenant, sealed);
}

StatusOr<metadata::WebhookRecord> SealedWebhookStore::GetWebhook(std::string_view tenant,
                                                                 std::string_view id) {
  ASSIGN_OR_RETURN(metadata::WebhookRecord record, WebhookStoreWrapper::GetWebhook(tenant, id));
  RETURN_IF_ERROR(OpenIn(tenant, record));
  return record;
}

StatusOr<metadata::ResultPage<metadata::WebhookRecord>> SealedWebhookStore::ListWebhooks(
    std::string_view tenant, int64_t max_results, int64_t offset) {
  ASSIGN_OR_RETURN(auto page, WebhookStoreWrapper::ListWebhooks(tenant, max_results, offset));
  for (metadata::WebhookRecord& record : page.items) {
    if (!OpenIn(tenant, record).ok()) record.secret.clear();
  }
  return page;
}

StatusOr<std::vector<metadata::WebhookRecord>> SealedWebhookStore::ListActiveWebhooksForEvent(
    std::string_view tenant, std::string_view event) {
  ASSIGN_OR_RETURN(std::vector<metadata::WebhookRecord> found,
                   WebhookStoreWrapper::ListActiveWebhooksForEvent(tenant, event));
  std::vector<metadata::WebhookRecord> usable;
  usable.reserve(found.size());
  for (metadata::WebhookRecord& record : found) {
    if (Status opened = OpenIn(tenant, record); !opened.ok()) {
      spdlog::error("webhook {} of tenant '{}' is skipped: {}", record.id, tenant,
                    opened.message());
      continue;
    }
    usable.push_back(std::move(record));
  }
  return usable;
}

StatusOr<metadata::WebhookRecord> SealedWebhookStore::UpdateWebhook(
    std::string_view tenant, std::string_view id, const metadata::WebhookUpdate& update) {
  metadata::WebhookUpdate sealed = update;
  if (update.secret) {
    ASSIGN_OR_RETURN(sealed.secret, SealFor(tenant, id, *update.secret));
  } else {
    // Seal a secret stored before sealing was turned on, now that the row is written anyway.
    ASSIGN_OR_RETURN(metadata::WebhookRecord current, WebhookStoreWrapper::GetWebhook(tenant, id));
    if (!current.secret.empty() && !artifact::SecretBox::IsSealed(current.secret)) {
      ASSIGN_OR_RETURN(sealed.secret, SealFor(tenant, id, current.secret));
    }
  }
  ASSIGN_OR_RETURN(metadata::WebhookRecord record,
                   WebhookStoreWrapper::UpdateWebhook(tenant, id, sealed));
  RETURN_IF_ERROR(OpenIn(tenant, record));
  return record;
}

}  // namespace cairn::registry
