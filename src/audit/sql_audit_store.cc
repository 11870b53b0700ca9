#include "audit/sql_audit_store.h"

#include <string_view>
#include <utility>

namespace cairn::audit {
namespace {

using sql::Connection;
using sql::Statement;

const std::vector<sqlite::Migration>& SqliteMigrations() {
  static const std::vector<sqlite::Migration> kMigrations = {
      {1, "audit entries and head checkpoint", R"sql(
CREATE TABLE audit_entries (
  seq INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  principal TEXT NOT NULL,
  tenant TEXT NOT NULL,
  action TEXT NOT NULL,
  resource TEXT NOT NULL,
  outcome TEXT NOT NULL,
  status INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  client TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_entries_tenant_seq ON audit_entries (tenant, seq);
CREATE TABLE audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
  VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
)sql"},
  };
  return kMigrations;
}

// The same tables in PostgreSQL's types, beside the metadata tables (own history table). The
// free-text fields are BYTEA: an entry records what a client sent byte for byte, NUL included,
// which PostgreSQL's text cannot hold.
const std::vector<pg::Migration>& PostgresMigrations() {
  static const std::vector<pg::Migration> kMigrations = {
      {1, "audit entries and head checkpoint", R"sql(
CREATE TABLE audit_entries (
  seq BIGINT PRIMARY KEY,
  time_ms BIGINT NOT NULL,
  principal BYTEA NOT NULL,
  tenant BYTEA NOT NULL,
  action BYTEA NOT NULL,
  resource BYTEA NOT NULL,
  outcome BYTEA NOT NULL,
  status BIGINT NOT NULL,
  request_id BYTEA NOT NULL,
  client BYTEA NOT NULL,
  prev_hash TEXT COLLATE "C" NOT NULL,
  hash TEXT COLLATE "C" NOT NULL
);
CREATE INDEX audit_entries_tenant_seq ON audit_entries (tenant, seq);
CREATE TABLE audit_head (
  id BIGINT PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL,
  hash TEXT COLLATE "C" NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
  VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
)sql"},
  };
  return kMigrations;
}

// Audit appends serialize with each other, not with metadata writes.
constexpr int64_t kAuditWriteLockKey = 0x636169726e4100;  // "cairnA"

constexpr std::string_view kColumns =
    "seq, time_ms, principal, tenant, action, resource, outcome, status, request_id, client, "
    "prev_hash, hash";

// Rows read per read transaction by Scan: bounds its memory and how long it pins a snapshot.
constexpr int kScanChunk = 512;

AuditEntry ReadEntry(const Statement& s) {
  AuditEntry e;
  e.seq = s.Int(0);
  e.time_ms = s.Int(1);
  // Bytes as stored (BLOB reads of SQLite text, PostgreSQL bytea).
  e.principal = std::string(s.BlobView(2));
  e.tenant = std::string(s.BlobView(3));
  e.action = std::string(s.BlobView(4));
  e.resource = std::string(s.BlobView(5));
  e.outcome = std::string(s.BlobView(6));
  e.status = static_cast<int>(s.Int(7));
  e.request_id = std::string(s.BlobView(8));
  e.client = std::string(s.BlobView(9));
  e.prev_hash = s.Text(10);
  e.hash = s.Text(11);
  return e;
}

StatusOr<AuditHead> ReadHead(Connection& db) {
  ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT seq, hash FROM audit_head WHERE id = 1"));
  ASSIGN_OR_RETURN(bool row, s.Step());
  AuditHead head;
  // A missing row reads as an empty log; Verify then reports the stored entries past it.
  if (row) {
    head.seq = s.Int(0);
    head.hash = s.Text(1);
  }
  return head;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

// `sql` with " AND <clause>" per set filter field, binding into `values` in order. Text compares
// byte-wise: SQLite text as stored; PostgreSQL bytea against the value's bytes (bound as hex).
void AddClauses(const AuditFilter& f, sql::Dialect dialect, std::string& sql,
                std::vector<sql::Value>& values) {
  const bool lite = dialect == sql::Dialect::kSqlite;
  auto add_text = [&](std::string_view column, const std::string& value) {
    sql += " AND ";
    sql += column;
    sql += lite ? " = ?" : " = decode(?, 'hex')";
    values.emplace_back(lite ? value : Hex(value));
  };
  if (f.tenant) add_text("tenant", *f.tenant);
  if (f.principal) add_text("principal", *f.principal);
  if (f.outcome) add_text("outcome", *f.outcome);
  if (f.from_ms) {
    sql += " AND time_ms >= ?";
    values.emplace_back(*f.from_ms);
  }
  if (f.to_ms) {
    sql += " AND time_ms < ?";
    values.emplace_back(*f.to_ms);
  }
  if (f.action_prefix) {
    // substr on bytes: no LIKE wildcards or case folding to escape.
    sql += lite ? " AND substr(CAST(action AS BLOB), 1, ?) = CAST(? AS BLOB)"
                : " AND substr(action, 1, CAST(? AS INTEGER)) = decode(?, 'hex')";
    values.emplace_back(static_cast<int64_t>(f.action_prefix->size()));
    values.emplace_back(lite ? *f.action_prefix : Hex(*f.action_prefix));
  }
}

}  // namespace

StatusOr<std::unique_ptr<SqlAuditStore>> SqlAuditStore::OpenSqlite(
    const std::string& path, sqlite::DatabaseOptions options) {
  ASSIGN_OR_RETURN(auto db, sqlite::Database::Open(path, SqliteMigrations(), options));
  return std::unique_ptr<SqlAuditStore>(new SqlAuditStore(sql::WrapSqlite(std::move(db)), path));
}

StatusOr<std::unique_ptr<SqlAuditStore>> SqlAuditStore::OpenPostgres(const std::string& conninfo,
                                                                     pg::DatabaseOptions options) {
  options.migrations_table = "audit_schema_version";
  options.write_lock_key = kAuditWriteLockKey;
  ASSIGN_OR_RETURN(auto db, pg::Database::Open(conninfo, PostgresMigrations(), options));
  return std::unique_ptr<SqlAuditStore>(
      new SqlAuditStore(sql::WrapPostgres(std::move(db)), "postgresql"));
}

Status SqlAuditStore::AppendBatch(const std::vector<AuditEntry>& entries) {
  if (entries.empty()) return InvalidArgument("empty audit batch");
  return db_->Write([&](Connection& db) -> Status {
    bool chained = true;  // each entry follows the one before it
    for (size_t i = 1; i < entries.size(); ++i) {
      chained = chained && entries[i].seq == entries[i - 1].seq + 1 &&
                entries[i].prev_hash == entries[i - 1].hash;
    }
    if (chained && db.DeferChecks()) {
      // The head's check as a statement that fails (division by zero) unless the stored head is
      // the first entry's predecessor: nothing waits for it. A failed write runs again, reading
      // the head, so that its error is the one below.
      ASSIGN_OR_RETURN(Statement check,
                       db.Prepare("SELECT 1 / (SELECT COUNT(*) FROM audit_head WHERE id = 1 AND "
                                  "seq = ? AND hash = ?)"));
      RETURN_IF_ERROR(check.Bind(entries.front().seq - 1, entries.front().prev_hash).Run());
    } else {
      ASSIGN_OR_RETURN(AuditHead head, ReadHead(db));
      int64_t seq = head.seq;
      const std::string* prev = &head.hash;
      for (const AuditEntry& e : entries) {
        if (e.seq != seq + 1 || e.prev_hash != *prev) {
          return FailedPrecondition("audit entry " + std::to_string(e.seq) +
                                    " does not follow the stored head (seq " +
                                    std::to_string(head.seq) + ") and the batch before it");
        }
        seq = e.seq;
        prev = &e.hash;
      }
    }
    ASSIGN_OR_RETURN(Statement insert,
                     db.Prepare("INSERT INTO audit_entries (" + std::string(kColumns) +
                                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    for (const AuditEntry& e : entries) {
      if (db.dialect() == sql::Dialect::kSqlite) {
        insert.Bind(e.seq, e.time_ms, e.principal, e.tenant, e.action, e.resource, e.outcome,
                    static_cast<int64_t>(e.status), e.request_id, e.client, e.prev_hash, e.hash);
      } else {
        insert.Bind(e.seq, e.time_ms, sql::Blob{e.principal}, sql::Blob{e.tenant},
                    sql::Blob{e.action}, sql::Blob{e.resource}, sql::Blob{e.outcome},
                    static_cast<int64_t>(e.status), sql::Blob{e.request_id}, sql::Blob{e.client},
                    e.prev_hash, e.hash);
      }
      RETURN_IF_ERROR(insert.Run());
      insert.Reset();
    }
    ASSIGN_OR_RETURN(Statement move_head,
                     db.Prepare("INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) "
                                "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, "
                                "hash = excluded.hash"));
    return move_head.Bind(entries.back().seq, entries.back().hash).Run();
  });
}

StatusOr<AuditPage> SqlAuditStore::Query(const AuditFilter& filter) {
  if (filter.limit < 1 || filter.limit > kMaxQueryLimit) {
    return InvalidArgument("audit query limit must be between 1 and " +
                           std::to_string(kMaxQueryLimit));
  }
  if (filter.after_seq < 0) return InvalidArgument("audit query cursor must not be negative");
  std::string sql = "SELECT " + std::string(kColumns) + " FROM audit_entries WHERE seq > ?";
  std::vector<sql::Value> values{filter.after_seq};
  AddClauses(filter, db_->dialect(), sql, values);
  sql += " ORDER BY seq LIMIT ?";
  values.emplace_back(static_cast<int64_t>(filter.limit) + 1);  // one more says "there is more"
  return db_->ReadValue([&](Connection& db) -> StatusOr<AuditPage> {
    ASSIGN_OR_RETURN(Statement s, db.Prepare(sql));
    s.BindAll(values);
    AuditPage page;
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      if (static_cast<int>(page.entries.size()) == filter.limit) {
        page.next_after_seq = page.entries.back().seq;
        break;
      }
      page.entries.push_back(ReadEntry(s));
    }
    return page;
  });
}

Status SqlAuditStore::Scan(int64_t from_seq, const ScanFn& fn) {
  int64_t next = from_seq;
  std::vector<AuditEntry> chunk;
  chunk.reserve(kScanChunk);
  while (true) {
    chunk.clear();
    RETURN_IF_ERROR(db_->Read([&](Connection& db) -> Status {
      ASSIGN_OR_RETURN(Statement s,
                       db.Prepare("SELECT " + std::string(kColumns) +
                                  " FROM audit_entries WHERE seq >= ? ORDER BY seq LIMIT ?"));
      s.Bind(next, static_cast<int64_t>(kScanChunk));
      while (true) {
        ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) return Status::Ok();
        chunk.push_back(ReadEntry(s));
      }
    }));
    // The callback runs outside the read transaction, so a slow consumer pins no snapshot.
    for (const AuditEntry& e : chunk) RETURN_IF_ERROR(fn(e));
    if (static_cast<int>(chunk.size()) < kScanChunk) return Status::Ok();
    next = chunk.back().seq + 1;
  }
}

StatusOr<AuditHead> SqlAuditStore::Head() {
  return db_->ReadValue([](Connection& db) { return ReadHead(db); });
}

}  // namespace cairn::audit
