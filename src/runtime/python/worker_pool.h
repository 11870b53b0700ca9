#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "runtime/python/worker_process.h"

namespace cairn::runtime::python {

// Python workers started ahead of need, so a model load skips the seconds that importing
// mlflow, pandas and numpy takes.
//
// One manager thread does all the forking (PR_SET_PDEATHSIG is tied to the forking thread, and
// this one lives as long as the pool), keeps `spare_workers` started workers waiting, starts
// more while callers of Acquire wait, and logs every worker's stdout and stderr line by line
// with its pid. A worker counts as started when it has sent "ready". When workers fail to start
// (no mlflow in that interpreter, ...), it backs off (1 s doubling to 30 s) before starting
// spares again; a waiting Acquire still gets a fresh attempt.
//
// Thread-safe. Workers handed out belong to the caller; the pool keeps logging their output.
// Destruction stops the manager and kills the spare workers: destroy it only after every worker
// handed out is gone (their output would no longer be read, and the manager's exit kills them).
class WorkerPool {
 public:
  struct Options {
    WorkerProcess::SpawnSpec spawn;
    int spare_workers = 1;
    // Longest a worker may take from fork to "ready".
    std::chrono::milliseconds startup_timeout{std::chrono::seconds(60)};
  };

  explicit WorkerPool(Options options);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // A started worker, waiting for it until `deadline`. FailedPrecondition with the reason (exit
  // status and the last lines it printed) when a worker failed to start while this call waited;
  // Unavailable when the deadline passed first or `cancel` (polled every 100 ms) returned true.
  StatusOr<std::unique_ptr<WorkerProcess>> Acquire(Deadline deadline,
                                                   const std::function<bool()>& cancel = {})
      EXCLUDES(mu_);

  // Started workers waiting to be taken.
  int SpareCount() const EXCLUDES(mu_);

 private:
  class Manager;

  void Wake();

  const Options options_;
  UniqueFd wake_fd_;  // an eventfd; the manager polls it

  mutable Mutex mu_;
  std::condition_variable cv_;  // a worker became ready, or one failed to start
  std::deque<std::unique_ptr<WorkerProcess>> ready_ GUARDED_BY(mu_);
  int waiting_ GUARDED_BY(mu_) = 0;
  uint64_t startup_failures_ GUARDED_BY(mu_) = 0;
  std::string last_failure_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;

  std::unique_ptr<Manager> manager_;
  std::thread thread_;
};

}  // namespace cairn::runtime::python
