#include "pg/database.h"

#include <chrono>
#include <memory>
#include <thread>
#include <utility>

namespace cairn::pg {

namespace {
// How long the writer thread keeps looking for more asynchronous writes before it sleeps.
constexpr auto kWriterLinger = std::chrono::microseconds(50);
}  // namespace

struct Database::PendingWrite {
  const ConnectionFn* fn = nullptr;
  ConnectionFn owned_fn;
  DoneFn done_fn;
  Status status;
  bool done = false;
};

Database::Database(std::string conninfo, DatabaseOptions options)
    : conninfo_(std::move(conninfo)), options_(std::move(options)) {}

Database::~Database() {
  if (async_writer_.joinable()) {
    {
      MutexLock lock(group_mu_);
      async_stopping_ = true;
    }
    async_cv_.notify_all();
    async_writer_.join();
  }
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
  return Connection::Open(conninfo_, options);
}

Status Database::Init(const std::vector<Migration>& migrations) {
  MutexLock write_lock(write_mu_);
  ASSIGN_OR_RETURN(writer_, Connect());
  RETURN_IF_ERROR(Migrate(*writer_, migrations, options_.migrations_table));
  async_writer_ = std::thread([this] { AsyncWriterLoop(); });
  return Status::Ok();
}

Status Database::Write(const ConnectionFn& fn) {
  PendingWrite self;
  self.fn = &fn;
  MutexLock lock(group_mu_);
  pending_writes_.push_back(&self);
  while (!self.done) {
    if (group_running_) {
      lock.Wait(group_cv_);
      continue;
    }
    RunQueuedGroup(lock);
  }
  return self.status;
}

void Database::WriteAsync(ConnectionFn fn, DoneFn done) {
  auto* write = new PendingWrite;
  write->owned_fn = std::move(fn);
  write->fn = &write->owned_fn;
  write->done_fn = std::move(done);
  bool wake;
  {
    MutexLock lock(group_mu_);
    pending_writes_.push_back(write);
    wake = !group_running_;
  }
  if (wake) async_cv_.notify_one();
}

void Database::RunQueuedGroup(MutexLock& lock) {
  group_running_ = true;
  std::vector<PendingWrite*> group;
  group.swap(pending_writes_);
  lock.Unlock();
  RunWriteGroup(group);
  std::vector<std::unique_ptr<PendingWrite>> answered;
  lock.Lock();
  for (PendingWrite* p : group) {
    if (p->done_fn) {
      answered.emplace_back(p);
    } else {
      p->done = true;
    }
  }
  group_running_ = false;
  bool more = !pending_writes_.empty();
  lock.Unlock();
  group_cv_.notify_all();
  if (more) async_cv_.notify_one();
  for (auto& p : answered) p->done_fn(p->status);
  lock.Lock();
}

void Database::AsyncWriterLoop() {
  auto linger_until = std::chrono::steady_clock::time_point::min();
  MutexLock lock(group_mu_);
  while (true) {
    if (!pending_writes_.empty() && !group_running_) {
      RunQueuedGroup(lock);
      linger_until = std::chrono::steady_clock::now() + kWriterLinger;
      continue;
    }
    if (async_stopping_ && pending_writes_.empty() && !group_running_) return;
    if (std::chrono::steady_clock::now() < linger_until) {
      lock.Unlock();
      std::this_thread::yield();
      lock.Lock();
      continue;
    }
    lock.Wait(async_cv_);
  }
}

void Database::RunWriteGroup(const std::vector<PendingWrite*>& group) {
  MutexLock lock(write_mu_);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (writer_ == nullptr || !writer_->Healthy()) {
      writer_.reset();
      auto connected = Connect();
      if (!connected.ok()) {
        for (PendingWrite* p : group) p->status = connected.status();
        return;
      }
      writer_ = std::move(connected).value();
    }
    if (TryWriteGroup(group)) return;
  }
}

bool Database::TryWriteGroup(const std::vector<PendingWrite*>& group) {
  Connection& db = *writer_;
  auto fail_all = [&](const Status& status) {
    for (PendingWrite* p : group) p->status = status;
  };
  // One round trip opens the transaction and takes the write lock.
  Status begin = db.Exec("BEGIN; SELECT pg_advisory_xact_lock(" +
                         std::to_string(options_.write_lock_key) + ")");
  if (!begin.ok()) {
    bool broken = !db.Healthy();
    if (!broken) db.Exec("ROLLBACK").IgnoreError();
    fail_all(begin);
    return !broken;  // a broken connection wrote nothing: retry on a new one
  }
  if (group.size() == 1) {
    // Alone in its group: the transaction is the write's own, so no savepoint is needed; a
    // failure rolls the whole transaction back.
    PendingWrite* p = group.front();
    p->status = (*p->fn)(db);
    if (!db.Healthy()) {
      fail_all(Unavailable("postgresql: connection lost during a write"));
      return false;
    }
    if (!p->status.ok()) {
      db.Exec("ROLLBACK").IgnoreError();
      return true;
    }
  } else {
    for (PendingWrite* p : group) {
      Status s = db.Exec("SAVEPOINT cairn_write");
      if (s.ok()) {
        s = (*p->fn)(db);
        if (s.ok()) {
          s = db.Exec("RELEASE SAVEPOINT cairn_write");
        } else {
          db.Exec("ROLLBACK TO SAVEPOINT cairn_write; RELEASE SAVEPOINT cairn_write").IgnoreError();
        }
      }
      p->status = s;
      if (!db.Healthy()) {
        // Lost before COMMIT: the server rolled everything back. Retry the whole group once.
        fail_all(Unavailable("postgresql: connection lost during a write"));
        return false;
      }
    }
  }
  Status commit = db.Exec("COMMIT");
  if (!commit.ok()) {
    // The outcome of a COMMIT whose answer was lost is unknown: report it, never retry it.
    if (db.Healthy()) db.Exec("ROLLBACK").IgnoreError();
    fail_all(commit);
  }
  return true;
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
  Status status = connection->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
  if (status.ok()) {
    status = fn(*connection);
    Status end = connection->Exec(status.ok() ? "COMMIT" : "ROLLBACK");
    if (status.ok()) status = end;
  }
  give_back(std::move(connection));
  return status;
}

StatusOr<int> Database::SchemaVersionForTest() {
  MutexLock lock(write_mu_);
  return SchemaVersion(*writer_, options_.migrations_table);
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
