#pragma once

#include <memory>
#include <string>
#include <vector>

#include "audit/audit_store.h"
#include "pg/database.h"
#include "sql/sql.h"
#include "sqlite/database.h"

namespace cairn::audit {

// AuditStore on either SQL engine: its own SQLite file (audit.db, apart from meta.db), or the
// PostgreSQL database of the metadata (tables of its own, its own migration history, its own
// write lock), which every replica appends to: one chain for the whole deployment. AppendBatch
// is one group-committed write, reads run on the reader pool.
//
// Schema (see the migrations in sql_audit_store.cc): audit_entries, one row per entry keyed
// by seq, with an index on (tenant, seq) for per-tenant listing; audit_head, a single row holding
// the newest seq and hash, updated in the transaction that appends. An append whose first entry
// does not follow the stored head is refused (FAILED_PRECONDITION): another replica appended
// first, and the writer re-chains from the new head (AuditLog does).
//
// Thread-safe.
class SqlAuditStore final : public AuditStore {
 public:
  // Opens or creates the store at `path` (":memory:" for a private in-memory one).
  static StatusOr<std::unique_ptr<SqlAuditStore>> OpenSqlite(const std::string& path,
                                                             sqlite::DatabaseOptions options = {});
  // Opens the store in the PostgreSQL database `conninfo` names (migrating its tables, with a
  // history table and a write lock of their own).
  static StatusOr<std::unique_ptr<SqlAuditStore>> OpenPostgres(const std::string& conninfo,
                                                               pg::DatabaseOptions options = {});

  Status AppendBatch(const std::vector<AuditEntry>& entries) override;
  StatusOr<AuditPage> Query(const AuditFilter& filter) override;
  Status Scan(int64_t from_seq, const ScanFn& fn) override;
  StatusOr<AuditHead> Head() override;

  // Where the entries are: the SQLite file, or "postgresql".
  const std::string& path() const { return where_; }

 private:
  SqlAuditStore(std::shared_ptr<sql::Database> db, std::string where)
      : db_(std::move(db)), where_(std::move(where)) {}

  std::shared_ptr<sql::Database> db_;
  std::string where_;
};

}  // namespace cairn::audit
