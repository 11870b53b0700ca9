#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "metadata/trace_link_store.h"
#include "sql/sql.h"

namespace cairn::metadata {

// TraceLinkStore on the SQLite metadata database (see sqlite_metadata_backend.h), on the schema
// of migration 10. Thread-safe; concurrency is the Database's.
class SqlTraceLinkStore final : public TraceLinkStore {
 public:
  explicit SqlTraceLinkStore(std::shared_ptr<sql::Database> db) : db_(std::move(db)) {}

  Status LinkTracesToRun(std::string_view tenant, const std::vector<std::string>& trace_ids,
                         std::string_view run_id, int64_t now_ms) override;
  Status LinkPromptsToTrace(std::string_view tenant, std::string_view trace_id,
                            const std::vector<PromptVersionRef>& prompts, int64_t now_ms) override;
  StatusOr<std::vector<std::string>> ListLinkedRuns(std::string_view tenant,
                                                    std::string_view trace_id) override;
  StatusOr<std::vector<PromptVersionRef>> ListLinkedPrompts(std::string_view tenant,
                                                            std::string_view trace_id) override;

 private:
  const std::shared_ptr<sql::Database> db_;
};

}  // namespace cairn::metadata
