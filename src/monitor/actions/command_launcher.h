#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"

namespace cairn::monitor {

struct LaunchRequest {
  // The program and its arguments, run without a shell. A program name without a '/' is looked
  // up in the server's PATH.
  std::vector<std::string> argv;
  // Added to (and overriding) the few variables the child inherits from the server: PATH,
  // HOME, LANG, TMPDIR, PYTHONPATH, VIRTUAL_ENV, JAVA_HOME and MLFLOW_TRACKING_URI, where set.
  std::map<std::string, std::string> env;
  std::string working_dir;  // empty: the server's
  // stdout and stderr are appended here (created 0640 if missing); empty: /dev/null.
  // stdin is always /dev/null.
  std::string log_path;
  // From the start; then the process group gets SIGTERM, and SIGKILL after the launcher's
  // kill_grace. 0: no limit.
  std::chrono::seconds timeout{0};
};

struct LaunchResult {
  int pid = 0;
  int exit_code = -1;      // the exit status when the command exited; -1 when a signal ended it
  int signal = 0;          // the signal that ended it; 0 when it exited
  bool timed_out = false;  // ended by the launcher because `timeout` passed
  int64_t duration_ms = 0;
};

struct CommandLauncherOptions {
  int max_running = 4;  // commands running at once; at least 1
  // Between SIGTERM and SIGKILL, on timeout and on Shutdown.
  std::chrono::milliseconds kill_grace{5000};
  // For LaunchResult::duration_ms; null: SystemClock. Borrowed; must outlive the launcher.
  const Clock* clock = nullptr;
};

// Starts retraining commands as child processes and reports how each ended.
//
// Each command is started with posix_spawn in a new process group of its own, without a
// shell, with a minimal environment, stdin on /dev/null, stdout and stderr appended to its log,
// and no other descriptor of the server. One reaper thread watches the launcher's own children
// (never waitpid(-1), so other children of the process are left alone): it enforces timeouts by
// signalling the whole process group (SIGTERM, then SIGKILL after kill_grace), reaps the
// command, and calls its on_exit. When the launcher signalled a group, whatever is left of it
// when its leader exits gets SIGKILL, so no background child outlives a killed command. The
// process must not set SIGCHLD to SIG_IGN (the kernel would reap the children first, and their
// exit status would be lost: exit_code -1, signal 0).
//
// on_exit runs on the reaper thread, once per launched command, without a lock held; it may
// call Launch but must not call Shutdown or destroy the launcher, and should return quickly
// (other commands' timeouts wait for it).
//
// Thread-safe: every method may be called from any thread.
class CommandLauncher {
 public:
  using ExitCallback = std::function<void(const LaunchResult&)>;

  // INVALID_ARGUMENT when the options are out of range; INTERNAL when the reaper cannot start.
  static StatusOr<std::unique_ptr<CommandLauncher>> Create(CommandLauncherOptions options = {});
  // Shutdown().
  ~CommandLauncher();
  CommandLauncher(const CommandLauncher&) = delete;
  CommandLauncher& operator=(const CommandLauncher&) = delete;

  // Starts `request` and returns the child's pid (also its process group id). Errors, with no
  // process left behind and on_exit never called: INVALID_ARGUMENT for an empty argv, a
  // working_dir that is not a directory, an executable that cannot be run, or an unusable
  // log_path; NOT_FOUND when the executable does not exist; RESOURCE_EXHAUSTED when
  // max_running commands are running; UNAVAILABLE after Shutdown; INTERNAL when spawning fails
  // otherwise.
  StatusOr<int> Launch(LaunchRequest request, ExitCallback on_exit);

  // Refuses new launches, sends SIGTERM to every running command's process group, SIGKILL to
  // those still there after kill_grace, waits until each is reaped and its on_exit has run,
  // and stops the reaper. Idempotent.
  void Shutdown();

  // Commands started and not yet reaped.
  int running() const;

 private:
  struct Child;

  CommandLauncher(CommandLauncherOptions options, int wake_read, int wake_write);
  void Reap();
  void Wake();
  // Signals and reaps what is due; returns the callbacks to run, without the lock.
  std::vector<std::function<void()>> Service() REQUIRES(mu_);

  const CommandLauncherOptions options_;
  const Clock& clock_;
  // A pipe whose write end wakes the reaper from poll (a new child, Shutdown).
  const int wake_read_;
  const int wake_write_;

  mutable Mutex mu_;
  std::vector<std::unique_ptr<Child>> children_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;

  Mutex join_mu_;  // serialises Shutdown's joining
  std::thread reaper_ GUARDED_BY(join_mu_);
};

}  // namespace cairn::monitor
