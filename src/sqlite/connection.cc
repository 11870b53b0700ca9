#include "sqlite/connection.h"

#include <sqlite3.h>

#include <cstdio>
#include <thread>

#include "filter/filter.h"

namespace cairn::sqlite {

struct Statement::CacheEntry {
  sqlite3_stmt* stmt = nullptr;
  bool in_use = false;
  uint64_t last_used = 0;  // Connection::use_clock_ at the last Prepare
};

namespace {

// cairn_like(value, pattern, case_insensitive): SQL LIKE with the search grammar's semantics
// (case-sensitive unless asked; SQLite's own LIKE folds ASCII case and its pragma to change that
// is per connection, not per expression).
void LikeFunction(sqlite3_context* context, int argc, sqlite3_value** argv) {
  if (argc != 3 || sqlite3_value_type(argv[0]) == SQLITE_NULL ||
      sqlite3_value_type(argv[1]) == SQLITE_NULL) {
    sqlite3_result_null(context);
    return;
  }
  const auto* value = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  int value_size = sqlite3_value_bytes(argv[0]);
  const auto* pattern = reinterpret_cast<const char*>(sqlite3_value_text(argv[1]));
  int pattern_size = sqlite3_value_bytes(argv[1]);
  bool case_insensitive = sqlite3_value_int(argv[2]) != 0;
  bool match = filter::LikeMatch(std::string_view(value, value_size),
                                 std::string_view(pattern, pattern_size), case_insensitive);
  sqlite3_result_int(context, match ? 1 : 0);
}

void AppendJsonString(std::string_view s, std::string& out) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

}  // namespace

// ---- Statement ----

Statement::Statement(Connection* connection, sqlite3_stmt* stmt, CacheEntry* entry)
    : connection_(connection), stmt_(stmt), entry_(entry) {}

Statement::Statement(Statement&& other) noexcept
    : connection_(other.connection_),
      stmt_(other.stmt_),
      entry_(other.entry_),
      bind_error_(other.bind_error_) {
  other.stmt_ = nullptr;
  other.entry_ = nullptr;
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    Release();
    connection_ = other.connection_;
    stmt_ = other.stmt_;
    entry_ = other.entry_;
    bind_error_ = other.bind_error_;
    other.stmt_ = nullptr;
    other.entry_ = nullptr;
  }
  return *this;
}

Statement::~Statement() { Release(); }

void Statement::Release() {
  if (stmt_ == nullptr) return;
  if (entry_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    entry_->in_use = false;
  } else {
    sqlite3_finalize(stmt_);
  }
  stmt_ = nullptr;
  entry_ = nullptr;
}

void Statement::NoteBindError(int rc) {
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
}

void Statement::BindNull(int index) { NoteBindError(sqlite3_bind_null(stmt_, index)); }
void Statement::BindInt(int index, int64_t value) {
  NoteBindError(sqlite3_bind_int64(stmt_, index, value));
}
void Statement::BindDouble(int index, double value) {
  NoteBindError(sqlite3_bind_double(stmt_, index, value));
}
void Statement::BindText(int index, std::string_view value) {
  NoteBindError(
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
}

void Statement::BindBlob(int index, std::string_view bytes) {
  NoteBindError(sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT));
}

void Statement::BindValue(int index, const Value& value) {
  if (const auto* i = std::get_if<int64_t>(&value)) {
    BindInt(index, *i);
  } else if (const auto* d = std::get_if<double>(&value)) {
    BindDouble(index, *d);
  } else if (const auto* s = std::get_if<std::string>(&value)) {
    BindText(index, *s);
  } else {
    BindNull(index);
  }
}

void Statement::BindAll(const std::vector<Value>& values, int first_index) {
  for (size_t i = 0; i < values.size(); ++i) {
    BindValue(first_index + static_cast<int>(i), values[i]);
  }
}

StatusOr<bool> Statement::Step() {
  if (stmt_ == nullptr) return Internal("step on an empty statement");
  if (bind_error_ != 0) {
    int rc = bind_error_;
    bind_error_ = 0;
    return connection_->Error(rc, "bind");
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status status = connection_->Error(rc, sqlite3_sql(stmt_));
  sqlite3_reset(stmt_);
  return status;
}

Status Statement::Run() {
  while (true) {
    ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

void Statement::Reset() {
  if (stmt_ != nullptr) sqlite3_reset(stmt_);
  bind_error_ = 0;
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}
int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::Double(int column) const { return sqlite3_column_double(stmt_, column); }
std::string_view Statement::TextView(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (text == nullptr) return {};
  return {text, static_cast<size_t>(sqlite3_column_bytes(stmt_, column))};
}
std::string_view Statement::BlobView(int column) const {
  const auto* blob = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  if (blob == nullptr) return {};
  return {blob, static_cast<size_t>(sqlite3_column_bytes(stmt_, column))};
}
std::string Statement::Text(int column) const { return std::string(TextView(column)); }
std::optional<std::string> Statement::OptionalText(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Text(column);
}
std::optional<int64_t> Statement::OptionalInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}

// ---- Connection ----

Connection::Connection(sqlite3* db, std::size_t cache_capacity)
    : db_(db), cache_capacity_(cache_capacity) {}

Connection::~Connection() {
  for (auto& [sql, entry] : cache_) sqlite3_finalize(entry->stmt);
  cache_.clear();
  sqlite3_close_v2(db_);
}

StatusOr<std::unique_ptr<Connection>> Connection::Open(const std::string& path,
                                                       const ConnectionOptions& options) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (!options.read_only && !options.foreign_read_only) flags |= SQLITE_OPEN_CREATE;
  if (options.foreign_read_only) flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return Unavailable("cannot open SQLite database '" + path + "': " + message);
  }
  std::unique_ptr<Connection> connection(new Connection(db, options.statement_cache_capacity));
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(options.busy_timeout.count()));

  if (options.foreign_read_only) {
    RETURN_IF_ERROR(connection->Exec("PRAGMA query_only=1"));
    // Reading the schema fails here, not on the first query, when the file is no database.
    RETURN_IF_ERROR(connection->Exec("SELECT count(*) FROM sqlite_master"));
    return connection;
  }
  // Switching to WAL needs a brief exclusive lock; when many processes open the file at once the
  // busy handler does not cover every path, so retry until the busy timeout.
  auto deadline = std::chrono::steady_clock::now() + options.busy_timeout;
  while (true) {
    rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) break;
    int primary = rc & 0xff;
    if ((primary != SQLITE_BUSY && primary != SQLITE_LOCKED) ||
        std::chrono::steady_clock::now() > deadline) {
      return connection->Error(rc, "PRAGMA journal_mode=WAL");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // synchronous=NORMAL in WAL mode: a commit is acknowledged once its frames are written to the
  // WAL (in the OS page cache), without an fsync. That survives a crash or kill of this process,
  // because the page cache outlives it; only an OS crash or power loss can lose the last
  // transactions (never corrupt the file). FULL fsyncs the WAL on every commit for those who need
  // power-loss durability, at a large cost per write.
  RETURN_IF_ERROR(connection->Exec(options.synchronous_full ? "PRAGMA synchronous=FULL"
                                                            : "PRAGMA synchronous=NORMAL"));
  RETURN_IF_ERROR(connection->Exec("PRAGMA foreign_keys=ON"));
  RETURN_IF_ERROR(connection->Exec("PRAGMA journal_size_limit=67108864"));
  RETURN_IF_ERROR(connection->Exec("PRAGMA cache_size=-8192"));
  RETURN_IF_ERROR(connection->Exec("PRAGMA temp_store=MEMORY"));
  if (!options.wal_autocheckpoint) {
    RETURN_IF_ERROR(connection->Exec("PRAGMA wal_autocheckpoint=0"));
  }
  if (options.read_only) RETURN_IF_ERROR(connection->Exec("PRAGMA query_only=1"));

  rc = sqlite3_create_function_v2(db, "cairn_like", 3,
                                  SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
                                  &LikeFunction, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return connection->Error(rc, "register cairn_like");
  return connection;
}

Status Connection::Exec(std::string_view sql) {
  std::string text(sql);
  char* error = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string message = error != nullptr ? error : sqlite3_errstr(rc);
  sqlite3_free(error);
  Status status = Error(rc, text);
  return Status(status.code(), text.substr(0, 200) + ": " + message);
}

bool Connection::EvictLeastRecentlyUsed() {
  auto victim = cache_.end();
  for (auto it = cache_.begin(); it != cache_.end(); ++it) {
    if (it->second->in_use) continue;
    if (victim == cache_.end() || it->second->last_used < victim->second->last_used) victim = it;
  }
  if (victim == cache_.end()) return false;
  sqlite3_finalize(victim->second->stmt);
  cache_.erase(victim);
  return true;
}

StatusOr<Statement> Connection::Prepare(std::string_view sql) {
  ++use_clock_;
  auto it = cache_.find(std::string(sql));
  if (it != cache_.end() && !it->second->in_use) {
    it->second->in_use = true;
    it->second->last_used = use_clock_;
    return Statement(this, it->second->stmt, it->second.get());
  }
  bool cache = it == cache_.end() && cache_capacity_ > 0 &&
               (cache_.size() < cache_capacity_ || EvictLeastRecentlyUsed());
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              cache ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    Status status = Error(rc, "prepare");
    return Status(status.code(), status.message() + " in: " + std::string(sql.substr(0, 500)));
  }
  if (stmt == nullptr) return Internal("empty SQL statement");
  if (!cache) return Statement(this, stmt, nullptr);
  auto entry = std::make_unique<Statement::CacheEntry>();
  entry->stmt = stmt;
  entry->in_use = true;
  entry->last_used = use_clock_;
  Statement::CacheEntry* raw = entry.get();
  cache_.emplace(std::string(sql), std::move(entry));
  return Statement(this, stmt, raw);
}

int64_t Connection::Changes() const { return sqlite3_changes64(db_); }

int64_t Connection::LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }

void Connection::SetWalHook(std::function<void(int)> hook) {
  wal_hook_ = std::move(hook);
  sqlite3_wal_hook(
      db_,
      [](void* self, sqlite3*, const char*, int frames) {
        static_cast<Connection*>(self)->wal_hook_(frames);
        return SQLITE_OK;
      },
      this);
}

Status Connection::CheckpointPassive() {
  int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  if (rc != SQLITE_OK) return Error(rc, "wal checkpoint");
  return Status::Ok();
}

Status Connection::Error(int rc, std::string_view what) const {
  std::string message = std::string(what.substr(0, 200)) + ": " + sqlite3_errmsg(db_) + " (" +
                        sqlite3_errstr(rc) + ")";
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_PROTOCOL:
      return Unavailable(std::move(message));
    default:
      return Internal(std::move(message));
  }
}

// ---- Transaction ----

StatusOr<Transaction> Transaction::Begin(Connection& connection, Kind kind) {
  ASSIGN_OR_RETURN(Statement begin,
                   connection.Prepare(kind == Kind::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN"));
  RETURN_IF_ERROR(begin.Run());
  return Transaction(&connection);
}

Transaction::Transaction(Transaction&& other) noexcept : connection_(other.connection_) {
  other.connection_ = nullptr;
}

Transaction::~Transaction() {
  if (connection_ == nullptr) return;
  if (sqlite3_get_autocommit(connection_->raw()) == 0) {
    auto rollback = connection_->Prepare("ROLLBACK");
    if (rollback.ok()) rollback->Run().IgnoreError();
  }
}

Status Transaction::Commit() {
  Connection* connection = connection_;
  connection_ = nullptr;
  if (connection == nullptr) return Internal("transaction already finished");
  ASSIGN_OR_RETURN(Statement commit, connection->Prepare("COMMIT"));
  Status status = commit.Run();
  if (!status.ok() && sqlite3_get_autocommit(connection->raw()) == 0) {
    auto rollback = connection->Prepare("ROLLBACK");
    if (rollback.ok()) rollback->Run().IgnoreError();
  }
  return status;
}

std::string JsonArray(const std::vector<std::string>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    AppendJsonString(values[i], out);
  }
  out += ']';
  return out;
}

std::string JsonArray(const std::vector<std::pair<std::string, int64_t>>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '[';
    AppendJsonString(values[i].first, out);
    out += ',';
    out += std::to_string(values[i].second);
    out += ']';
  }
  out += ']';
  return out;
}

std::string JsonArray(const std::vector<int64_t>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(values[i]);
  }
  out += ']';
  return out;
}

}  // namespace cairn::sqlite
