#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"

namespace cairn {

// The queue of a single-writer database's group commit, shared by the SQLite and PostgreSQL
// databases: writes that arrive while a group (one transaction) runs are queued, and the next
// caller of Write to find no group running runs every queued write as the next group, so
// concurrent writers share one commit. Each Write returns only once the group that holds it has
// run. WriteAsync queues without waiting; a thread of the queue's own runs groups that hold such
// writes when no caller of Write does, and answers them through their callbacks. What a group
// does (its transaction, savepoints, retries) is the database's: the `run_group` function given
// to Start, which sets the status of every write of the group. Groups never overlap.
//
// Thread-safe.
template <typename Connection>
class GroupCommit {
 public:
  using WriteFn = std::function<Status(Connection&)>;
  using DoneFn = std::function<void(Status)>;

  // One queued write.
  struct Entry {
    const WriteFn* fn = nullptr;  // the caller's (Write) or owned_fn (WriteAsync)
    WriteFn owned_fn;
    DoneFn done_fn;     // set for WriteAsync; the entry is then heap-allocated and the queue's
    Status status;      // set by run_group
    bool done = false;  // guarded by mu_ (Write only)
  };
  using Group = std::vector<Entry*>;
  using RunGroupFn = std::function<void(const Group&)>;

  GroupCommit() = default;
  ~GroupCommit() { Stop(); }
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Sets what runs a group and starts the writer thread; before any Write or WriteAsync, once.
  void Start(RunGroupFn run_group) {
    run_group_ = std::move(run_group);
    writer_ = std::thread([this] { WriterLoop(); });
  }

  // Runs and answers every write queued so far, then stops the writer thread. The database
  // calls it before it closes its connections; later writes are not allowed. Idempotent.
  void Stop() EXCLUDES(mu_) {
    if (!writer_.joinable()) return;
    {
      MutexLock lock(mu_);
      stopping_ = true;
    }
    async_cv_.notify_all();
    writer_.join();
  }

  // Queues `fn` and returns its status once the group holding it has run.
  Status Write(const WriteFn& fn) EXCLUDES(mu_) {
    Entry self;
    self.fn = &fn;
    MutexLock lock(mu_);
    pending_.push_back(&self);
    while (!self.done) {
      if (running_) {
        lock.Wait(group_cv_);
        continue;
      }
      // Nobody is writing: run everything queued so far (this write included) as one group.
      RunQueued(lock);
    }
    return self.status;
  }

  // Queues `fn` and returns at once; `done` gets what Write would have returned, on the thread
  // that ran the group (the writer thread, or a caller of Write). `done` must be quick and must
  // not write through this queue.
  void WriteAsync(WriteFn fn, DoneFn done) EXCLUDES(mu_) {
    auto* write = new Entry;
    write->owned_fn.swap(fn);
    write->fn = &write->owned_fn;
    write->done_fn.swap(done);
    bool wake;
    {
      MutexLock lock(mu_);
      pending_.push_back(write);
      wake = !running_;
    }
    // A running group's runner wakes the writer thread when it finds more queued.
    if (wake) async_cv_.notify_one();
  }

 private:
  // How long the writer thread keeps looking for more asynchronous writes before it sleeps:
  // under steady load the next write arrives within microseconds of a commit, and looking again
  // for a short while, yielding the core meanwhile, saves a sleep and a wake-up per write.
  static constexpr auto kWriterLinger = std::chrono::microseconds(50);

  // Runs every queued write as one group; called with `lock` holding mu_ and no group running,
  // and returns with it held again. The analysis cannot follow a lock passed by reference
  // through its Unlock/Lock, hence the opt-out; the body is short.
  void RunQueued(MutexLock& lock) NO_THREAD_SAFETY_ANALYSIS {
    running_ = true;
    Group group;
    group.swap(pending_);
    lock.Unlock();
    run_group_(group);
    std::vector<std::unique_ptr<Entry>> answered;
    lock.Lock();
    for (Entry* w : group) {
      if (w->done_fn) {
        answered.emplace_back(w);
      } else {
        w->done = true;
      }
    }
    running_ = false;
    bool more = !pending_.empty();
    lock.Unlock();
    group_cv_.notify_all();
    if (more) async_cv_.notify_one();
    // Outside every lock: the callbacks may post to other threads.
    for (auto& w : answered) w->done_fn(w->status);
    lock.Lock();
  }

  void WriterLoop() EXCLUDES(mu_) {
    auto linger_until = std::chrono::steady_clock::time_point::min();
    MutexLock lock(mu_);
    while (true) {
      if (!pending_.empty() && !running_) {
        RunQueued(lock);
        linger_until = std::chrono::steady_clock::now() + kWriterLinger;
        continue;
      }
      if (stopping_ && pending_.empty() && !running_) return;
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

  RunGroupFn run_group_;  // set by Start, then constant
  Mutex mu_;
  std::condition_variable group_cv_;  // a group ended
  std::condition_variable async_cv_;  // wakes the writer thread
  Group pending_ GUARDED_BY(mu_);
  bool running_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread writer_;
};

}  // namespace cairn
