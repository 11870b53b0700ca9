#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "runtime/python/frame.h"

namespace cairn::runtime::python {

using Deadline = std::chrono::steady_clock::time_point;

// Owns a file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(other.Release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

// How a blocking exchange with a worker ended.
enum class IoOutcome {
  kOk,
  kTimedOut,  // the deadline passed first
  kClosed,    // the worker closed its end: it exited or was killed
  kWoken,     // the wake descriptor became readable (the owner is shutting down)
  kFailed,    // a system error or a malformed frame; `error` says which
};

struct IoResult {
  IoOutcome outcome = IoOutcome::kOk;
  std::string error;
  // kOk from Receive: the frame read.
  IncomingFrame frame;
};

// One Python worker process and the socket to it.
//
// The child runs `<python> -u -c <worker script> 3` with fd 3 its end of a Unix socketpair,
// stdin on /dev/null, stdout and stderr on a pipe whose read end Spawn hands back (the pool logs
// it), the environment given (nothing else of the server's), its own process group, every other
// descriptor closed, the signal mask and dispositions reset, and PR_SET_PDEATHSIG = SIGKILL, so
// it dies with the thread that spawned it.
//
// Thread-compatible: one thread at a time uses an instance (the pool while the worker starts,
// then the model instance that owns it). The destructor kills and reaps the process.
class WorkerProcess {
 public:
  struct SpawnSpec {
    std::string python;            // absolute path (or one with a '/'), not searched on PATH
    std::string script;            // the worker's Python source
    std::vector<std::string> env;  // "NAME=value"
  };
  struct Spawned {
    std::unique_ptr<WorkerProcess> process;
    UniqueFd output;  // read end of the child's stdout+stderr, non-blocking
  };

  // Forks and execs a worker. PR_SET_PDEATHSIG fires when the *thread* that forked exits, so
  // call it from a thread that lives as long as the worker should. Internal when fork or the
  // descriptors fail; a bad executable shows later as the worker exiting with status 127.
  static StatusOr<Spawned> Spawn(const SpawnSpec& spec);

  ~WorkerProcess();
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  pid_t pid() const { return pid_; }
  // The server's end of the socket (for poll); -1 once killed.
  int socket_fd() const { return socket_.get(); }

  // Writes a whole frame. `wake_fd` (or -1) interrupts the wait when it becomes readable.
  IoResult Send(const OutgoingFrame& frame, Deadline deadline, int wake_fd = -1);
  // Waits until the worker has sent something or closed its end (kOk), without reading.
  IoOutcome WaitReadable(Deadline deadline, int wake_fd = -1);
  // Reads one whole frame (the deadline covers all of it).
  IoResult Receive(Deadline deadline, int wake_fd = -1);
  // True when the worker has closed its socket or sent something unasked (a waiting worker
  // sends nothing), i.e. it cannot take a request. Does not block.
  bool ClosedOrChatty() const;

  // SIGKILLs the worker's process group, reaps the worker and says how it ended ("exit status
  // 1", "signal 9"). Idempotent: later calls return the same text.
  std::string Kill();

  // Resident set of the worker (/proc/<pid>/statm); 0 once it is gone.
  int64_t ResidentBytes() const;

 private:
  WorkerProcess(pid_t pid, UniqueFd socket) : pid_(pid), socket_(std::move(socket)) {}

  pid_t pid_;
  UniqueFd socket_;
  bool reaped_ = false;
  std::string exit_description_;
};

// Resident set size of `pid` in bytes from /proc/<pid>/statm; 0 when it cannot be read.
int64_t ResidentBytesOf(pid_t pid);

}  // namespace cairn::runtime::python
