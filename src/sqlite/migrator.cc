#include "sqlite/migrator.h"

#include <chrono>
#include <string>

namespace cairn::sqlite {
namespace {

constexpr std::string_view kCreateVersionTable =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    "version INTEGER NOT NULL PRIMARY KEY, "
    "description TEXT NOT NULL, "
    "applied_at_ms INTEGER NOT NULL)";

StatusOr<int> ReadVersion(Connection& connection) {
  ASSIGN_OR_RETURN(Statement stmt,
                   connection.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return 0;
  return static_cast<int>(stmt.Int(0));
}

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status Migrate(Connection& connection, const std::vector<Migration>& steps) {
  ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(connection, Transaction::Kind::kImmediate));
  RETURN_IF_ERROR(connection.Exec(kCreateVersionTable));
  ASSIGN_OR_RETURN(int current, ReadVersion(connection));
  int newest = steps.empty() ? 0 : steps.back().version;
  if (current > newest) {
    return FailedPrecondition("database schema version " + std::to_string(current) +
                              " is newer than this binary supports (" + std::to_string(newest) +
                              ")");
  }
  int expected = 1;
  for (const Migration& step : steps) {
    if (step.version != expected++) {
      return Internal("migration versions must be 1, 2, 3, ... without gaps");
    }
    if (step.version <= current) continue;
    Status status = connection.Exec(step.sql);
    if (!status.ok()) {
      return Status(status.code(), "migration " + std::to_string(step.version) + " (" +
                                       std::string(step.description) +
                                       ") failed: " + status.message());
    }
    ASSIGN_OR_RETURN(Statement record,
                     connection.Prepare("INSERT INTO schema_version (version, description, "
                                        "applied_at_ms) VALUES (?, ?, ?)"));
    RETURN_IF_ERROR(record.Bind(int64_t{step.version}, step.description, NowMillis()).Run());
  }
  return txn.Commit();
}

StatusOr<int> SchemaVersion(Connection& connection) {
  ASSIGN_OR_RETURN(Statement exists,
                   connection.Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                                      "name = 'schema_version'"));
  ASSIGN_OR_RETURN(bool row, exists.Step());
  if (!row) return 0;
  return ReadVersion(connection);
}

}  // namespace cairn::sqlite
