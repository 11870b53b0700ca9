#include "sql/sql.h"

#include <utility>

namespace cairn::sql {
namespace {

// Calls `fn` on the statement of either engine; a default-constructed Statement has none.
template <typename R, typename S, typename Fn>
R Visit(S& s, R empty, Fn&& fn) {
  if (auto* lite = std::get_if<sqlite::Statement>(&s)) return fn(*lite);
  if (auto* pg = std::get_if<pg::Statement>(&s)) return fn(*pg);
  return empty;
}

template <typename S, typename Fn>
void VisitVoid(S& s, Fn&& fn) {
  if (auto* lite = std::get_if<sqlite::Statement>(&s)) {
    fn(*lite);
  } else if (auto* pg = std::get_if<pg::Statement>(&s)) {
    fn(*pg);
  }
}

Status NotPrepared() { return Internal("statement is not prepared"); }

}  // namespace

// ---- Statement ----

void Statement::BindNull(int index) {
  VisitVoid(s_, [&](auto& s) { s.BindNull(index); });
}
void Statement::BindInt(int index, int64_t value) {
  VisitVoid(s_, [&](auto& s) { s.BindInt(index, value); });
}
void Statement::BindDouble(int index, double value) {
  VisitVoid(s_, [&](auto& s) { s.BindDouble(index, value); });
}
void Statement::BindText(int index, std::string_view value) {
  VisitVoid(s_, [&](auto& s) { s.BindText(index, value); });
}
void Statement::BindBlob(int index, std::string_view bytes) {
  VisitVoid(s_, [&](auto& s) { s.BindBlob(index, bytes); });
}
void Statement::BindValue(int index, const Value& value) {
  VisitVoid(s_, [&](auto& s) { s.BindValue(index, value); });
}
void Statement::BindAll(const std::vector<Value>& values, int first_index) {
  VisitVoid(s_, [&](auto& s) { s.BindAll(values, first_index); });
}

StatusOr<bool> Statement::Step() {
  return Visit(s_, StatusOr<bool>(NotPrepared()), [](auto& s) { return s.Step(); });
}
Status Statement::Run() {
  return Visit(s_, NotPrepared(), [](auto& s) { return s.Run(); });
}
Status Statement::Send() {
  if (auto* pg = std::get_if<pg::Statement>(&s_)) return pg->Send();
  return Status::Ok();
}
void Statement::Reset() {
  VisitVoid(s_, [](auto& s) { s.Reset(); });
}

bool Statement::IsNull(int column) const {
  return Visit(s_, true, [&](const auto& s) { return s.IsNull(column); });
}
int64_t Statement::Int(int column) const {
  return Visit(s_, int64_t{0}, [&](const auto& s) { return s.Int(column); });
}
double Statement::Double(int column) const {
  return Visit(s_, 0.0, [&](const auto& s) { return s.Double(column); });
}
std::string Statement::Text(int column) const {
  return Visit(s_, std::string(), [&](const auto& s) { return s.Text(column); });
}
std::string_view Statement::TextView(int column) const {
  return Visit(s_, std::string_view(), [&](const auto& s) { return s.TextView(column); });
}
std::string_view Statement::BlobView(int column) const {
  return Visit(s_, std::string_view(), [&](const auto& s) { return s.BlobView(column); });
}
std::optional<std::string> Statement::OptionalText(int column) const {
  return Visit(s_, std::optional<std::string>(),
               [&](const auto& s) { return s.OptionalText(column); });
}
std::optional<int64_t> Statement::OptionalInt(int column) const {
  return Visit(s_, std::optional<int64_t>(), [&](const auto& s) { return s.OptionalInt(column); });
}

// ---- Connection ----

Status Connection::Exec(std::string_view sql) {
  return std::visit([&](auto* c) { return c->Exec(sql); }, c_);
}

StatusOr<Statement> Connection::Prepare(std::string_view sql) {
  return std::visit(
      [&](auto* c) -> StatusOr<Statement> {
        ASSIGN_OR_RETURN(auto s, c->Prepare(sql));
        return Statement(std::move(s));
      },
      c_);
}

bool Connection::DeferChecks() {
  if (auto* pg = std::get_if<pg::Connection*>(&c_)) return (*pg)->DeferCheck();
  return false;
}

int64_t Connection::Changes() const {
  return std::visit([](auto* c) { return c->Changes(); }, c_);
}

// ---- Database ----

namespace {

class SqliteDatabase final : public Database {
 public:
  explicit SqliteDatabase(std::shared_ptr<sqlite::Database> db) : db_(std::move(db)) {}
  Dialect dialect() const override { return Dialect::kSqlite; }
  Status Write(const ConnectionFn& fn) override {
    return db_->Write([&](sqlite::Connection& c) {
      Connection connection(c);
      return fn(connection);
    });
  }
  void WriteAsync(ConnectionFn fn, DoneFn done) override {
    db_->WriteAsync(
        [fn = std::move(fn)](sqlite::Connection& c) {
          Connection connection(c);
          return fn(connection);
        },
        std::move(done));
  }
  Status Read(const ConnectionFn& fn) override {
    return db_->Read([&](sqlite::Connection& c) {
      Connection connection(c);
      return fn(connection);
    });
  }
  Status CompactAfterErase() override { return db_->CheckpointTruncate(); }
  sqlite::Database* SqliteForTest() override { return db_.get(); }

 private:
  std::shared_ptr<sqlite::Database> db_;
};

class PostgresDatabase final : public Database {
 public:
  explicit PostgresDatabase(std::shared_ptr<pg::Database> db) : db_(std::move(db)) {}
  Dialect dialect() const override { return Dialect::kPostgres; }
  Status Write(const ConnectionFn& fn) override {
    return db_->Write([&](pg::Connection& c) {
      Connection connection(c);
      return fn(connection);
    });
  }
  void WriteAsync(ConnectionFn fn, DoneFn done) override {
    db_->WriteAsync(
        [fn = std::move(fn)](pg::Connection& c) {
          Connection connection(c);
          return fn(connection);
        },
        std::move(done));
  }
  Status Read(const ConnectionFn& fn) override {
    return db_->Read([&](pg::Connection& c) {
      Connection connection(c);
      return fn(connection);
    });
  }

 private:
  std::shared_ptr<pg::Database> db_;
};

}  // namespace

std::shared_ptr<Database> WrapSqlite(std::shared_ptr<sqlite::Database> db) {
  return std::make_shared<SqliteDatabase>(std::move(db));
}

std::shared_ptr<Database> WrapPostgres(std::shared_ptr<pg::Database> db) {
  return std::make_shared<PostgresDatabase>(std::move(db));
}

// ---- Dialect helpers ----

std::string JsonArray(const std::vector<std::string>& values) { return sqlite::JsonArray(values); }
std::string JsonArray(const std::vector<int64_t>& values) { return sqlite::JsonArray(values); }
std::string JsonArray(const std::vector<std::pair<std::string, int64_t>>& values) {
  return sqlite::JsonArray(values);
}

std::string JsonTexts(Dialect dialect, std::string_view placeholder) {
  std::string out = dialect == Dialect::kSqlite ? "json_each(" : "cairn_json_texts(";
  out += placeholder;
  out += ')';
  return out;
}

std::string JsonInts(Dialect dialect, std::string_view placeholder) {
  std::string out = dialect == Dialect::kSqlite ? "json_each(" : "cairn_json_ints(";
  out += placeholder;
  out += ')';
  return out;
}

namespace {

std::string InJsonList(Dialect dialect, std::string_view source) {
  return dialect == Dialect::kSqlite
             ? "IN (SELECT value FROM " + std::string(source) + ")"
             : "= ANY(ARRAY(SELECT value FROM " + std::string(source) + "))";
}

}  // namespace

std::string InJsonTexts(Dialect dialect, std::string_view placeholder) {
  return InJsonList(dialect, JsonTexts(dialect, placeholder));
}

std::string InJsonInts(Dialect dialect, std::string_view placeholder) {
  return InJsonList(dialect, JsonInts(dialect, placeholder));
}

std::string JsonPairs(Dialect dialect, std::string_view placeholder) {
  std::string out = dialect == Dialect::kSqlite
                        ? "(SELECT key, json_extract(value, '$[0]') AS first, "
                          "json_extract(value, '$[1]') AS second FROM json_each("
                        : "cairn_json_pairs(";
  out += placeholder;
  out += dialect == Dialect::kSqlite ? "))" : ")";
  return out;
}

std::string_view OrderedJoin(Dialect dialect) {
  return dialect == Dialect::kSqlite ? "CROSS JOIN" : "JOIN";
}

}  // namespace cairn::sql
