#include "pg/connection.h"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace cairn::pg {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void IgnoreNotice(void* /*arg*/, const char* /*message*/) {}

// Whether `result` is the server's report that it is ending the session (FATAL or PANIC), which it
// sends before running anything after the statement it was answering.
bool ServerEnded(const pg_result* result) {
  if (result == nullptr) return false;
  const char* severity = PQresultErrorField(result, PG_DIAG_SEVERITY_NONLOCALIZED);
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  return severity != nullptr && state != nullptr &&
         (std::strcmp(severity, "FATAL") == 0 || std::strcmp(severity, "PANIC") == 0);
}

}  // namespace

// The answer to a statement sent on a pipelined connection, filled by the connection's Sync.
struct PendingResult {
  PendingResult() = default;
  PendingResult(const PendingResult&) = delete;
  PendingResult& operator=(const PendingResult&) = delete;
  ~PendingResult() {
    if (result != nullptr) PQclear(result);
  }
  pg_result* result = nullptr;  // owned; set when the statement succeeded
  bool done = false;
};

// ---- Statement ----

Statement::Statement(Connection* connection, std::string name, std::string sql, int params)
    : connection_(connection), name_(std::move(name)), sql_(std::move(sql)), params_(params) {}

Statement::Statement(Statement&& other) noexcept
    : connection_(std::exchange(other.connection_, nullptr)),
      name_(std::move(other.name_)),
      sql_(std::move(other.sql_)),
      params_(std::move(other.params_)),
      result_(std::exchange(other.result_, nullptr)),
      pending_(std::move(other.pending_)),
      rows_(std::exchange(other.rows_, 0)),
      row_(std::exchange(other.row_, -1)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    Clear();
    connection_ = std::exchange(other.connection_, nullptr);
    name_ = std::move(other.name_);
    sql_ = std::move(other.sql_);
    params_ = std::move(other.params_);
    result_ = std::exchange(other.result_, nullptr);
    pending_ = std::move(other.pending_);
    rows_ = std::exchange(other.rows_, 0);
    row_ = std::exchange(other.row_, -1);
  }
  return *this;
}

Statement::~Statement() { Clear(); }

void Statement::Clear() {
  if (result_ != nullptr) PQclear(result_);
  result_ = nullptr;
  pending_.reset();
  rows_ = 0;
  row_ = -1;
}

void Statement::BindNull(int index) {
  if (index >= 1 && index <= static_cast<int>(params_.size())) params_[index - 1].reset();
}

void Statement::BindInt(int index, int64_t value) {
  if (index >= 1 && index <= static_cast<int>(params_.size())) {
    params_[index - 1] = std::to_string(value);
  }
}

void Statement::BindDouble(int index, double value) {
  if (index < 1 || index > static_cast<int>(params_.size())) return;
  if (std::isnan(value)) {
    params_[index - 1].reset();
    return;
  }
  if (std::isinf(value)) {
    params_[index - 1] = value > 0 ? "Infinity" : "-Infinity";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  params_[index - 1] = std::string(buf, end);
}

void Statement::BindText(int index, std::string_view value) {
  if (index >= 1 && index <= static_cast<int>(params_.size())) {
    params_[index - 1] = std::string(value);
  }
}

void Statement::BindBlob(int index, std::string_view bytes) {
  if (index < 1 || index > static_cast<int>(params_.size())) return;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text = "\\x";
  text.reserve(2 + bytes.size() * 2);
  for (unsigned char c : bytes) {
    text += kHex[c >> 4];
    text += kHex[c & 15];
  }
  params_[index - 1] = std::move(text);
}

void Statement::BindValue(int index, const Value& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          BindNull(index);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          BindInt(index, v);
        } else if constexpr (std::is_same_v<T, double>) {
          BindDouble(index, v);
        } else {
          BindText(index, v);
        }
      },
      value);
}

void Statement::BindAll(const std::vector<Value>& values, int first_index) {
  for (size_t i = 0; i < values.size(); ++i) {
    BindValue(first_index + static_cast<int>(i), values[i]);
  }
}

StatusOr<std::vector<const char*>> Statement::ParamValues() const {
  std::vector<const char*> values(params_.size());
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!params_[i]) continue;
    if (params_[i]->find('\0') != std::string::npos) {
      return InvalidArgument("text values may not contain NUL characters");
    }
    values[i] = params_[i]->c_str();
  }
  return values;
}

Status Statement::Send(bool keep_result) {
  if (connection_ == nullptr) return Internal("statement is not prepared");
  Clear();
  ASSIGN_OR_RETURN(std::vector<const char*> values, ParamValues());
  pg_conn* conn = connection_->conn_;
  int n = static_cast<int>(values.size());
  const std::string& what = name_.empty() ? sql_ : name_;
  int sent =
      name_.empty()
          ? PQsendQueryParams(conn, sql_.c_str(), n, nullptr, values.data(), nullptr, nullptr, 0)
          : PQsendQueryPrepared(conn, name_.c_str(), n, values.data(), nullptr, nullptr, 0);
  if (sent == 0) return connection_->SendFailed(what);
  if (keep_result) pending_ = std::make_shared<PendingResult>();
  connection_->AddPending(what, pending_);
  return Status::Ok();
}

Status Statement::Execute() {
  if (connection_ == nullptr) return Internal("statement is not prepared");
  if (connection_->pipelined_) {
    if (pending_ == nullptr) RETURN_IF_ERROR(Send(/*keep_result=*/true));
    std::shared_ptr<PendingResult> pending = std::move(pending_);
    if (!pending->done) RETURN_IF_ERROR(connection_->Sync());
    if (pending->result == nullptr) {
      // Failed, or skipped after a failure: the connection remembers the first.
      const auto& failure = connection_->failure();
      return failure ? failure->status : Internal("postgresql: no answer to " + name_ + sql_);
    }
    result_ = std::exchange(pending->result, nullptr);
    rows_ = PQntuples(result_);
    return Status::Ok();
  }
  Clear();
  ASSIGN_OR_RETURN(std::vector<const char*> values, ParamValues());
  pg_conn* conn = connection_->conn_;
  int n = static_cast<int>(values.size());
  result_ = name_.empty()
                ? PQexecParams(conn, sql_.c_str(), n, nullptr, values.data(), nullptr, nullptr, 0)
                : PQexecPrepared(conn, name_.c_str(), n, values.data(), nullptr, nullptr, 0);
  ExecStatusType status = result_ == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(result_);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    Status error = connection_->Error(result_, name_.empty() ? sql_ : name_);
    connection_->Fail(error, connection_->tag_, ServerEnded(result_));
    Clear();
    return error;
  }
  rows_ = PQntuples(result_);
  const char* changed = PQcmdTuples(result_);
  connection_->changes_ = (changed != nullptr && *changed != '\0') ? std::atoll(changed) : 0;
  return Status::Ok();
}

StatusOr<bool> Statement::Step() {
  if (result_ == nullptr) {
    RETURN_IF_ERROR(Execute());
  }
  if (row_ + 1 < rows_) {
    ++row_;
    return true;
  }
  row_ = rows_;
  return false;
}

Status Statement::Send() {
  if (connection_ == nullptr || !connection_->pipelined_) return Status::Ok();
  return Send(/*keep_result=*/true);
}

Status Statement::Run() {
  if (connection_ != nullptr && connection_->pipelined_) return Send(/*keep_result=*/false);
  RETURN_IF_ERROR(Execute());
  return Status::Ok();
}

void Statement::Reset() { Clear(); }

bool Statement::IsNull(int column) const {
  return result_ == nullptr || row_ < 0 || row_ >= rows_ || PQgetisnull(result_, row_, column) != 0;
}

std::string_view Statement::TextView(int column) const {
  if (IsNull(column)) return {};
  return {PQgetvalue(result_, row_, column),
          static_cast<size_t>(PQgetlength(result_, row_, column))};
}

int64_t Statement::Int(int column) const {
  std::string_view text = TextView(column);
  if (text.empty()) return 0;
  if (text == "t") return 1;
  if (text == "f") return 0;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc() && end == text.data() + text.size()) return value;
  // numeric results (SUM over bigint, ...) may carry a fraction.
  return static_cast<int64_t>(Double(column));
}

double Statement::Double(int column) const {
  if (IsNull(column)) return 0;
  // NUL-terminated by libpq; strtod reads NaN, Infinity and -Infinity.
  return std::strtod(PQgetvalue(result_, row_, column), nullptr);
}

std::string Statement::Text(int column) const { return std::string(TextView(column)); }

std::string_view Statement::BlobView(int column) const {
  std::string_view text = TextView(column);
  if (text.size() < 2 || text[0] != '\\' || text[1] != 'x') return text;
  blob_.clear();
  blob_.reserve((text.size() - 2) / 2);
  for (size_t i = 2; i + 1 < text.size(); i += 2) {
    blob_ += static_cast<char>(HexDigit(text[i]) * 16 + HexDigit(text[i + 1]));
  }
  return blob_;
}

std::optional<std::string> Statement::OptionalText(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Text(column);
}

std::optional<int64_t> Statement::OptionalInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}

// ---- Connection ----

Connection::Connection(pg_conn* conn, ConnectionOptions options)
    : conn_(conn), options_(std::move(options)) {}

Connection::~Connection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

StatusOr<std::unique_ptr<Connection>> Connection::Open(const std::string& conninfo,
                                                       const ConnectionOptions& options) {
  std::string timeout = std::to_string(std::max<int64_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(options.connect_timeout).count()));
  const char* keywords[] = {"dbname", "connect_timeout", "application_name", nullptr};
  const char* values[] = {conninfo.c_str(), timeout.c_str(), options.application_name.c_str(),
                          nullptr};
  pg_conn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) return Unavailable("postgresql: out of memory opening a connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    return Unavailable("postgresql: cannot connect: " + message);
  }
  PQsetNoticeProcessor(conn, IgnoreNotice, nullptr);
  std::unique_ptr<Connection> connection(new Connection(conn, options));
  // Values are compared and sorted byte-wise, as SQLite does, and timestamps are ours (ms).
  RETURN_IF_ERROR(connection->Exec("SET client_encoding = 'UTF8'"));
  if (!options.session_setup.empty()) {
    RETURN_IF_ERROR(connection->Exec(options.session_setup));
  }
  return connection;
}

bool Connection::Healthy() const { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }

Status Connection::Exec(std::string_view sql) {
  std::string text(sql);
  if (pipelined_) {
    if (text.find(';') == std::string::npos) {
      Queue(text);
      return Sync();
    }
    // Several statements: only the simple protocol runs them, outside pipeline mode.
    RETURN_IF_ERROR(Sync());
    if (PQexitPipelineMode(conn_) == 0) return SendFailed(sql);
    pipelined_ = false;
    Status out = Exec(sql);
    Status back = EnterPipeline();
    return out.ok() ? back : out;
  }
  pg_result* result = PQexec(conn_, text.c_str());
  ExecStatusType status = result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(result);
  Status out = Status::Ok();
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    out = Error(result, sql);
    Fail(out, tag_, ServerEnded(result));
  } else {
    const char* changed = PQcmdTuples(result);
    changes_ = (changed != nullptr && *changed != '\0') ? std::atoll(changed) : 0;
  }
  if (result != nullptr) PQclear(result);
  return out;
}

StatusOr<Statement> Connection::Prepare(std::string_view sql) {
  auto it = cache_.find(std::string(sql));
  if (it != cache_.end()) {
    return Statement(this, it->second.name, std::string(), it->second.params);
  }
  int params = 0;
  std::string numbered = NumberPlaceholders(sql, &params);
  if (cache_.size() >= options_.statement_cache_capacity) {
    return Statement(this, std::string(), std::move(numbered), params);
  }
  Prepared prepared;
  prepared.name = "cairn_" + std::to_string(++next_statement_);
  prepared.params = params;
  if (pipelined_) {
    // Prepared once per connection: waiting for the answer here keeps a failed prepare out of
    // the cache.
    if (PQsendPrepare(conn_, prepared.name.c_str(), numbered.c_str(), 0, nullptr) == 0) {
      return SendFailed(sql);
    }
    auto answer = std::make_shared<PendingResult>();
    AddPending(std::string(sql), answer);
    RETURN_IF_ERROR(Sync());
  } else {
    pg_result* result = PQprepare(conn_, prepared.name.c_str(), numbered.c_str(), 0, nullptr);
    ExecStatusType status = result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(result);
    if (status != PGRES_COMMAND_OK) {
      Status error = Error(result, sql);
      if (result != nullptr) PQclear(result);
      return error;
    }
    PQclear(result);
  }
  auto [entry, inserted] = cache_.emplace(std::string(sql), std::move(prepared));
  return Statement(this, entry->second.name, std::string(), entry->second.params);
}

int64_t Connection::Changes() {
  if (!pending_.empty()) Sync().IgnoreError();  // remembered: the next Sync reports it
  return changes_;
}

Status Connection::EnterPipeline() {
  if (pipelined_) return Status::Ok();
  if (PQenterPipelineMode(conn_) == 0) return SendFailed("entering pipeline mode");
  pipelined_ = true;
  return Status::Ok();
}

void Connection::AddPending(std::string what, std::shared_ptr<PendingResult> result) {
  Pending p;
  p.tag = tag_;
  p.what = std::move(what);
  p.result = std::move(result);
  pending_.push_back(std::move(p));
}

void Connection::Fail(Status status, int tag, bool server_ended) {
  if (failure_) return;
  failure_ = Failure{std::move(status), tag, server_ended};
}

Status Connection::SendFailed(std::string_view what) {
  Status error = Error(nullptr, what);
  Fail(error, tag_, false);
  return error;
}

void Connection::Queue(std::string_view sql) {
  if (!pipelined_) {
    Exec(sql).IgnoreError();  // remembered
    return;
  }
  // Prepared like any statement: BEGIN, COMMIT, the lock and savepoints come back on every
  // transaction, and the server then parses them once.
  StatusOr<Statement> statement = Prepare(sql);
  if (!statement.ok()) {
    Fail(statement.status(), tag_, false);
    return;
  }
  statement->Send(/*keep_result=*/false).IgnoreError();  // a failure is remembered
}

void Connection::SendSync() {
  if (!pipelined_ || pending_.empty() || pending_.back().sync) return;
  if (PQpipelineSync(conn_) == 0) {
    SendFailed("sync").IgnoreError();
    return;
  }
  Pending p;
  p.tag = tag_;
  p.sync = true;
  pending_.push_back(std::move(p));
}

Status Connection::Sync() {
  if (!pipelined_ || pending_.empty()) {
    return failure_ ? failure_->status : Status::Ok();
  }
  SendSync();
  while (!pending_.empty()) {
    Pending p = std::move(pending_.front());
    pending_.pop_front();
    if (!Healthy()) {
      Fail(Error(nullptr, p.what), p.tag, false);
      pending_.clear();
      break;
    }
    pg_result* result = PQgetResult(conn_);
    if (p.sync) {
      ExecStatusType status = result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(result);
      if (status != PGRES_PIPELINE_SYNC) {
        // Only a lost connection answers a sync point with anything else.
        Fail(Error(result, "sync"), p.tag, ServerEnded(result));
        if (result != nullptr) PQclear(result);
        pending_.clear();
        break;
      }
      PQclear(result);
      continue;
    }
    if (result == nullptr) {
      Fail(Error(nullptr, p.what), p.tag, false);
      pending_.clear();
      break;
    }
    // Each statement's answer ends with a null result.
    while (pg_result* extra = PQgetResult(conn_)) {
      PQclear(extra);
      if (!Healthy()) break;
    }
    ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
      const char* changed = PQcmdTuples(result);
      changes_ = (changed != nullptr && *changed != '\0') ? std::atoll(changed) : 0;
      if (p.result != nullptr) {
        p.result->result = result;
        result = nullptr;
      }
    } else if (status != PGRES_PIPELINE_ABORTED) {
      Fail(Error(result, p.what), p.tag, ServerEnded(result));
    } else if (!failure_) {
      // Skipped after a failure that was cleared already (an earlier write's).
      Fail(Internal("postgresql: " + p.what.substr(0, 200) +
                    ": skipped after an earlier failure in the pipeline"),
           p.tag, false);
    }
    if (p.result != nullptr) p.result->done = true;
    if (result != nullptr) PQclear(result);
  }
  return failure_ ? failure_->status : Status::Ok();
}

Status Connection::Error(const pg_result* result, std::string_view what) const {
  std::string detail =
      result != nullptr ? PQresultErrorMessage(result) : std::string(PQerrorMessage(conn_));
  while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) detail.pop_back();
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string code = state != nullptr ? state : "";
  std::string message = "postgresql: " + std::string(what.substr(0, 200)) + ": " + detail +
                        (code.empty() ? "" : " (SQLSTATE " + code + ")");
  if (PQstatus(conn_) != CONNECTION_OK || code.empty() || code.rfind("08", 0) == 0 ||
      code == "57P01" || code == "57P02" || code == "57P03" || code == "53300" || code == "40001" ||
      code == "40P01" || code == "55P03" || code == "57014") {
    return Unavailable(std::move(message));
  }
  return Internal(std::move(message));
}

// ---- helpers ----

std::string NumberPlaceholders(std::string_view sql, int* count) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  size_t i = 0;
  while (i < sql.size()) {
    char c = sql[i];
    if (c == '\'' || c == '"') {
      // A quoted literal or identifier, with doubled quotes inside.
      size_t end = i + 1;
      while (end < sql.size()) {
        if (sql[end] == c) {
          if (end + 1 < sql.size() && sql[end + 1] == c) {
            end += 2;
            continue;
          }
          break;
        }
        ++end;
      }
      end = std::min(end + 1, sql.size());
      out.append(sql.substr(i, end - i));
      i = end;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      size_t end = sql.find('\n', i);
      end = end == std::string_view::npos ? sql.size() : end;
      out.append(sql.substr(i, end - i));
      i = end;
    } else if (c == '?') {
      // `?NNN` names its parameter, as in SQLite; a bare `?` takes the next number.
      size_t end = i + 1;
      while (end < sql.size() && sql[end] >= '0' && sql[end] <= '9') ++end;
      out += '$';
      if (end > i + 1) {
        int number = std::atoi(std::string(sql.substr(i + 1, end - i - 1)).c_str());
        n = std::max(n, number);
        out += std::to_string(number);
      } else {
        out += std::to_string(++n);
      }
      i = end;
    } else {
      out += c;
      ++i;
    }
  }
  *count = n;
  return out;
}

std::string QuoteLiteral(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace cairn::pg
