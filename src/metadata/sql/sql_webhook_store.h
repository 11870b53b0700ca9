#pragma once

#include <memory>

#include "metadata/webhook_store.h"
#include "sql/sql.h"

namespace cairn::metadata {

// WebhookStore on the SQLite metadata database (see sqlite_metadata_backend.h), on the schema of
// migration 8. Thread-safe; concurrency is the Database's.
class SqlWebhookStore final : public WebhookStore {
 public:
  explicit SqlWebhookStore(std::shared_ptr<sql::Database> db) : db_(std::move(db)) {}

  Status CreateWebhook(std::string_view tenant, const WebhookRecord& record) override;
  StatusOr<WebhookRecord> GetWebhook(std::string_view tenant, std::string_view id) override;
  StatusOr<ResultPage<WebhookRecord>> ListWebhooks(std::string_view tenant, int64_t max_results,
                                                   int64_t offset) override;
  StatusOr<std::vector<WebhookRecord>> ListActiveWebhooksForEvent(std::string_view tenant,
                                                                  std::string_view event) override;
  StatusOr<WebhookRecord> UpdateWebhook(std::string_view tenant, std::string_view id,
                                        const WebhookUpdate& update) override;
  Status DeleteWebhook(std::string_view tenant, std::string_view id) override;

 private:
  const std::shared_ptr<sql::Database> db_;
};

}  // namespace cairn::metadata
