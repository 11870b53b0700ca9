#include "sqlite/database.h"

#include <chrono>
#include <memory>
#include <thread>
#include <utility>

namespace cairn::sqlite {

// How long the writer thread keeps looking for more asynchronous writes before it sleeps.
constexpr auto kWriterLinger = std::chrono::microseconds(50);

Database::Database(std::string path, DatabaseOptions options)
    : path_(std::move(path)), options_(options) {}

Database::~Database() {
  if (async_writer_.joinable()) {
    {
      MutexLock lock(group_mu_);
      async_stopping_ = true;
    }
    async_cv_.notify_all();
    async_writer_.join();  // after it has run and answered every queued write
  }
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
  async_writer_ = std::thread([this] { AsyncWriterLoop(); });
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

struct Database::PendingWrite {
  const ConnectionFn* fn = nullptr;  // the caller's (Write) or owned_fn (WriteAsync)
  ConnectionFn owned_fn;
  DoneFn done_fn;     // set for WriteAsync; this entry is then heap-allocated and ours
  Status status;      // written by the group's runner before `done`
  bool done = false;  // guarded by group_mu_ (Write only)
};

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
    // Nobody is writing: run everything queued so far (this write included) as one group.
    RunQueuedGroup(lock);
  }
  return self.status;
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
  // A running group's runner wakes the writer thread when it finds more queued.
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
  // Outside every lock: the callbacks may post to other threads.
  for (auto& p : answered) p->done_fn(p->status);
  lock.Lock();
}

void Database::AsyncWriterLoop() {
  // Under steady load the next write arrives within microseconds of a commit: looking again for
  // a short while, yielding the core meanwhile, saves a sleep and a wake-up per write.
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
    // Checked and waited for under the same lock: no wake-up is lost.
    lock.Wait(async_cv_);
  }
}

void Database::RunWriteGroup(const std::vector<PendingWrite*>& group) {
  MutexLock lock(write_mu_);
  auto txn = Transaction::Begin(*writer_, Transaction::Kind::kImmediate);
  if (!txn.ok()) {
    for (PendingWrite* p : group) p->status = txn.status();
    return;
  }
  for (PendingWrite* p : group) {
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
    for (PendingWrite* p : group) {
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
