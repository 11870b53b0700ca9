#pragma once

#include <memory>
#include <string>
#include <vector>

#include "audit/audit_store.h"
#include "sqlite/database.h"

namespace cairn::audit {

// AuditStore in its own SQLite file (audit.db, apart from meta.db), through sqlite::Database:
// AppendBatch is one group-committed write, reads run on the reader pool.
//
// Schema (see the migration in sqlite_audit_store.cc): audit_entries, one row per entry keyed
// by seq (the rowid), with an index on (tenant, seq) for per-tenant listing; audit_head, a single
// row holding the newest seq and hash, updated in the transaction that appends.
//
// Thread-safe.
class SqliteAuditStore final : public AuditStore {
 public:
  // Opens or creates the store at `path` (":memory:" for a private in-memory one).
  static StatusOr<std::unique_ptr<SqliteAuditStore>> Open(const std::string& path,
                                                          sqlite::DatabaseOptions options = {});

  Status AppendBatch(const std::vector<AuditEntry>& entries) override;
  StatusOr<AuditPage> Query(const AuditFilter& filter) override;
  Status Scan(int64_t from_seq, const ScanFn& fn) override;
  StatusOr<AuditHead> Head() override;

  const std::string& path() const { return db_->path(); }

 private:
  explicit SqliteAuditStore(std::unique_ptr<sqlite::Database> db) : db_(std::move(db)) {}

  std::unique_ptr<sqlite::Database> db_;
};

}  // namespace cairn::audit
