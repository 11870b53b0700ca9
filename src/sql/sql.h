#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/status.h"
#include "pg/connection.h"
#include "pg/database.h"
#include "sqlite/connection.h"
#include "sqlite/database.h"

// One SQL API over both metadata engines, so that each domain store is written once and runs on
// SQLite (embedded) and PostgreSQL (scale-out) alike: Database (write with group commit, read in
// a snapshot), Connection, Statement. A store writes SQL both engines accept (standard upserts,
// ON CONFLICT, RETURNING, NULLS FIRST/LAST where order matters), and asks Dialect-specific
// spellings for the rest (JSON arrays as row sources, LIKE); see the helpers at the end.
namespace cairn::sql {

enum class Dialect { kSqlite, kPostgres };

// A value bound to a placeholder: NULL, integer, real or text.
using Value = std::variant<std::monostate, int64_t, double, std::string>;

// Binds as a BLOB / bytea (Bind() binds strings as text).
struct Blob {
  std::string_view bytes;
};

// A prepared statement of either engine; same contract as sqlite::Statement.
class Statement {
 public:
  Statement() = default;
  explicit Statement(sqlite::Statement s) : s_(std::move(s)) {}
  explicit Statement(pg::Statement s) : s_(std::move(s)) {}

  void BindNull(int index);
  void BindInt(int index, int64_t value);
  void BindDouble(int index, double value);
  void BindText(int index, std::string_view value);
  void BindBlob(int index, std::string_view bytes);
  void BindValue(int index, const Value& value);
  void BindAll(const std::vector<Value>& values, int first_index = 1);

  template <typename... Args>
  Statement& Bind(const Args&... args) {
    int index = 1;
    (BindOne(index++, args), ...);
    return *this;
  }

  StatusOr<bool> Step();
  Status Run();
  // Lets a PostgreSQL statement's answer share the next round trip (see pg::Statement::Send);
  // call it once its parameters are bound. SQLite: nothing (Step executes).
  Status Send();
  void Reset();

  bool IsNull(int column) const;
  int64_t Int(int column) const;
  double Double(int column) const;
  std::string Text(int column) const;
  std::string_view TextView(int column) const;
  std::string_view BlobView(int column) const;
  std::optional<std::string> OptionalText(int column) const;
  std::optional<int64_t> OptionalInt(int column) const;

 private:
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

  std::variant<std::monostate, sqlite::Statement, pg::Statement> s_;
};

// A connection of either engine, borrowed for the duration of one Write or Read.
class Connection {
 public:
  explicit Connection(sqlite::Connection& c) : c_(&c) {}
  explicit Connection(pg::Connection& c) : c_(&c) {}

  Dialect dialect() const {
    return std::holds_alternative<sqlite::Connection*>(c_) ? Dialect::kSqlite : Dialect::kPostgres;
  }
  bool postgres() const { return dialect() == Dialect::kPostgres; }

  Status Exec(std::string_view sql);
  StatusOr<Statement> Prepare(std::string_view sql);
  int64_t Changes() const;
  // Whether the current write may leave a check to a statement that fails when the check does,
  // without waiting for it (PostgreSQL's pipelined writer, see pg::Connection::DeferCheck). A
  // write that does so and fails runs again with this false: it must then check by reading, so
  // that its error is its own. Always false on SQLite and in reads.
  bool DeferChecks();

 private:
  std::variant<sqlite::Connection*, pg::Connection*> c_;
};

// A database of either engine. Same contract as sqlite::Database / pg::Database: Write runs `fn`
// in a savepoint of a write transaction (group commit) and returns after the commit; Read runs
// `fn` in a read snapshot.
class Database {
 public:
  using ConnectionFn = std::function<Status(Connection&)>;
  using DoneFn = std::function<void(Status)>;

  virtual ~Database() = default;
  virtual Dialect dialect() const = 0;
  virtual Status Write(const ConnectionFn& fn) = 0;
  virtual void WriteAsync(ConnectionFn fn, DoneFn done) = 0;
  virtual Status Read(const ConnectionFn& fn) = 0;
  // After an erasure: makes sure no copy of deleted rows stays in the engine's files where the
  // engine allows it (SQLite: truncates the WAL). PostgreSQL leaves dead rows to VACUUM, which the
  // operator runs; OK there.
  virtual Status CompactAfterErase() { return Status::Ok(); }
  // The SQLite database underneath, for tests of SQLite settings; null on PostgreSQL.
  virtual sqlite::Database* SqliteForTest() { return nullptr; }

  template <typename Fn>
  auto ReadValue(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
    std::optional<decltype(fn(std::declval<Connection&>()))> result;
    RETURN_IF_ERROR(Read([&](Connection& c) {
      result.emplace(fn(c));
      return result->status();
    }));
    return std::move(*result);
  }
};

std::shared_ptr<Database> WrapSqlite(std::shared_ptr<sqlite::Database> db);
std::shared_ptr<Database> WrapPostgres(std::shared_ptr<pg::Database> db);

// ---- Dialect helpers ----

// JSON array text, for one placeholder that carries any number of ids (see RowsOfJsonArray).
std::string JsonArray(const std::vector<std::string>& values);
std::string JsonArray(const std::vector<int64_t>& values);
// [["a",1],["b",2]]: composite keys (see PairsOfJsonArray).
std::string JsonArray(const std::vector<std::pair<std::string, int64_t>>& values);

// Row sources over the JSON array bound to `placeholder`, one cached statement for any number
// of ids: to join with or select from (a membership test is InJsonTexts / InJsonInts below).
// Texts and Ints have columns `key` (0-based position) and `value` (text; integer; Ints skips
// elements that are not integers); Pairs takes [["a",1],...] and has columns `key` (0-based
// position), `first` (text) and `second` (integer). PostgreSQL's are the functions of the
// schema's migrations 1 and 2 (cairn_json_texts, cairn_json_ints, cairn_json_pairs).
std::string JsonTexts(Dialect dialect, std::string_view placeholder = "?");
std::string JsonInts(Dialect dialect, std::string_view placeholder = "?");
std::string JsonPairs(Dialect dialect, std::string_view placeholder = "?");
// `<column> <this>`: the column is in the JSON array bound to `placeholder`. SQLite:
// `IN (SELECT value FROM json_each(?))`. PostgreSQL: `= ANY(ARRAY(SELECT value FROM
// cairn_json_texts(?)))`, which probes the column's index once per element; written as an IN
// list the planner takes it for a join and, on tables of some tens of thousands of rows, hashes
// a scan of the whole table instead (three times slower for a page of 100 runs' params).
std::string InJsonTexts(Dialect dialect, std::string_view placeholder = "?");
std::string InJsonInts(Dialect dialect, std::string_view placeholder = "?");

// An inner join whose left side the planner must scan first, for `a <this> b ON ...`: SQLite's
// CROSS JOIN (which keeps the written order); PostgreSQL plans JOIN order itself.
std::string_view OrderedJoin(Dialect dialect);

}  // namespace cairn::sql
