#pragma once

#include <chrono>
#include <cstdint>
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

using Value = std::variant<std::monostate, int64_t, double, std::string>;

// A prepared statement of one connection, with its bindings and, once stepped, its result. Not
// thread-safe; used by the thread that holds the connection. Must not outlive its connection.
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
  // row is available, false when done.
  StatusOr<bool> Step();
  // Executes, ignoring rows.
  Status Run();
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

  // Rows changed by the last INSERT/UPDATE/DELETE run on this connection.
  int64_t Changes() const { return changes_; }
  // False once the server connection is lost; the pool then drops it.
  bool Healthy() const;

  // Converts a failed result into a Status: UNAVAILABLE for a lost connection or an unavailable
  // server, ABORTED for serialization failures and deadlocks (the transaction may be retried),
  // ALREADY_EXISTS for a unique violation, INTERNAL otherwise. `what` names the operation.
  Status Error(const pg_result* result, std::string_view what) const;

 private:
  friend class Statement;
  Connection(pg_conn* conn, ConnectionOptions options);

  pg_conn* conn_;
  ConnectionOptions options_;
  int64_t changes_ = 0;
  uint64_t next_statement_ = 0;
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
