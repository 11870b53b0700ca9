#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/group_commit.h"
#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "sqlite/connection.h"
#include "sqlite/migrator.h"

namespace cairn::sqlite {

struct DatabaseOptions {
  // FULL fsyncs the WAL on every commit: durable across power loss, at a large cost per write.
  // The default (NORMAL) is durable across a crash of the process; see connection.cc.
  bool synchronous_full = false;
  // Connections used for reads; WAL lets them read while the writer writes. 0 sends reads
  // through the writer connection.
  int reader_connections = 4;
  // How long a connection waits for a lock held by another process before giving up.
  std::chrono::milliseconds busy_timeout{10000};
  // WAL size, in frames, at which a background thread copies the WAL back into the database
  // (a passive checkpoint), keeping fsyncs off the write path. 0 leaves checkpoints to SQLite on
  // the committing thread.
  int checkpoint_frames = 1000;
};

// One SQLite database file in WAL mode, opened for a store: a single writer connection with
// group commit, a pool of reader connections, and a background checkpointer. Any store opens
// its own file with it (meta.db for metadata; another file for another store) and passes the
// schema history it owns.
//
// Concurrency: the writer runs every write in a BEGIN IMMEDIATE transaction, so writes of this
// process never contend for SQLite's lock with each other; writes from other processes are
// waited for (busy timeout). Reads run in read transactions on pooled reader connections and see
// a consistent snapshot. Every connection keeps its prepared statements. Thread-safe.
class Database {
 public:
  using ConnectionFn = std::function<Status(Connection&)>;

  // Opens or creates the database at `path` (the parent directory must exist; ":memory:" gives a
  // private in-memory database, for tests) and migrates it with `migrations` (see migrator.h:
  // safe when several processes open the same file at once).
  static StatusOr<std::unique_ptr<Database>> Open(const std::string& path,
                                                  const std::vector<Migration>& migrations,
                                                  DatabaseOptions options = {});
  ~Database();

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs `fn` on the writer inside a savepoint of a BEGIN IMMEDIATE transaction and returns
  // once that transaction has committed: `fn`'s changes are kept if it returns OK, else rolled
  // back to the savepoint, and its error returned. Group commit: writes that arrive while a
  // transaction is running are queued, and the next caller to find no transaction running runs
  // all queued writes in one transaction, so concurrent writers share the cost of a commit
  // (the WAL pages they all touch are written once). Each caller still returns only after the
  // commit that holds its changes, so an acknowledged write is as durable as before.
  Status Write(const ConnectionFn& fn) EXCLUDES(write_mu_);
  // Write without waiting: queues `fn` into the same group commit and returns at once; `done`
  // gets what Write would have returned, after the commit that holds the write (or with its
  // error), on whichever thread ran the group: the database's own writer thread, or a Write
  // caller that ran a group holding this write. `done` must be quick and must not call back
  // into this database. For callers that must not block, such as an I/O thread. Writes queued
  // when the database is destroyed are still run and answered.
  using DoneFn = std::function<void(Status)>;
  void WriteAsync(ConnectionFn fn, DoneFn done) EXCLUDES(write_mu_);
  // Copies the whole WAL into the database file and truncates the WAL to zero bytes, retrying
  // while readers hold old snapshots (up to ~1 s): after an erasure (deletes with
  // secure_delete on), no copy of the deleted rows stays in either file. UNAVAILABLE when
  // readers kept the WAL busy throughout.
  Status CheckpointTruncate() EXCLUDES(write_mu_);
  // Runs `fn` in a read transaction on a pooled reader connection.
  Status Read(const ConnectionFn& fn) EXCLUDES(write_mu_, pool_mu_);
  // Read for one result: `fn` returns a StatusOr<T>, which this returns.
  template <typename Fn>
  auto ReadValue(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
    std::optional<decltype(fn(std::declval<Connection&>()))> result;
    RETURN_IF_ERROR(Read([&](Connection& c) {
      result.emplace(fn(c));
      return result->status();
    }));
    return std::move(*result);
  }

  const std::string& path() const { return path_; }

  // The schema version of the open database.
  StatusOr<int> SchemaVersionForTest() EXCLUDES(write_mu_);
  // PRAGMA synchronous of the writer connection, the one that commits: 1 NORMAL, 2 FULL.
  StatusOr<int> SynchronousForTest() EXCLUDES(write_mu_);

 private:
  Database(std::string path, DatabaseOptions options);
  Status Init(const std::vector<Migration>& migrations);

  using Group = GroupCommit<Connection>::Group;
  // Runs one group of the group commit as one transaction, each write in a savepoint.
  void RunWriteGroup(const Group& group) EXCLUDES(write_mu_);
  void CheckpointLoop() EXCLUDES(checkpoint_mu_);

  const std::string path_;
  const DatabaseOptions options_;
  bool reads_on_writer_ = false;  // set by Init, then constant

  Mutex write_mu_;
  std::unique_ptr<Connection> writer_ GUARDED_BY(write_mu_);

  GroupCommit<Connection> group_commit_;  // started by Init, stopped first by the destructor

  Mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<Connection>> idle_readers_ GUARDED_BY(pool_mu_);

  Mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_requested_ GUARDED_BY(checkpoint_mu_) = false;
  bool stopping_ GUARDED_BY(checkpoint_mu_) = false;
  std::unique_ptr<Connection> checkpointer_;  // used only by checkpoint_thread_
  std::thread checkpoint_thread_;
};

}  // namespace cairn::sqlite
