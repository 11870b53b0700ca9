#include "pg/database.h"

#include <chrono>
#include <memory>
#include <utility>

namespace cairn::pg {

namespace {
// Tags of what the connections queue (Connection::set_tag), to tell whose a failure is.
constexpr int kTagGroup = 1;   // a write transaction's BEGIN and lock
constexpr int kTagCommit = 2;  // a write transaction's COMMIT
constexpr int kTagRead = 3;    // a read transaction
// Write i of a group (its savepoint, statements and release) is tagged kTagFirstWrite + i.
constexpr int kTagFirstWrite = 100;
}  // namespace

Database::Database(std::string conninfo, DatabaseOptions options)
    : conninfo_(std::move(conninfo)), options_(std::move(options)) {}

Database::~Database() {
  group_commit_.Stop();  // after it has run and answered every queued write
}

StatusOr<std::unique_ptr<Database>> Database::Open(const std::string& conninfo,
                                                   const std::vector<Migration>& migrations,
                                                   DatabaseOptions options) {
  std::unique_ptr<Database> db(new Database(conninfo, std::move(options)));
  RETURN_IF_ERROR(db->Init(migrations));
  return db;
}

StatusOr<std::unique_ptr<Connection>> Database::Connect() const {
  ConnectionOptions options;
  options.session_setup = options_.session_setup;
  options.application_name = options_.application_name;
  options.connect_timeout = options_.acquire_timeout;
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection, Connection::Open(conninfo_, options));
  if (options_.pipeline) RETURN_IF_ERROR(connection->EnterPipeline());
  return connection;
}

Status Database::Init(const std::vector<Migration>& migrations) {
  MutexLock write_lock(write_mu_);
  ConnectionOptions options;
  options.session_setup = options_.session_setup;
  options.application_name = options_.application_name;
  options.connect_timeout = options_.acquire_timeout;
  ASSIGN_OR_RETURN(writer_, Connection::Open(conninfo_, options));
  RETURN_IF_ERROR(Migrate(*writer_, migrations, options_.migrations_table));
  writer_->ClearFailure();
  if (options_.pipeline) RETURN_IF_ERROR(writer_->EnterPipeline());
  group_commit_.Start([this](const Group& group) { RunWriteGroup(group); });
  return Status::Ok();
}

Status Database::Write(const ConnectionFn& fn) { return group_commit_.Write(fn); }

void Database::WriteAsync(ConnectionFn fn, DoneFn done) {
  group_commit_.WriteAsync(std::move(fn), std::move(done));
}

void Database::RunWriteGroup(const Group& group) {
  MutexLock lock(write_mu_);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (writer_ == nullptr || !writer_->Healthy()) {
      writer_.reset();
      auto connected = Connect();
      if (!connected.ok()) {
        for (auto* p : group) p->status = connected.status();
        return;
      }
      writer_ = std::move(connected).value();
    }
    if (TryWriteGroup(group)) return;
  }
}

bool Database::TryWriteGroup(const Group& group) {
  Connection& db = *writer_;
  auto fail_all = [&](const Status& status) {
    for (auto* p : group) p->status = status;
  };
  db.ClearFailure();
  bool commit_sent = false;
  // The connection broke: retry (false) unless the COMMIT may have run.
  auto lost = [&]() -> bool {
    const std::optional<Connection::Failure>& f = db.failure();
    Status status = f ? f->status : Unavailable("postgresql: connection lost during a write");
    // The server runs what it is sent in order: when it said it ended the session at a statement
    // before the COMMIT, the COMMIT never ran.
    bool before_commit = !commit_sent || (f && f->server_ended && f->tag != kTagCommit);
    fail_all(before_commit ? Unavailable("postgresql: connection lost during a write") : status);
    return !before_commit;
  };
  // A failure of the whole transaction (BEGIN, the lock, COMMIT) on a healthy connection.
  auto fail_transaction = [&](const Status& status) {
    fail_all(status);
    db.ClearFailure();
    db.Exec("ROLLBACK").IgnoreError();
    db.ClearFailure();
    return true;
  };
  // Opens the transaction and takes the write lock; both travel with the first statement. When
  // that fails: what the group returns.
  auto begin = [&]() -> std::optional<bool> {
    db.set_tag(kTagGroup);
    db.Queue("BEGIN");
    db.Queue("SELECT pg_advisory_xact_lock(" + std::to_string(options_.write_lock_key) + ")");
    if (!db.failure()) return std::nullopt;
    if (!db.Healthy()) return lost();
    return fail_transaction(db.failure()->status);
  };
  if (std::optional<bool> failed = begin()) return *failed;
  // First the optimistic way: the writes one after the other with no savepoints, and each may
  // leave a check to a statement that fails when the check does (Connection::DeferCheck), so
  // nothing waits for what is not read, and the group's COMMIT travels with its last statements.
  // When every write ends well (the usual case), that is all.
  bool ok = true;
  bool deferred_any = false;
  for (size_t i = 0; i < group.size() && ok; ++i) {
    db.set_tag(kTagFirstWrite + static_cast<int>(i));
    db.set_defer_checks(true);
    Status status = db.failure() ? db.failure()->status : (*group[i]->fn)(db);
    deferred_any = deferred_any || db.deferred_check();
    db.set_defer_checks(false);
    if (!db.Healthy()) return lost();
    group[i]->status = status;
    if (!status.ok() || db.failure()) ok = false;
  }
  if (ok) {
    db.set_tag(kTagCommit);
    db.Queue("COMMIT");
    commit_sent = true;
  }
  db.Sync().IgnoreError();  // read through failure() below
  if (!db.Healthy()) return lost();
  const std::optional<Connection::Failure>& first = db.failure();
  if (ok && !first) return true;
  if (first && (first->tag == kTagGroup || first->tag == kTagCommit)) {
    return fail_transaction(first->status);
  }
  // A write failed, and the transaction is rolled back. A write alone that deferred no check
  // has its answer: its first error, whatever fn made of it. Otherwise the group runs again the
  // careful way, below, which tells each write's outcome from the others'.
  if (group.size() == 1 && !deferred_any) {
    if (first) group.front()->status = first->status;
    db.ClearFailure();
    db.Exec("ROLLBACK").IgnoreError();
    if (!db.Healthy()) return lost();
    db.ClearFailure();
    return true;
  }
  // The write that failed runs carefully from the start.
  std::vector<char> careful(group.size(), 0);
  if (first && first->tag >= kTagFirstWrite) {
    size_t k = static_cast<size_t>(first->tag - kTagFirstWrite);
    if (k < group.size()) careful[k] = 1;
  }
  db.ClearFailure();
  db.Exec("ROLLBACK").IgnoreError();
  if (!db.Healthy()) return lost();
  db.ClearFailure();
  commit_sent = false;  // skipped or rolled back: the server answered
  if (std::optional<bool> failed = begin()) return *failed;

  // The careful way: each write in a savepoint. A write that `fn` ends well is not waited for: its
  // last statements and its RELEASE travel with the next write's first round trip (or the COMMIT).
  // When they fail, the server skips everything after them up to that round trip's end; the
  // failure's tag names the write, which is rolled back to its savepoint, and the writes after
  // it run again (they ran on a transaction that was failing, and the server skipped them).
  auto write_of = [&](const Connection::Failure& f) -> std::optional<size_t> {
    if (f.tag < kTagFirstWrite) return std::nullopt;
    return static_cast<size_t>(f.tag - kTagFirstWrite);
  };
  // Rolls back to the savepoint of the write that failed (the innermost one); a value when the
  // transaction cannot go on (what TryWriteGroup returns).
  auto undo = [&]() -> std::optional<bool> {
    db.Sync().IgnoreError();  // the rest of what was sent, all failing or skipped
    if (!db.Healthy()) return lost();
    db.ClearFailure();
    db.Queue("ROLLBACK TO SAVEPOINT cairn_write");
    db.Queue("RELEASE SAVEPOINT cairn_write");
    Status back = db.Sync();
    if (!db.Healthy()) return lost();
    if (!back.ok()) return fail_transaction(back);
    return std::nullopt;
  };
  std::vector<char> deferred(group.size(), 0);
  size_t i = 0;
  // Write k failed with `failed` (a statement's error): rolls it back, and goes on with it (run
  // again, waiting for its checks) or with the write after it.
  auto settle = [&](size_t k, Status failed) -> std::optional<bool> {
    if (auto done = undo()) return done;
    if (deferred[k] && !careful[k]) {
      careful[k] = 1;
      i = k;
    } else {
      group[k]->status = std::move(failed);
      i = k + 1;
    }
    return std::nullopt;
  };
  while (true) {
    if (i == group.size()) {
      if (!db.failure()) {
        db.set_tag(kTagCommit);
        db.Queue("COMMIT");
        commit_sent = true;
        db.Sync().IgnoreError();
        if (!db.Healthy()) return lost();  // the outcome of the COMMIT is unknown: reported
      }
      const std::optional<Connection::Failure>& f = db.failure();
      if (!f) return true;
      std::optional<size_t> k = write_of(*f);
      if (!k) return fail_transaction(f->status);
      commit_sent = false;  // skipped: the server answered that a write before it failed
      if (auto done = settle(*k, f->status)) return *done;
      continue;
    }
    auto* p = group[i];
    const int tag = kTagFirstWrite + static_cast<int>(i);
    db.set_tag(tag);
    db.Queue("SAVEPOINT cairn_write");
    db.set_defer_checks(careful[i] == 0);
    // (An earlier write's known failure: handled below, and this write runs again.)
    Status status = db.failure() ? db.failure()->status : (*p->fn)(db);
    deferred[i] = db.deferred_check() ? 1 : 0;
    db.set_defer_checks(false);
    if (!db.Healthy()) return lost();
    if (status.ok() && !db.failure()) {
      db.Queue("RELEASE SAVEPOINT cairn_write");
      p->status = Status::Ok();  // unless its last statements fail
      ++i;
      continue;
    }
    db.Sync().IgnoreError();
    if (!db.Healthy()) return lost();
    if (const std::optional<Connection::Failure>& f = db.failure()) {
      std::optional<size_t> k = write_of(*f);
      if (!k) return fail_transaction(f->status);
      // An earlier write failed (this one ran on the failing transaction and runs again), or
      // this one did, whatever fn made of it.
      if (auto done = settle(*k, f->status)) return *done;
      continue;
    }
    if (auto done = undo()) return *done;
    p->status = std::move(status);
    ++i;
  }
}

Status Database::Read(const ConnectionFn& fn) {
  std::unique_ptr<Connection> connection;
  {
    MutexLock lock(pool_mu_);
    auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
    while (idle_readers_.empty() && open_readers_ >= options_.reader_connections) {
      if (!lock.WaitUntil(pool_cv_, deadline) && idle_readers_.empty() &&
          open_readers_ >= options_.reader_connections) {
        return Unavailable("postgresql: no free connection within the acquire timeout");
      }
    }
    if (!idle_readers_.empty()) {
      connection = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    } else {
      ++open_readers_;  // reserved; opened below, outside the lock
    }
  }
  auto give_back = [&](std::unique_ptr<Connection> c) {
    {
      MutexLock lock(pool_mu_);
      if (c != nullptr && c->Healthy()) {
        idle_readers_.push_back(std::move(c));
      } else {
        --open_readers_;
      }
    }
    pool_cv_.notify_one();
  };
  if (connection == nullptr || !connection->Healthy()) {
    auto connected = Connect();
    if (!connected.ok()) {
      give_back(nullptr);
      return connected.status();
    }
    connection = std::move(connected).value();
  }
  // The answers to the previous read's COMMIT, if still unread; its outcome was not waited for.
  if (connection->HasPending()) connection->Sync().IgnoreError();
  connection->ClearFailure();
  connection->set_tag(kTagRead);
  connection->Queue("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
  Status status = connection->failure() ? connection->failure()->status : fn(*connection);
  if (connection->failure()) status = connection->failure()->status;  // the first error
  if (status.ok() && connection->pipelined()) {
    // Sent, not waited for: the next read on this connection reads the answer.
    connection->Queue("COMMIT");
    connection->SendSync();
  } else if (status.ok()) {
    connection->Queue("COMMIT");
  } else {
    connection->Sync().IgnoreError();
    connection->ClearFailure();
    connection->Queue("ROLLBACK");
    connection->Sync().IgnoreError();
  }
  if (connection->failure()) status = connection->failure()->status;
  connection->ClearFailure();
  give_back(std::move(connection));
  return status;
}

StatusOr<int> Database::SchemaVersionForTest() {
  MutexLock lock(write_mu_);
  writer_->ClearFailure();
  StatusOr<int> version = SchemaVersion(*writer_, options_.migrations_table);
  writer_->ClearFailure();
  return version;
}

// ---- migrations ----

StatusOr<int> SchemaVersion(Connection& connection, std::string_view table) {
  ASSIGN_OR_RETURN(Statement exists, connection.Prepare("SELECT to_regclass(?)"));
  ASSIGN_OR_RETURN(bool row, exists.Bind(table).Step());
  if (!row || exists.IsNull(0)) return 0;
  ASSIGN_OR_RETURN(Statement s, connection.Prepare("SELECT COALESCE(MAX(version), 0) FROM " +
                                                   QuoteIdentifier(table)));
  ASSIGN_OR_RETURN(bool got, s.Step());
  return got ? static_cast<int>(s.Int(0)) : 0;
}

Status Migrate(Connection& connection, const std::vector<Migration>& steps,
               std::string_view table) {
  const std::string key = std::to_string(kMigrateLockKey);
  const std::string quoted = QuoteIdentifier(table);
  RETURN_IF_ERROR(connection.Exec("SELECT pg_advisory_lock(" + key + ")"));
  auto migrate = [&]() -> Status {
    RETURN_IF_ERROR(connection.Exec("CREATE TABLE IF NOT EXISTS " + quoted +
                                    " (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
                                    "applied_at BIGINT NOT NULL)"));
    ASSIGN_OR_RETURN(int current, SchemaVersion(connection, table));
    int newest = steps.empty() ? 0 : steps.back().version;
    if (current > newest) {
      return FailedPrecondition("the database has schema version " + std::to_string(current) +
                                " (" + std::string(table) + "), newer than this binary knows (" +
                                std::to_string(newest) + "); run a newer cairn");
    }
    for (const Migration& step : steps) {
      if (step.version <= current) continue;
      RETURN_IF_ERROR(connection.Exec("BEGIN"));
      Status s = connection.Exec(step.sql);
      if (s.ok()) {
        auto insert = connection.Prepare(
            "INSERT INTO " + quoted +
            " (version, description, applied_at) VALUES (?, ?, (EXTRACT(EPOCH FROM "
            "clock_timestamp()) * 1000)::BIGINT)");
        s = insert.ok() ? insert->Bind(step.version, std::string(step.description)).Run()
                        : insert.status();
      }
      if (s.ok()) s = connection.Exec("COMMIT");
      if (!s.ok()) {
        connection.Exec("ROLLBACK").IgnoreError();
        return Internal("migration " + std::to_string(step.version) + " (" +
                        std::string(step.description) + ") failed: " + s.message());
      }
    }
    return Status::Ok();
  };
  Status status = migrate();
  connection.Exec("SELECT pg_advisory_unlock(" + key + ")").IgnoreError();
  return status;
}

}  // namespace cairn::pg
