#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "base/status.h"

struct pg_conn;
struct pg_result;

// Thin RAII layer over libpq, shaped like sqlite/connection.h so that one store implementation
// runs on both (see sql/sql.h): connections with a cache of server-side prepared statements,
// statements with typed binding and reading, `?` placeholders (rewritten to `$n`).
//
// Values travel as text: parameters are sent untyped and PostgreSQL infers their types from the
// statement, as it does for literals; results are read as text and converted on access. Integers
// and doubles therefore round-trip exactly (doubles are sent with 17 significant digits), and
// bytea columns come back hex-encoded and are decoded by BlobView.
namespace cairn::pg {

class Connection;
struct PendingResult;

using Value = std::variant<std::monostate, int64_t, double, std::string>;

// A prepared statement of one connection, with its bindings and, once stepped, its result. Not
// thread-safe; used by the thread that holds the connection. Must not outlive its connection.
//
// On a pipelined connection (Connection::EnterPipeline) Run only queues the statement: its
// outcome, error included, is known at the connection's next Sync (which Step, Changes and Exec
// do); see Connection.
class Statement {
 public:
  Statement() = default;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Binding; `index` is 1-based. NaN binds as NULL, as in SQLite, so that both backends store
  // the same thing.
  void BindNull(int index);
  void BindInt(int index, int64_t value);
  void BindDouble(int index, double value);
  void BindText(int index, std::string_view value);
  void BindBlob(int index, std::string_view bytes);
  void BindValue(int index, const Value& value);
  void BindAll(const std::vector<Value>& values, int first_index = 1);

  // Binds the arguments to positions 1..n.
  template <typename... Args>
  Statement& Bind(const Args&... args) {
    int index = 1;
    (BindOne(index++, args), ...);
    return *this;
  }

  // Executes on the first call (the whole result is fetched), then walks its rows: true when a
  // row is available, false when done. On a pipelined connection, also reports the first
  // failure of what was queued before it.
  StatusOr<bool> Step();
  // Executes, ignoring rows. On a pipelined connection it is queued and OK means only "sent":
  // a failure is reported by the connection's next Sync (see Connection::Sync).
  Status Run();
  // On a pipelined connection, sends the statement now so that its answer travels with the
  // next round trip, and the first Step reads it without one of its own (bindings made later
  // are not seen). Elsewhere nothing: the first Step executes.
  Status Send();
  // Forgets the result, so that the next Step executes again (bindings are kept).
  void Reset();

  bool IsNull(int column) const;
  int64_t Int(int column) const;
  double Double(int column) const;
  std::string Text(int column) const;
  std::string_view TextView(int column) const;  // valid until the next Step/reset
  std::string_view BlobView(int column) const;  // valid until the next BlobView/Step/reset
  std::optional<std::string> OptionalText(int column) const;
  std::optional<int64_t> OptionalInt(int column) const;

 private:
  friend class Connection;
  Statement(Connection* connection, std::string name, std::string sql, int params);
  void Clear();
  Status Execute();
  // Sends the statement (pipelined connections); `keep_result` asks for its rows.
  Status Send(bool keep_result);
  // The bound parameters as libpq takes them (null for NULL); INVALID_ARGUMENT for a NUL byte.
  StatusOr<std::vector<const char*>> ParamValues() const;

  void BindOne(int index, int64_t v) { BindInt(index, v); }
  void BindOne(int index, int v) { BindInt(index, v); }
  void BindOne(int index, double v) { BindDouble(index, v); }
  void BindOne(int index, std::string_view v) { BindText(index, v); }
  void BindOne(int index, const std::string& v) { BindText(index, v); }
  void BindOne(int index, const char* v) { BindText(index, v); }
  void BindOne(int index, std::nullptr_t) { BindNull(index); }
  void BindOne(int index, const std::optional<std::string>& v) {
    v ? BindText(index, *v) : BindNull(index);
  }
  void BindOne(int index, const std::optional<int64_t>& v) {
    v ? BindInt(index, *v) : BindNull(index);
  }

  Connection* connection_ = nullptr;
  std::string name_;  // the server-side prepared statement; empty: sql_ is sent each time
  std::string sql_;   // with $n placeholders; set only when name_ is empty
  std::vector<std::optional<std::string>> params_;
  pg_result* result_ = nullptr;
  std::shared_ptr<PendingResult> pending_;  // sent, answer not read yet (pipelined)
  int rows_ = 0;
  int row_ = -1;
  mutable std::string blob_;  // the last BlobView, decoded
};

struct ConnectionOptions {
  // Runs on every new connection, e.g. "SET search_path TO ..." (empty: nothing).
  std::string session_setup;
  std::string application_name = "cairn";  // shown in pg_stat_activity
  std::chrono::milliseconds connect_timeout{10000};
  // Statements prepared on the server per connection; beyond it, new SQL texts are sent whole
  // each time (search queries differ by filter and would otherwise fill it).
  std::size_t statement_cache_capacity = 512;
};

// One PostgreSQL connection. Not thread-safe: one thread at a time (the database's pool sees to
// that).
//
// Pipeline mode (EnterPipeline, libpq's pipeline mode): statements whose results are not needed
// (Statement::Run, Queue) are sent without waiting for their answers, and the answers are read
// at the next Sync: Statement::Step, Changes, Exec and Prepare sync. So a write that runs
// INSERT, INSERT, SELECT costs one round trip, not three. The first failure since the last
// ClearFailure is remembered (failure()) and every Sync reports it until cleared: a statement
// queued after a failed one is skipped by the server (its transaction is aborted anyway), and the
// status a caller sees is the first error, as if each statement had waited for its answer.
// Entries carry the tag current when they were queued (set_tag), so the owner can tell which
// part of its work a failure belongs to. Without pipeline mode every statement waits for its
// answer, and failures are remembered the same way.
class Connection {
 public:
  // `conninfo` is anything libpq's PQconnectdb takes (a postgresql:// URI or key=value pairs).
  static StatusOr<std::unique_ptr<Connection>> Open(const std::string& conninfo,
                                                    const ConnectionOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements without parameters (DDL, BEGIN/COMMIT).
  Status Exec(std::string_view sql);
  // Returns a statement for `sql` (with `?` placeholders), prepared on the server once per
  // connection.
  StatusOr<Statement> Prepare(std::string_view sql);

  // Rows changed by the last INSERT/UPDATE/DELETE run on this connection (syncs first when
  // pipelined; 0 when that fails, whose error the next Sync reports).
  int64_t Changes();
  // False once the server connection is lost; the pool then drops it.
  bool Healthy() const;

  // ---- pipeline mode ----

  // Switches to pipeline mode (nothing may be pending). Exec of several statements leaves it
  // for that call.
  Status EnterPipeline();
  bool pipelined() const { return pipelined_; }
  // Queues one parameterless statement (pipelined; else runs it; a failure is remembered).
  void Queue(std::string_view sql);
  // Sends a sync point and reads every answer queued before it; returns the remembered failure
  // (OK when none).
  Status Sync();
  // Sends a sync point without reading the answers: the server runs what was queued now, and the
  // next Sync reads the answers (for a COMMIT whose outcome the caller does not wait for).
  void SendSync();
  // Whether answers are still to be read.
  bool HasPending() const { return !pending_.empty(); }

  struct Failure {
    Status status;
    int tag = 0;  // the tag of the statement that failed
    // The server reported it ended the session (FATAL, e.g. pg_terminate_backend) at that
    // statement: statements queued after it were never run.
    bool server_ended = false;
  };
  // The first failure since the last ClearFailure, if any.
  const std::optional<Failure>& failure() const { return failure_; }
  void ClearFailure() { failure_.reset(); }
  // Tags the statements queued from now on.
  void set_tag(int tag) { tag_ = tag; }

  // Deferred checks: a write may check a condition with a statement that fails when the
  // condition does not hold, instead of reading it and waiting, when the connection's owner can
  // sort such a failure out (Database runs the write again without deferring, so that the error
  // is the store's own). DeferCheck: whether the current write may; asking marks the write as
  // having deferred a check (deferred_check).
  bool DeferCheck() {
    if (!pipelined_ || !defer_checks_) return false;
    deferred_check_ = true;
    return true;
  }
  void set_defer_checks(bool allowed) {
    defer_checks_ = allowed;
    deferred_check_ = false;
  }
  bool deferred_check() const { return deferred_check_; }

  // Converts a failed result into a Status: UNAVAILABLE for a lost connection or an unavailable
  // server, ABORTED for serialization failures and deadlocks (the transaction may be retried),
  // ALREADY_EXISTS for a unique violation, INTERNAL otherwise. `what` names the operation.
  Status Error(const pg_result* result, std::string_view what) const;

 private:
  friend class Statement;
  Connection(pg_conn* conn, ConnectionOptions options);

  // An answer to read at the next Sync: one statement's result or a sync point.
  struct Pending {
    int tag = 0;
    bool sync = false;
    std::string what;                       // names the statement in errors
    std::shared_ptr<PendingResult> result;  // where its rows go; null: not needed
  };
  // Records a sent statement.
  void AddPending(std::string what, std::shared_ptr<PendingResult> result);
  // Remembers `status` unless a failure is remembered already.
  void Fail(Status status, int tag, bool server_ended);
  // A failed send: the connection is unusable.
  Status SendFailed(std::string_view what);

  pg_conn* conn_;
  ConnectionOptions options_;
  int64_t changes_ = 0;
  uint64_t next_statement_ = 0;
  bool pipelined_ = false;
  bool defer_checks_ = false;
  bool deferred_check_ = false;
  int tag_ = 0;
  std::deque<Pending> pending_;
  std::optional<Failure> failure_;
  struct Prepared {
    std::string name;
    int params = 0;
  };
  std::unordered_map<std::string, Prepared> cache_;
};

// `sql` with each `?` outside quotes and comments replaced by $1, $2, ...; sets `*count` to the
// number of placeholders.
std::string NumberPlaceholders(std::string_view sql, int* count);

// A PostgreSQL string literal ('...' with quotes doubled) for `value`: for the few statements
// that cannot take parameters (SET, DDL).
std::string QuoteLiteral(std::string_view value);
// A quoted identifier ("..." with quotes doubled).
std::string QuoteIdentifier(std::string_view name);

}  // namespace cairn::pg
