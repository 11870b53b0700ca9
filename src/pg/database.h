#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/group_commit.h"
#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "pg/connection.h"

namespace cairn::pg {

// One step of a schema history (see Migrate).
struct Migration {
  int version;                   // 1, 2, 3, ... without gaps
  std::string_view description;  // recorded with the version
  std::string_view sql;          // one or more statements, run in one transaction
};

struct DatabaseOptions {
  // Connections used for reads (opened on demand, kept while healthy).
  int reader_connections = 8;
  // Runs on every new connection (e.g. SET search_path); see ConnectionOptions.
  std::string session_setup;
  std::string application_name = "cairn";
  // The table recording applied migrations: two schema histories (e.g. metadata and the audit
  // log) can share one PostgreSQL schema with a table each.
  std::string migrations_table = "schema_version";
  // The advisory lock every write transaction takes; databases whose writes need not be
  // serialized with each other take different keys.
  int64_t write_lock_key = 0x636169726e5700;  // "cairnW"
  // How long a read waits for a free connection, and a connection attempt for the server.
  std::chrono::milliseconds acquire_timeout{10000};
  // Runs the connections in libpq's pipeline mode (see Connection): statements whose answers are
  // not needed at once share round trips. Off: every statement waits for its answer.
  bool pipeline = true;
};

// A PostgreSQL database used by every replica of the server at once.
//
// Writes: each process has one writer connection; writes run as in the SQLite backend, in a
// savepoint of a transaction, with group commit (writes that queue while a transaction runs
// share the next one). Every write transaction first takes one transaction-scoped advisory lock,
// so write transactions of all replicas run one at a time: the stores' read-check-write logic
// (unique names, next version numbers, state checks) sees exactly the single-writer world it
// sees on SQLite, with no serialization failures to retry. Reads never wait for it.
//
// Reads: a pool of connections; each read runs in a REPEATABLE READ, READ ONLY transaction, so
// it sees one snapshot, like a SQLite read transaction.
//
// Round trips (pipeline mode, the default): BEGIN and the lock travel with a write's first
// statement that needs an answer, statements run with Statement::Run travel with the next one,
// and a write alone in its group sends its COMMIT with its last statements. A write's errors are
// its own: each write of a group is synced before the next one starts, and the first error of
// its statements is what it returns, whatever `fn` made of it. A read's BEGIN travels with its
// first statement, and its COMMIT is sent without waiting (a read-only transaction has nothing
// to lose there); the answer is read when the connection is next used.
//
// A connection found broken (server restart, network) is dropped and a new one opened on the
// next use; a write whose transaction never reached COMMIT is retried once on a new connection
// (with a COMMIT sent in the same round trip: when the server said it ended the session before
// the COMMIT, e.g. pg_terminate_backend; a COMMIT whose fate is unknown is reported, never
// retried). Thread-safe.
class Database {
 public:
  using ConnectionFn = std::function<Status(Connection&)>;
  using DoneFn = std::function<void(Status)>;

  // Connects, then brings the schema to the newest of `migrations` (safe when several replicas
  // start at once: see Migrate).
  static StatusOr<std::unique_ptr<Database>> Open(const std::string& conninfo,
                                                  const std::vector<Migration>& migrations,
                                                  DatabaseOptions options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs `fn` in a savepoint of a write transaction and returns once it committed: `fn`'s
  // changes are kept if it returns OK, else rolled back and its error returned. `fn` may run more
  // than once (after a lost connection, or when a write of its group failed): what it leaves
  // outside the database must be set afresh on each run.
  Status Write(const ConnectionFn& fn) EXCLUDES(write_mu_);
  // Write without waiting: `done` gets what Write would have returned, on the thread that ran
  // the group. `done` must be quick and must not call back into this database.
  void WriteAsync(ConnectionFn fn, DoneFn done) EXCLUDES(write_mu_);
  // Runs `fn` in a read-only snapshot transaction on a pooled connection.
  Status Read(const ConnectionFn& fn) EXCLUDES(pool_mu_);

  // The schema version of the database.
  StatusOr<int> SchemaVersionForTest() EXCLUDES(write_mu_);

 private:
  Database(std::string conninfo, DatabaseOptions options);
  Status Init(const std::vector<Migration>& migrations);
  StatusOr<std::unique_ptr<Connection>> Connect() const;

  using Group = GroupCommit<Connection>::Group;
  // Runs one group of the group commit as one write transaction (TryWriteGroup, retried).
  void RunWriteGroup(const Group& group) EXCLUDES(write_mu_);
  // One attempt at a group: false when the transaction failed before COMMIT was sent on a
  // connection that turned out broken (nothing was written; the caller may retry).
  bool TryWriteGroup(const Group& group) REQUIRES(write_mu_);

  const std::string conninfo_;
  const DatabaseOptions options_;

  Mutex write_mu_;
  std::unique_ptr<Connection> writer_ GUARDED_BY(write_mu_);

  GroupCommit<Connection> group_commit_;  // started by Init, stopped first by the destructor

  Mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<Connection>> idle_readers_ GUARDED_BY(pool_mu_);
  int open_readers_ GUARDED_BY(pool_mu_) = 0;
};

// Brings the database to the newest version in `steps`, holding a session advisory lock, so that
// when several replicas start at once the first migrates while the others wait and then find
// nothing to do. Each step runs in its own transaction with its schema_version row; a failed
// step leaves the database at the step before. FAILED_PRECONDITION when the database already
// has a version newer than `steps` know.
// `table` records the applied steps.
Status Migrate(Connection& connection, const std::vector<Migration>& steps,
               std::string_view table = "schema_version");

// The newest version applied, 0 for a database never migrated.
StatusOr<int> SchemaVersion(Connection& connection, std::string_view table = "schema_version");

// The session advisory lock migrations take.
inline constexpr int64_t kMigrateLockKey = 0x636169726e4d00;  // "cairnM"

}  // namespace cairn::pg
