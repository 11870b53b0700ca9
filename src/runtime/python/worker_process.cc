#include "runtime/python/worker_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace cairn::runtime::python {
namespace {

std::string Errno(std::string_view what) { return std::string(what) + ": " + std::strerror(errno); }

// Runs in the forked child: only async-signal-safe calls until execve.
[[noreturn]] void ExecWorker(int sock, int out, int devnull, pid_t parent, int max_fd,
                             char* const* argv, char* const* envp) {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, nullptr);
  }
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  // The parent may have died before the line above took effect.
  if (getppid() != parent) _exit(1);
  // Its own group: a terminal's Ctrl-C does not reach it, and killing the group also ends any
  // process the model started.
  setpgid(0, 0);

  // Move the descriptors above the standard ones first so no dup2 clobbers another source.
  int high_sock = fcntl(sock, F_DUPFD, 10);
  int high_out = fcntl(out, F_DUPFD, 10);
  int high_null = fcntl(devnull, F_DUPFD, 10);
  if (high_sock < 0 || high_out < 0 || high_null < 0 || dup2(high_null, 0) < 0 ||
      dup2(high_out, 1) < 0 || dup2(high_out, 2) < 0 || dup2(high_sock, 3) < 0) {
    _exit(126);
  }
  if (syscall(SYS_close_range, 4U, ~0U, 0U) != 0) {
    for (int fd = 4; fd < max_fd; ++fd) close(fd);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execve(argv[0], argv, envp);
  static constexpr char kMessage[] = "cairn: cannot execute the python interpreter\n";
  ssize_t ignored = write(2, kMessage, sizeof kMessage - 1);
  (void)ignored;
  _exit(127);
}

int MaxFd() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 65536;
  return static_cast<int>(std::min<rlim_t>(limit.rlim_cur, 1 << 20));
}

bool SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

// Waits until `fd` is ready for `events`, the deadline passes or `wake_fd` is readable.
IoOutcome WaitFor(int fd, short events, Deadline deadline, int wake_fd, std::string& error) {
  while (true) {
    int timeout_ms = -1;
    if (deadline != Deadline::max()) {
      auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return IoOutcome::kTimedOut;
      timeout_ms = static_cast<int>(std::min<int64_t>(left.count(), 1 << 30));
    }
    pollfd fds[2] = {{fd, events, 0}, {wake_fd, POLLIN, 0}};
    int n = poll(fds, wake_fd >= 0 ? 2 : 1, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = Errno("poll");
      return IoOutcome::kFailed;
    }
    if (n == 0) continue;  // re-check the deadline
    if (wake_fd >= 0 && (fds[1].revents & POLLIN)) return IoOutcome::kWoken;
    if (fds[0].revents != 0) return IoOutcome::kOk;
  }
}

IoOutcome ReadExact(int fd, char* out, std::size_t n, Deadline deadline, int wake_fd,
                    std::string& error) {
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = recv(fd, out + got, n - got, 0);
    if (r > 0) {
      got += static_cast<std::size_t>(r);
      continue;
    }
    if (r == 0) return IoOutcome::kClosed;
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) return IoOutcome::kClosed;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      error = Errno("recv from worker");
      return IoOutcome::kFailed;
    }
    IoOutcome waited = WaitFor(fd, POLLIN, deadline, wake_fd, error);
    if (waited != IoOutcome::kOk) return waited;
  }
  return IoOutcome::kOk;
}

uint64_t GetLe(const char* in, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    value |= static_cast<uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  }
  return value;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    return "signal " + std::to_string(WTERMSIG(status)) +
           (name ? std::string(" (SIG") + name + ")" : std::string());
  }
  return "wait status " + std::to_string(status);
}

}  // namespace

void UniqueFd::Reset(int fd) {
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
}

StatusOr<WorkerProcess::Spawned> WorkerProcess::Spawn(const SpawnSpec& spec) {
  std::vector<std::string> args = {spec.python, "-u", "-c", spec.script, "3"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = spec.env;
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return Internal(Errno("socketpair"));
  }
  UniqueFd mine(sv[0]);
  UniqueFd theirs(sv[1]);
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return Internal(Errno("pipe2"));
  UniqueFd output_read(pipe_fds[0]);
  UniqueFd output_write(pipe_fds[1]);
  UniqueFd devnull(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!devnull.valid()) return Internal(Errno("open /dev/null"));

  pid_t parent = getpid();
  int max_fd = MaxFd();
  // Block every signal across fork so the child never runs one of the server's handlers.
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = fork();
  if (pid == 0) {
    ExecWorker(theirs.get(), output_write.get(), devnull.get(), parent, max_fd, argv.data(),
               envp.data());
  }
  int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) {
    errno = fork_errno;
    return Internal(Errno("fork"));
  }
  if (!SetNonBlocking(mine.get()) || !SetNonBlocking(output_read.get())) {
    std::unique_ptr<WorkerProcess> doomed(new WorkerProcess(pid, std::move(mine)));
    return Internal(Errno("fcntl O_NONBLOCK"));
  }
  Spawned spawned;
  spawned.process.reset(new WorkerProcess(pid, std::move(mine)));
  spawned.output = std::move(output_read);
  return spawned;
}

WorkerProcess::~WorkerProcess() { Kill(); }

IoResult WorkerProcess::Send(const OutgoingFrame& frame, Deadline deadline, int wake_fd) {
  IoResult result;
  if (!socket_.valid()) {
    result.outcome = IoOutcome::kClosed;
    return result;
  }
  std::vector<iovec> pieces;
  pieces.reserve(frame.payload.size() + 1);
  pieces.push_back({const_cast<char*>(frame.head.data()), frame.head.size()});
  for (std::span<const std::byte> piece : frame.payload) {
    pieces.push_back({const_cast<std::byte*>(piece.data()), piece.size()});
  }
  std::size_t first = 0;
  while (first < pieces.size()) {
    msghdr msg{};
    msg.msg_iov = pieces.data() + first;
    msg.msg_iovlen = std::min<std::size_t>(pieces.size() - first, IOV_MAX);
    ssize_t sent = sendmsg(socket_.get(), &msg, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE || errno == ECONNRESET) {
        result.outcome = IoOutcome::kClosed;
        return result;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        result.outcome = IoOutcome::kFailed;
        result.error = Errno("send to worker");
        return result;
      }
      result.outcome = WaitFor(socket_.get(), POLLOUT, deadline, wake_fd, result.error);
      if (result.outcome != IoOutcome::kOk) return result;
      continue;
    }
    auto left = static_cast<std::size_t>(sent);
    while (first < pieces.size() && left >= pieces[first].iov_len) {
      left -= pieces[first].iov_len;
      ++first;
    }
    if (left > 0) {
      pieces[first].iov_base = static_cast<char*>(pieces[first].iov_base) + left;
      pieces[first].iov_len -= left;
    }
  }
  return result;
}

IoResult WorkerProcess::Receive(Deadline deadline, int wake_fd) {
  IoResult result;
  if (!socket_.valid()) {
    result.outcome = IoOutcome::kClosed;
    return result;
  }
  char prefix[kFramePrefixBytes];
  result.outcome = ReadExact(socket_.get(), prefix, sizeof prefix, deadline, wake_fd, result.error);
  if (result.outcome != IoOutcome::kOk) return result;
  uint64_t header_len = GetLe(prefix, 4);
  uint64_t payload_len = GetLe(prefix + 4, 8);
  if (header_len > kMaxHeaderBytes || payload_len > (uint64_t{1} << 40)) {
    result.outcome = IoOutcome::kFailed;
    result.error = "worker sent a frame with a " + std::to_string(header_len) +
                   "-byte header and a " + std::to_string(payload_len) + "-byte payload";
    return result;
  }
  result.frame.header.resize(header_len);
  result.outcome = ReadExact(socket_.get(), result.frame.header.data(), header_len, deadline,
                             wake_fd, result.error);
  if (result.outcome != IoOutcome::kOk) return result;
  result.frame.payload.resize(payload_len);
  result.outcome = ReadExact(socket_.get(), reinterpret_cast<char*>(result.frame.payload.data()),
                             payload_len, deadline, wake_fd, result.error);
  return result;
}

IoOutcome WorkerProcess::WaitReadable(Deadline deadline, int wake_fd) {
  if (!socket_.valid()) return IoOutcome::kClosed;
  std::string error;
  return WaitFor(socket_.get(), POLLIN, deadline, wake_fd, error);
}

bool WorkerProcess::ClosedOrChatty() const {
  if (!socket_.valid()) return true;
  pollfd fd = {socket_.get(), POLLIN, 0};
  return poll(&fd, 1, 0) != 0;
}

std::string WorkerProcess::Kill() {
  if (reaped_) return exit_description_;
  socket_.Reset();
  kill(-pid_, SIGKILL);
  kill(pid_, SIGKILL);
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  reaped_ = true;
  // ECHILD: SIGCHLD is ignored in this process, so the kernel reaped it already.
  exit_description_ = r == pid_ ? DescribeWaitStatus(status) : "exit status unknown";
  return exit_description_;
}

int64_t WorkerProcess::ResidentBytes() const { return reaped_ ? 0 : ResidentBytesOf(pid_); }

int64_t ResidentBytesOf(pid_t pid) {
  std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
  int64_t size_pages = 0;
  int64_t resident_pages = 0;
  if (!(statm >> size_pages >> resident_pages)) return 0;
  return resident_pages * sysconf(_SC_PAGESIZE);
}

}  // namespace cairn::runtime::python
