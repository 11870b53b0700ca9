#include "monitor/actions/command_launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>

namespace cairn::monitor {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

// What a retraining command may need from the server's environment, and nothing else (no
// credentials the server itself was given).
constexpr const char* kInheritedVariables[] = {
    "PATH",       "HOME",        "LANG",      "TMPDIR",
    "PYTHONPATH", "VIRTUAL_ENV", "JAVA_HOME", "MLFLOW_TRACKING_URI",
};

// Without pidfds (kernels before 5.3, some sandboxes) the reaper looks for exits this often.
constexpr int kFallbackPollMillis = 20;

std::string ErrnoText(int error) { return std::strerror(error); }

// Closes a descriptor at scope exit.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

// posix_spawn's attribute and file-action objects, destroyed at scope exit.
class SpawnSetup {
 public:
  SpawnSetup() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
};

bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

StatusOr<std::vector<std::string>> BuildEnvironment(const std::map<std::string, std::string>& env) {
  std::map<std::string, std::string> merged;
  for (const char* name : kInheritedVariables) {
    // getenv is safe here as long as nothing in the server calls setenv after start-up.
    if (const char* value = std::getenv(name)) merged[name] = value;
  }
  for (const auto& [name, value] : env) {
    if (name.empty() || name.find('=') != std::string::npos || HasNul(name) || HasNul(value)) {
      return InvalidArgument("invalid environment variable name for a command: '" + name + "'");
    }
    merged[name] = value;
  }
  std::vector<std::string> out;
  out.reserve(merged.size());
  for (const auto& [name, value] : merged) out.push_back(name + "=" + value);
  return out;
}

Status SpawnError(int error, const std::string& program) {
  switch (error) {
    case ENOENT:
      return NotFound("command not found: " + program);
    case EACCES:
    case ENOEXEC:
    case ENOTDIR:
    case EISDIR:
    case ELOOP:
    case ENAMETOOLONG:
      return InvalidArgument("cannot run " + program + ": " + ErrnoText(error));
    default:
      return Internal("cannot start " + program + ": " + ErrnoText(error));
  }
}

}  // namespace

struct CommandLauncher::Child {
  int pid = 0;
  int pidfd = -1;  // -1 when pidfd_open is unavailable: polled instead
  ExitCallback on_exit;
  int64_t start_nanos = 0;
  std::optional<SteadyTime> deadline;  // of the request's timeout
  bool timed_out = false;
  bool term_sent = false;
  bool kill_sent = false;
  SteadyTime kill_at;  // SIGKILL time once SIGTERM was sent
};

StatusOr<std::unique_ptr<CommandLauncher>> CommandLauncher::Create(CommandLauncherOptions options) {
  if (options.max_running < 1) return InvalidArgument("max_running must be at least 1");
  if (options.kill_grace.count() < 0) return InvalidArgument("kill_grace must not be negative");
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    return Internal("cannot create the reaper's wake-up pipe: " + ErrnoText(errno));
  }
  return std::unique_ptr<CommandLauncher>(new CommandLauncher(std::move(options), fds[0], fds[1]));
}

CommandLauncher::CommandLauncher(CommandLauncherOptions options, int wake_read, int wake_write)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : SystemClock::Get()),
      wake_read_(wake_read),
      wake_write_(wake_write) {
  MutexLock lock(join_mu_);
  reaper_ = std::thread([this] { Reap(); });
}

CommandLauncher::~CommandLauncher() {
  Shutdown();
  ::close(wake_read_);
  ::close(wake_write_);
}

StatusOr<int> CommandLauncher::Launch(LaunchRequest request, ExitCallback on_exit) {
  if (request.argv.empty() || request.argv[0].empty()) {
    return InvalidArgument("a command needs a program to run");
  }
  for (const std::string& arg : request.argv) {
    if (HasNul(arg)) return InvalidArgument("command arguments must not contain NUL");
  }
  if (request.timeout.count() < 0) return InvalidArgument("timeout must not be negative");
  ASSIGN_OR_RETURN(std::vector<std::string> env, BuildEnvironment(request.env));
  if (!request.working_dir.empty()) {
    struct stat st;
    if (::stat(request.working_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return InvalidArgument("working directory is not a directory: " + request.working_dir);
    }
  }
  {
    // Cheap early refusal; the count is checked again, under the same lock, before the child
    // is recorded.
    MutexLock lock(mu_);
    if (stopping_) return Unavailable("the command launcher is shutting down");
    if (static_cast<int>(children_.size()) >= options_.max_running) {
      return Status(StatusCode::kResourceExhausted,
                    std::to_string(options_.max_running) + " commands are already running");
    }
  }

  // Every descriptor is opened close-on-exec; the dup2s below give the child its own copies.
  const std::string& out_path = request.log_path.empty() ? "/dev/null" : request.log_path;
  int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (out_fd < 0) {
    return InvalidArgument("cannot open the command log " + out_path + ": " + ErrnoText(errno));
  }
  FdCloser close_out(out_fd);
  int in_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in_fd < 0) return Internal("cannot open /dev/null: " + ErrnoText(errno));
  FdCloser close_in(in_fd);

  SpawnSetup setup;
  sigset_t empty_mask;
  sigemptyset(&empty_mask);
  // The server ignores SIGPIPE and may block signals in its threads; the command starts clean.
  sigset_t defaults;
  sigfillset(&defaults);
  sigdelset(&defaults, SIGKILL);
  sigdelset(&defaults, SIGSTOP);
  short flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  int rc = posix_spawnattr_setflags(&setup.attr, flags);
  if (rc == 0) rc = posix_spawnattr_setpgroup(&setup.attr, 0);  // a group of its own
  if (rc == 0) rc = posix_spawnattr_setsigmask(&setup.attr, &empty_mask);
  if (rc == 0) rc = posix_spawnattr_setsigdefault(&setup.attr, &defaults);
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&setup.actions, in_fd, STDIN_FILENO);
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&setup.actions, out_fd, STDOUT_FILENO);
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&setup.actions, out_fd, STDERR_FILENO);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  // Also closes what a library opened without O_CLOEXEC.
  if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(&setup.actions, STDERR_FILENO + 1);
#endif
  if (rc == 0 && !request.working_dir.empty()) {
    rc = posix_spawn_file_actions_addchdir_np(&setup.actions, request.working_dir.c_str());
  }
  if (rc != 0) return Internal("cannot prepare posix_spawn: " + ErrnoText(rc));

  std::vector<char*> argv;
  for (std::string& arg : request.argv) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (std::string& entry : env) envp.push_back(entry.data());
  envp.push_back(nullptr);

  auto child = std::make_unique<Child>();
  child->on_exit = std::move(on_exit);
  if (request.timeout.count() > 0) {
    child->deadline = std::chrono::steady_clock::now() + request.timeout;
  }
  child->start_nanos = clock_.MonotonicNanos();

  MutexLock lock(mu_);
  // Checked again under the lock that records the child, so two racing launches cannot both
  // take the last slot. glibc's posix_spawn returns only once the exec has happened (or
  // reports its errno), so holding the lock here is brief.
  if (stopping_) return Unavailable("the command launcher is shutting down");
  if (static_cast<int>(children_.size()) >= options_.max_running) {
    return Status(StatusCode::kResourceExhausted,
                  std::to_string(options_.max_running) + " commands are already running");
  }
  pid_t pid = 0;
  rc = posix_spawnp(&pid, argv[0], &setup.actions, &setup.attr, argv.data(), envp.data());
  if (rc != 0) return SpawnError(rc, request.argv[0]);
  child->pid = pid;
  child->pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  children_.push_back(std::move(child));
  Wake();
  return static_cast<int>(pid);
}

void CommandLauncher::Shutdown() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
    Wake();
  }
  MutexLock join_lock(join_mu_);
  if (reaper_.joinable()) reaper_.join();
}

int CommandLauncher::running() const {
  MutexLock lock(mu_);
  return static_cast<int>(children_.size());
}

void CommandLauncher::Wake() {
  char byte = 1;
  // A full pipe already holds a wake-up; nothing else can go wrong that matters here.
  [[maybe_unused]] ssize_t n = ::write(wake_write_, &byte, 1);
}

void CommandLauncher::Reap() {
  while (true) {
    std::vector<pollfd> fds;
    int timeout_ms = -1;
    std::vector<std::function<void()>> callbacks;
    {
      MutexLock lock(mu_);
      callbacks = Service();
      if (callbacks.empty()) {
        if (stopping_ && children_.empty()) return;
        fds.push_back({wake_read_, POLLIN, 0});
        SteadyTime now = std::chrono::steady_clock::now();
        std::optional<SteadyTime> next;
        for (const auto& child : children_) {
          if (child->pidfd >= 0) {
            fds.push_back({child->pidfd, POLLIN, 0});
          } else {
            timeout_ms = kFallbackPollMillis;
          }
          std::optional<SteadyTime> due;
          if (!child->term_sent) {
            due = child->deadline;
          } else if (!child->kill_sent) {
            due = child->kill_at;
          }
          if (due && (!next || *due < *next)) next = due;
        }
        if (next) {
          auto wait = std::chrono::ceil<std::chrono::milliseconds>(*next - now).count();
          int wait_ms = static_cast<int>(std::clamp<int64_t>(wait, 0, 60'000));
          timeout_ms = timeout_ms < 0 ? wait_ms : std::min(timeout_ms, wait_ms);
        }
      }
    }
    if (!callbacks.empty()) {
      for (auto& callback : callbacks) callback();
      continue;
    }
    ::poll(fds.data(), fds.size(), timeout_ms);
    char drain[64];
    while (::read(wake_read_, drain, sizeof(drain)) > 0) {
    }
  }
}

std::vector<std::function<void()>> CommandLauncher::Service() {
  std::vector<std::function<void()>> callbacks;
  SteadyTime now = std::chrono::steady_clock::now();
  for (auto it = children_.begin(); it != children_.end();) {
    Child& child = **it;
    if (!child.term_sent) {
      bool timeout_due = child.deadline && now >= *child.deadline;
      if (stopping_ || timeout_due) {
        child.timed_out = timeout_due;
        ::kill(-child.pid, SIGTERM);
        child.term_sent = true;
        child.kill_at = now + options_.kill_grace;
      }
    }
    if (child.term_sent && !child.kill_sent && now >= child.kill_at) {
      ::kill(-child.pid, SIGKILL);
      child.kill_sent = true;
    }

    // Looks without reaping, so the leader's pid, and with it the group id, stays reserved
    // until the stragglers are signalled.
    siginfo_t info;
    std::memset(&info, 0, sizeof(info));
    int rc = ::waitid(P_PID, static_cast<id_t>(child.pid), &info, WEXITED | WNOHANG | WNOWAIT);
    bool gone = rc == -1 && errno == ECHILD;  // reaped by someone else's waitpid(-1)
    if (!gone && !(rc == 0 && info.si_pid == child.pid)) {
      ++it;
      continue;
    }
    LaunchResult result;
    result.pid = child.pid;
    result.timed_out = child.timed_out;
    if (!gone) {
      if (child.term_sent) ::kill(-child.pid, SIGKILL);
      int status = 0;
      while (::waitpid(child.pid, &status, 0) == -1 && errno == EINTR) {
      }
      if (WIFEXITED(status)) {
        result.exit_code = WEXITSTATUS(status);
      } else if (WIFSIGNALED(status)) {
        result.signal = WTERMSIG(status);
      }
    }
    result.duration_ms = (clock_.MonotonicNanos() - child.start_nanos) / 1'000'000;
    if (child.pidfd >= 0) ::close(child.pidfd);
    if (child.on_exit) {
      callbacks.push_back([on_exit = std::move(child.on_exit), result] { on_exit(result); });
    }
    it = children_.erase(it);
  }
  return callbacks;
}

}  // namespace cairn::monitor
