#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metadata/sql_filter.h"
#include "metadata/trace_store.h"
#include "sql/sql.h"

namespace cairn::metadata {

// TraceStore on the SQLite metadata database (see sqlite_metadata_backend.h), on the schema of
// migrations 4 (trace infos) and 9 (spans). Thread-safe; concurrency is the Database's.
class SqlTraceStore final : public TraceStore {
 public:
  explicit SqlTraceStore(std::shared_ptr<sql::Database> db);

  StatusOr<TraceInfo> StartTrace(std::string_view tenant, const TraceInfo& info) override;
  StatusOr<TraceInfo> GetTraceInfo(std::string_view tenant, std::string_view trace_id) override;
  StatusOr<ResultPage<TraceInfo>> SearchTraces(std::string_view tenant,
                                               const SearchTracesQuery& query) override;
  Status SetTraceTag(std::string_view tenant, std::string_view trace_id, const Tag& tag) override;
  Status DeleteTraceTag(std::string_view tenant, std::string_view trace_id,
                        std::string_view key) override;
  StatusOr<int64_t> DeleteTraces(std::string_view tenant,
                                 const DeleteTracesRequest& request) override;
  Status LogSpans(std::string_view tenant, const SpanBatch& batch) override;
  StatusOr<std::vector<Span>> GetSpans(std::string_view tenant,
                                       const std::vector<std::string>& trace_ids) override;
  Status ImportTraceInfo(std::string_view tenant, const TraceInfo& info) override;

 private:
  const std::shared_ptr<sql::Database> db_;
  const SqlDialect dialect_;
};

}  // namespace cairn::metadata
