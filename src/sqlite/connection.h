#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "base/status.h"

struct sqlite3;
struct sqlite3_stmt;

// Thin RAII layer over the SQLite C API: connections with a cache of prepared statements,
// statements with typed binding and reading, and transactions that roll back unless committed.
namespace cairn::sqlite {

class Connection;

// A value bound to a placeholder: NULL, integer, real or text (metadata::SqlValue is the same
// type).
using Value = std::variant<std::monostate, int64_t, double, std::string>;

// Binds as a BLOB (Bind() binds strings as TEXT).
struct Blob {
  std::string_view bytes;
};

// A prepared statement borrowed from a connection's cache (or owned, when the cached one is in
// use or the cache is full). Destruction resets it and clears its bindings. Not thread-safe; used
// by the thread that holds the connection. Must not outlive its connection.
class Statement {
 public:
  Statement() = default;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Binding; `index` is 1-based. A bind error is reported by the next Step/Run.
  void BindNull(int index);
  void BindInt(int index, int64_t value);
  void BindDouble(int index, double value);  // NaN binds as NULL in SQLite
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

  // Advances; true when a row is available, false when done.
  StatusOr<bool> Step();
  // Steps until done, ignoring rows.
  Status Run();
  // Makes the statement ready to be bound and run again (bindings are kept until rebound).
  void Reset();

  bool IsNull(int column) const;
  int64_t Int(int column) const;
  double Double(int column) const;
  std::string Text(int column) const;
  std::string_view TextView(int column) const;  // valid until the next Step/reset
  std::string_view BlobView(int column) const;  // valid until the next Step/reset
  std::optional<std::string> OptionalText(int column) const;
  std::optional<int64_t> OptionalInt(int column) const;

 private:
  friend class Connection;
  struct CacheEntry;
  Statement(Connection* connection, sqlite3_stmt* stmt, CacheEntry* entry);
  void Release();

  void BindOne(int index, int64_t v) { BindInt(index, v); }
  void BindOne(int index, int v) { BindInt(index, v); }
  void BindOne(int index, double v) { BindDouble(index, v); }
  void BindOne(int index, std::string_view v) { BindText(index, v); }
  void BindOne(int index, const std::string& v) { BindText(index, v); }
  void BindOne(int index, const char* v) { BindText(index, v); }
  void BindOne(int index, std::nullptr_t) { BindNull(index); }
  void BindOne(int index, Blob v) { BindBlob(index, v.bytes); }
  void BindOne(int index, const std::optional<std::string>& v) {
    v ? BindText(index, *v) : BindNull(index);
  }
  void BindOne(int index, const std::optional<int64_t>& v) {
    v ? BindInt(index, *v) : BindNull(index);
  }
  void NoteBindError(int rc);

  Connection* connection_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  CacheEntry* entry_ = nullptr;  // null when owned
  int bind_error_ = 0;
};

struct ConnectionOptions {
  std::chrono::milliseconds busy_timeout{10000};
  bool synchronous_full = false;
  bool read_only = false;  // sets query_only; the file must exist
  // Opens an existing file of another program (e.g. an MLflow database) read-only at the OS
  // level and leaves its settings alone: no switch to WAL, no durability pragmas. Implies
  // read_only.
  bool foreign_read_only = false;
  bool wal_autocheckpoint = true;              // false leaves checkpoints to someone else
  std::size_t statement_cache_capacity = 256;  // least recently used statements are evicted
};

// One SQLite connection. Not thread-safe: one thread at a time (the store's pools see to that).
class Connection {
 public:
  // Opens (creating if needed) the database at `path` in WAL mode with foreign keys on, and
  // registers the SQL function cairn_like(value, pattern, case_insensitive).
  static StatusOr<std::unique_ptr<Connection>> Open(const std::string& path,
                                                    const ConnectionOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements without parameters (DDL, pragmas, BEGIN/COMMIT).
  Status Exec(std::string_view sql);
  // Returns a prepared statement for `sql`, from the cache when possible.
  StatusOr<Statement> Prepare(std::string_view sql);

  bool IsCachedForTest(std::string_view sql) const { return cache_.count(std::string(sql)) > 0; }

  int64_t Changes() const;
  int64_t LastInsertRowid() const;
  sqlite3* raw() { return db_; }

  // Calls `hook` with the number of frames in the WAL after each commit on this connection,
  // instead of SQLite's automatic checkpoint on the committing thread.
  void SetWalHook(std::function<void(int frames)> hook);
  // Copies committed WAL frames into the database file without blocking readers or writers.
  Status CheckpointPassive();

  // Converts a SQLite result code into a Status; `what` names the operation.
  Status Error(int rc, std::string_view what) const;

 private:
  friend class Statement;
  explicit Connection(sqlite3* db, std::size_t cache_capacity);
  // Finalizes the idle cached statement used longest ago; false if every entry is in use.
  bool EvictLeastRecentlyUsed();

  sqlite3* db_;
  std::size_t cache_capacity_;
  std::function<void(int)> wal_hook_;
  uint64_t use_clock_ = 0;
  std::unordered_map<std::string, std::unique_ptr<Statement::CacheEntry>> cache_;
};

// A transaction on one connection that rolls back on destruction unless committed.
class Transaction {
 public:
  enum class Kind { kDeferred, kImmediate };
  static StatusOr<Transaction> Begin(Connection& connection, Kind kind);
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  Status Commit();

 private:
  explicit Transaction(Connection* connection) : connection_(connection) {}
  Connection* connection_;  // null once finished
};

// Encodes strings as a JSON array, for `IN (SELECT value FROM json_each(?))`, which keeps one
// cached statement for any number of ids.
std::string JsonArray(const std::vector<std::string>& values);
std::string JsonArray(const std::vector<int64_t>& values);
// [["a",1],["b",2]]: composite keys, read back with json_extract(value, '$[0]') and '$[1]'.
std::string JsonArray(const std::vector<std::pair<std::string, int64_t>>& values);

}  // namespace cairn::sqlite
