#include "runtime/python/worker_pool.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <vector>

namespace cairn::runtime::python {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kRecentLines = 20;
constexpr std::size_t kMaxLine = 16 * 1024;
constexpr std::chrono::milliseconds kFirstBackoff{1000};
constexpr std::chrono::milliseconds kMaxBackoff{30000};

int PollTimeout(Deadline deadline) {
  if (deadline == Deadline::max()) return -1;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, 1 << 30));
}

}  // namespace

// The manager thread's own state: workers starting, and the output pipes of every worker.
class WorkerPool::Manager {
 public:
  explicit Manager(WorkerPool& pool) : pool_(pool) {}

  void Run();

 private:
  struct Starting {
    std::unique_ptr<WorkerProcess> process;
    Deadline deadline;
    Clock::time_point started;
  };
  struct Output {
    pid_t pid = 0;
    UniqueFd fd;
    std::string partial;
    std::deque<std::string> recent;
  };

  void StartWorkers(int count);
  // Reads what `output` has; false at end of file.
  bool Drain(Output& output);
  void Line(Output& output, std::string line);
  void CheckStarting(std::size_t index, bool readable);
  void Failed(Starting starting, const std::string& reason);
  std::string RecentOutput(pid_t pid);

  WorkerPool& pool_;
  std::vector<Starting> starting_;
  std::map<int, Output> outputs_;  // by descriptor
  // The last lines of starting workers whose output has closed.
  std::map<pid_t, std::deque<std::string>> last_words_;
  std::chrono::milliseconds backoff_{0};
  Deadline backoff_until_{};
};

void WorkerPool::Manager::Run() {
  while (true) {
    int wanted = 0;
    {
      MutexLock lock(pool_.mu_);
      if (pool_.stopping_) break;
      int have = static_cast<int>(pool_.ready_.size() + starting_.size());
      int demand = pool_.waiting_ - have;
      wanted = pool_.options_.spare_workers + pool_.waiting_ - have;
      if (Clock::now() < backoff_until_) wanted = demand;
    }
    if (wanted > 0) StartWorkers(wanted);

    std::vector<pollfd> fds;
    fds.push_back({pool_.wake_fd_.get(), POLLIN, 0});
    Deadline next = Deadline::max();
    for (const Starting& s : starting_) {
      fds.push_back({s.process->socket_fd(), POLLIN, 0});
      next = std::min(next, s.deadline);
    }
    for (const auto& [fd, output] : outputs_) fds.push_back({fd, POLLIN, 0});
    if (backoff_until_ > Clock::now()) next = std::min(next, backoff_until_);

    int n = poll(fds.data(), fds.size(), PollTimeout(next));
    if (n < 0 && errno != EINTR) {
      spdlog::error("python worker pool: poll failed: {}", std::strerror(errno));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    if (fds[0].revents & POLLIN) {
      uint64_t count = 0;
      ssize_t ignored = read(pool_.wake_fd_.get(), &count, sizeof count);
      (void)ignored;
    }
    // Output first, so a worker that failed to start has its last words read.
    for (std::size_t i = 1 + starting_.size(); i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      auto it = outputs_.find(fds[i].fd);
      if (it == outputs_.end() || Drain(it->second)) continue;
      // Keep a starting worker's last lines for the failure message.
      pid_t pid = it->second.pid;
      if (std::any_of(starting_.begin(), starting_.end(),
                      [pid](const Starting& s) { return s.process->pid() == pid; })) {
        last_words_[pid] = std::move(it->second.recent);
      }
      outputs_.erase(it);
    }
    // Back to front: CheckStarting removes entries.
    for (std::size_t i = starting_.size(); i-- > 0;) {
      CheckStarting(i, fds[1 + i].revents != 0);
    }
  }
  // Exiting: the workers this thread forked get SIGKILL from PR_SET_PDEATHSIG anyway; reap the
  // ones still starting.
  starting_.clear();
}

void WorkerPool::Manager::StartWorkers(int count) {
  for (int i = 0; i < count; ++i) {
    StatusOr<WorkerProcess::Spawned> spawned = WorkerProcess::Spawn(pool_.options_.spawn);
    if (!spawned.ok()) {
      MutexLock lock(pool_.mu_);
      ++pool_.startup_failures_;
      pool_.last_failure_ = "cannot start a python worker: " + spawned.status().message();
      pool_.cv_.notify_all();
      spdlog::error("{}", pool_.last_failure_);
      backoff_ = std::min(kMaxBackoff, std::max(kFirstBackoff, 2 * backoff_));
      backoff_until_ = Clock::now() + backoff_;
      return;
    }
    pid_t pid = spawned->process->pid();
    int fd = spawned->output.get();
    outputs_[fd] = Output{pid, std::move(spawned->output), {}, {}};
    Clock::time_point now = Clock::now();
    starting_.push_back({std::move(spawned->process), now + pool_.options_.startup_timeout, now});
    spdlog::debug("python worker {} starting", pid);
  }
}

bool WorkerPool::Manager::Drain(Output& output) {
  char buf[8192];
  while (true) {
    ssize_t n = read(output.fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      bool open = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
      if (!open && !output.partial.empty()) Line(output, std::move(output.partial));
      return open;
    }
    output.partial.append(buf, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t nl; (nl = output.partial.find('\n', start)) != std::string::npos;
         start = nl + 1) {
      Line(output, output.partial.substr(start, nl - start));
    }
    output.partial.erase(0, start);
    if (output.partial.size() > kMaxLine) {
      Line(output, std::move(output.partial));
      output.partial.clear();
    }
  }
}

void WorkerPool::Manager::Line(Output& output, std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  spdlog::info("python worker {}: {}", output.pid, line);
  output.recent.push_back(std::move(line));
  if (output.recent.size() > kRecentLines) output.recent.pop_front();
}

std::string WorkerPool::Manager::RecentOutput(pid_t pid) {
  std::deque<std::string> lines;
  if (auto words = last_words_.find(pid); words != last_words_.end()) {
    lines = std::move(words->second);
    last_words_.erase(words);
  }
  for (auto it = outputs_.begin(); it != outputs_.end(); ++it) {
    if (it->second.pid != pid) continue;
    bool open = Drain(it->second);
    lines = it->second.recent;
    if (!open) outputs_.erase(it);
    break;
  }
  std::string text;
  for (const std::string& line : lines) {
    if (!text.empty()) text += '\n';
    text += line;
  }
  return text;
}

void WorkerPool::Manager::CheckStarting(std::size_t index, bool readable) {
  Starting& s = starting_[index];
  if (!readable) {
    if (Clock::now() >= s.deadline) {
      Starting doomed = std::move(s);
      starting_.erase(starting_.begin() + static_cast<std::ptrdiff_t>(index));
      Failed(std::move(doomed), "it did not say ready within " +
                                    std::to_string(pool_.options_.startup_timeout.count()) + " ms");
    }
    return;
  }
  Starting started = std::move(s);
  starting_.erase(starting_.begin() + static_cast<std::ptrdiff_t>(index));
  IoResult io = started.process->Receive(Clock::now() + std::chrono::seconds(5));
  if (io.outcome != IoOutcome::kOk) {
    Failed(std::move(started), io.outcome == IoOutcome::kClosed ? "it exited" : "bad frame");
    return;
  }
  StatusOr<Reply> reply = ParseReply(std::move(io.frame));
  if (!reply.ok() || reply->op != "ready") {
    Failed(std::move(started), "its first frame was not \"ready\"");
    return;
  }
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started.started);
  spdlog::info("python worker {} ready in {} ms: {}", started.process->pid(), took.count(),
               reply->header);
  backoff_ = std::chrono::milliseconds(0);
  backoff_until_ = Deadline{};
  MutexLock lock(pool_.mu_);
  pool_.ready_.push_back(std::move(started.process));
  pool_.cv_.notify_all();
}

void WorkerPool::Manager::Failed(Starting starting, const std::string& reason) {
  pid_t pid = starting.process->pid();
  std::string ended = starting.process->Kill();
  std::string output = RecentOutput(pid);
  std::string message = "python worker " + std::to_string(pid) + " (" +
                        pool_.options_.spawn.python + ") failed to start: " + reason + " (" +
                        ended + ")";
  if (!output.empty()) message += "; its last output:\n" + output;
  spdlog::error("{}", message);
  backoff_ = std::min(kMaxBackoff, std::max(kFirstBackoff, 2 * backoff_));
  backoff_until_ = Clock::now() + backoff_;
  MutexLock lock(pool_.mu_);
  ++pool_.startup_failures_;
  pool_.last_failure_ = std::move(message);
  pool_.cv_.notify_all();
}

WorkerPool::WorkerPool(Options options)
    : options_(std::move(options)),
      wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      manager_(std::make_unique<Manager>(*this)) {
  thread_ = std::thread([this] { manager_->Run(); });
}

WorkerPool::~WorkerPool() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  Wake();
  thread_.join();
  std::deque<std::unique_ptr<WorkerProcess>> spares;
  {
    MutexLock lock(mu_);
    spares.swap(ready_);
  }
  spares.clear();  // kills and reaps
}

void WorkerPool::Wake() {
  uint64_t one = 1;
  ssize_t ignored = write(wake_fd_.get(), &one, sizeof one);
  (void)ignored;
}

StatusOr<std::unique_ptr<WorkerProcess>> WorkerPool::Acquire(Deadline deadline,
                                                             const std::function<bool()>& cancel) {
  MutexLock lock(mu_);
  const uint64_t failures_seen = startup_failures_;
  ++waiting_;
  Wake();
  while (true) {
    while (!ready_.empty()) {
      std::unique_ptr<WorkerProcess> worker = std::move(ready_.front());
      ready_.pop_front();
      if (worker->ClosedOrChatty()) {
        spdlog::warn("spare python worker {} died while waiting ({})", worker->pid(),
                     worker->Kill());
        continue;
      }
      --waiting_;
      Wake();  // refill
      return worker;
    }
    Status refusal;
    if (stopping_) {
      refusal = Unavailable("the python worker pool is shutting down");
    } else if (startup_failures_ != failures_seen) {
      refusal = FailedPrecondition(last_failure_);
    } else if (Clock::now() >= deadline) {
      refusal = Unavailable("no python worker was ready in time");
    } else if (cancel && cancel()) {
      refusal = Unavailable("cancelled");
    }
    if (!refusal.ok()) {
      --waiting_;
      return refusal;
    }
    // Wake now and then to look at `cancel`, which nobody signals through cv_.
    lock.WaitUntil(cv_, std::min(deadline, Clock::now() + std::chrono::milliseconds(100)));
  }
}

int WorkerPool::SpareCount() const {
  MutexLock lock(mu_);
  return static_cast<int>(ready_.size());
}

}  // namespace cairn::runtime::python
