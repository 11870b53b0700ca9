#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cairn {

// A fixed pool of threads for blocking work (SQLite writes, fsync of uploads, calls into worker
// processes), so the HTTP I/O threads never wait on a disk or another process. The queue is
// bounded: when it is full, TrySubmit refuses instead of letting work pile up without limit,
// and the caller answers "busy" (503) at once.
//
// Thread-safety: every method may be called from any thread, including from a task. Tasks run
// in submission order as threads free up; a task must not wait for a later task of the same
// pool (with every thread so waiting, the pool deadlocks).
class ThreadPool {
 public:
  struct Options {
    int threads = 4;            // at least 1
    size_t max_queued = 4096;   // tasks that may wait for a busy thread (0: none may wait)
    std::string name = "pool";  // for logs
  };

  explicit ThreadPool(Options options);
  // Runs what is queued, then joins (Shutdown).
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Queues `task`. Returns false, without running or keeping it, when the queue is full or the
  // pool is shutting down. A task that throws is logged and the thread goes on.
  [[nodiscard]] bool TrySubmit(std::function<void()> task);

  // Stops taking tasks, runs the ones already queued and joins the threads. Idempotent; must
  // not be called from a task.
  void Shutdown();

  int threads() const { return static_cast<int>(threads_.size()); }
  // Tasks waiting for a thread.
  size_t queued() const;
  // Tasks running now.
  int busy() const;

 private:
  void Run();

  const Options options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  int busy_ = 0;                             // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace cairn
