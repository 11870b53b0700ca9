#include "sqlite/database.h"

#include <chrono>
#include <memory>
#include <thread>
#include <utility>

namespace cairn::sqlite {

Database::Database(std::string path, DatabaseOptions options)
    : path_(std::move(path)), options_(options) {}

Database::~Database() {
  group_commit_.Stop();  // after it has run and answered every queued write
  if (checkpoint_thread_.joinable()) {
    {
      MutexLock lock(checkpoint_mu_);
      stopping_ = true;
    }
    checkpoint_cv_.notify_all();
    checkpoint_thread_.join();
  }
  // Readers first: the writer, closed last, then checkpoints the WAL into the database file.
  idle_readers_.clear();
  checkpointer_.reset();
  if (writer_ != nullptr) {
    writer_->SetWalHook([](int) {});
    // Refreshes the query planner's statistics where SQLite thinks they are stale; cheap.
    writer_->Exec("PRAGMA analysis_limit=400; PRAGMA optimize").IgnoreError();
    writer_.reset();
  }
}

StatusOr<std::unique_ptr<Database>> Database::Open(const std::string& path,
                                                   const std::vector<Migration>& migrations,
                                                   DatabaseOptions options) {
  std::unique_ptr<Database> db(new Database(path, options));
  RETURN_IF_ERROR(db->Init(migrations));
  return db;
}

Status Database::Init(const std::vector<Migration>& migrations) {
  bool in_memory = path_ == ":memory:" || path_.empty();
  ConnectionOptions connection_options;
  connection_options.busy_timeout = options_.busy_timeout;
  connection_options.synchronous_full = options_.synchronous_full;
  bool background_checkpoints = !in_memory && options_.checkpoint_frames > 0;
  connection_options.wal_autocheckpoint = !background_checkpoints;
  // No other thread can see the database yet; the locks only satisfy the annotations.
  MutexLock write_lock(write_mu_);
  ASSIGN_OR_RETURN(writer_, Connection::Open(path_, connection_options));
  RETURN_IF_ERROR(Migrate(*writer_, migrations));
  group_commit_.Start([this](const Group& group) { RunWriteGroup(group); });
  // A private in-memory database exists only on the writer connection.
  reads_on_writer_ = in_memory || options_.reader_connections <= 0;
  if (in_memory) return Status::Ok();

  ConnectionOptions reader_options = connection_options;
  reader_options.read_only = true;
  reader_options.wal_autocheckpoint = true;
  for (int i = 0; i < options_.reader_connections; ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<Connection> reader, Connection::Open(path_, reader_options));
    MutexLock pool_lock(pool_mu_);
    idle_readers_.push_back(std::move(reader));
  }
  if (background_checkpoints) {
    ASSIGN_OR_RETURN(checkpointer_, Connection::Open(path_, reader_options));
    // Runs on the writer thread after each commit. Ask for a checkpoint each time the WAL has
    // grown by `threshold` frames since the last request (or since the WAL restarted).
    int threshold = options_.checkpoint_frames;
    writer_->SetWalHook([this, threshold, next = threshold, last = 0](int frames) mutable {
      if (frames < last) next = threshold;
      last = frames;
      if (frames < next) return;
      next = frames + threshold;
      {
        MutexLock lock(checkpoint_mu_);
        checkpoint_requested_ = true;
      }
      checkpoint_cv_.notify_one();
    });
    checkpoint_thread_ = std::thread([this] { CheckpointLoop(); });
  }
  return Status::Ok();
}

void Database::CheckpointLoop() {
  MutexLock lock(checkpoint_mu_);
  while (true) {
    while (!stopping_ && !checkpoint_requested_) lock.Wait(checkpoint_cv_);
    if (stopping_) return;
    checkpoint_requested_ = false;
    lock.Unlock();
    // A failed passive checkpoint is retried on the next request; the WAL only grows meanwhile.
    checkpointer_->CheckpointPassive().IgnoreError();
    lock.Lock();
  }
}

Status Database::Write(const ConnectionFn& fn) { return group_commit_.Write(fn); }

void Database::WriteAsync(ConnectionFn fn, DoneFn done) {
  group_commit_.WriteAsync(std::move(fn), std::move(done));
}

Status Database::CheckpointTruncate() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    {
      MutexLock lock(write_mu_);
      ASSIGN_OR_RETURN(Statement s, writer_->Prepare("PRAGMA wal_checkpoint(TRUNCATE)"));
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (row && s.Int(0) == 0) return Status::Ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Unavailable("the WAL of " + path_ + " stayed in use; not truncated");
}

void Database::RunWriteGroup(const Group& group) {
  MutexLock lock(write_mu_);
  auto txn = Transaction::Begin(*writer_, Transaction::Kind::kImmediate);
  if (!txn.ok()) {
    for (auto* p : group) p->status = txn.status();
    return;
  }
  for (auto* p : group) {
    Status s = writer_->Exec("SAVEPOINT cairn_write");
    if (s.ok()) {
      s = (*p->fn)(*writer_);
      if (s.ok()) {
        s = writer_->Exec("RELEASE cairn_write");
      } else {
        // Undo only this write; the others in the group stand.
        writer_->Exec("ROLLBACK TO cairn_write; RELEASE cairn_write").IgnoreError();
      }
    }
    p->status = s;
  }
  Status commit = txn->Commit();
  if (!commit.ok()) {
    for (auto* p : group) {
      if (p->status.ok()) p->status = commit;
    }
  }
}

Status Database::Read(const ConnectionFn& fn) {
  if (reads_on_writer_) {
    MutexLock lock(write_mu_);
    ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*writer_, Transaction::Kind::kDeferred));
    RETURN_IF_ERROR(fn(*writer_));
    return txn.Commit();
  }
  std::unique_ptr<Connection> reader;
  {
    MutexLock lock(pool_mu_);
    while (idle_readers_.empty()) lock.Wait(pool_cv_);
    reader = std::move(idle_readers_.back());
    idle_readers_.pop_back();
  }
  Status status;
  {
    auto txn = Transaction::Begin(*reader, Transaction::Kind::kDeferred);
    if (!txn.ok()) {
      status = txn.status();
    } else {
      status = fn(*reader);
      if (status.ok()) status = txn->Commit();
    }
  }
  {
    MutexLock lock(pool_mu_);
    idle_readers_.push_back(std::move(reader));
  }
  pool_cv_.notify_one();
  return status;
}

StatusOr<int> Database::SchemaVersionForTest() {
  MutexLock lock(write_mu_);
  return SchemaVersion(*writer_);
}

StatusOr<int> Database::SynchronousForTest() {
  MutexLock lock(write_mu_);
  ASSIGN_OR_RETURN(Statement pragma, writer_->Prepare("PRAGMA synchronous"));
  ASSIGN_OR_RETURN(bool row, pragma.Step());
  if (!row) return Internal("PRAGMA synchronous returned no row");
  return static_cast<int>(pragma.Int(0));
}

}  // namespace cairn::sqlite
