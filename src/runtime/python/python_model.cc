#include "runtime/python/python_model.h"

#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <utility>

#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace cairn::runtime::python {
namespace {

using Clock = std::chrono::steady_clock;

std::string Millis(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

// Keeps the outputs the caller asked for, in the order asked.
StatusOr<PredictResponse> SelectOutputs(PredictResponse response,
                                        const std::vector<std::string>& wanted) {
  if (wanted.empty()) return response;
  PredictResponse selected;
  selected.columnar = response.columnar;
  for (const std::string& name : wanted) {
    auto it = std::find_if(response.outputs.begin(), response.outputs.end(),
                           [&](const Tensor& t) { return t.name == name; });
    if (it == response.outputs.end()) {
      return InvalidArgument("the model has no output '" + name + "'");
    }
    selected.outputs.push_back(std::move(*it));
  }
  return selected;
}

}  // namespace

Status LoadInWorker(WorkerProcess& worker, const std::filesystem::path& model_dir, uint64_t id,
                    Deadline deadline, int wake_fd) {
  auto explain = [&](const IoResult& io) -> Status {
    switch (io.outcome) {
      case IoOutcome::kTimedOut:
        return Internal("loading the model in python worker " + std::to_string(worker.pid()) +
                        " did not finish in time; the worker was killed");
      case IoOutcome::kClosed:
        return Internal("python worker " + std::to_string(worker.pid()) +
                        " exited while loading the model (" + worker.Kill() +
                        "); its output is in the server log");
      case IoOutcome::kWoken:
        return Unavailable("the load was cancelled");
      default:
        return Internal("talking to python worker " + std::to_string(worker.pid()) +
                        " failed: " + io.error);
    }
  };
  IoResult sent = worker.Send(LoadFrame(id, model_dir), deadline, wake_fd);
  if (sent.outcome != IoOutcome::kOk) return explain(sent);
  IoResult io = worker.Receive(deadline, wake_fd);
  if (io.outcome != IoOutcome::kOk) return explain(io);
  StatusOr<Reply> reply = ParseReply(std::move(io.frame));
  if (!reply.ok()) return Internal("python worker sent a bad frame: " + reply.status().message());
  if (reply->op == "loaded" && reply->id == id) return Status::Ok();
  if (reply->op == "error") {
    return Internal("loading the model " + model_dir.string() +
                    " failed in python: " + reply->error_message);
  }
  return Internal("python worker answered the load with: " + reply->header);
}

// The state the I/O thread shares with the PythonModel facade. The thread holds a shared_ptr
// to it, so it outlives a facade destroyed on that very thread.
class PythonModel::Instance {
 public:
  Instance(std::shared_ptr<WorkerPool> pool, ModelSource source, InstanceSettings settings,
           std::unique_ptr<WorkerProcess> worker)
      : pool_(std::move(pool)),
        source_(std::move(source)),
        settings_(settings),
        wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
        worker_(std::move(worker)) {
    pid_ = worker_->pid();
  }

  void Enqueue(PredictRequest request, PredictCallback done) EXCLUDES(mu_) {
    Status refusal;
    {
      MutexLock lock(mu_);
      if (stopping_) {
        refusal = Unavailable("the model instance is unloading");
      } else if (!reload_error_.empty()) {
        refusal = Unavailable("the model's python worker is restarting: " + reload_error_);
      } else if (queue_.size() >= settings_.max_queued) {
        refusal = Unavailable("the model instance has " + std::to_string(queue_.size()) +
                              " requests waiting");
      } else {
        queue_.push_back({std::move(request), std::move(done)});
        cv_.notify_one();
        return;
      }
    }
    done(std::move(refusal));
  }

  void Stop() EXCLUDES(mu_) {
    {
      MutexLock lock(mu_);
      stopping_ = true;
      cv_.notify_all();
    }
    uint64_t one = 1;
    ssize_t ignored = write(wake_fd_.get(), &one, sizeof one);  // a latch: never drained
    (void)ignored;
  }

  bool Healthy() const { return healthy_.load() && !Stopping(); }
  pid_t pid() const { return pid_.load(); }

  // The I/O thread.
  void Run() EXCLUDES(mu_);

 private:
  struct Pending {
    PredictRequest request;
    PredictCallback done;
  };

  bool Stopping() const EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return stopping_;
  }
  void Serve(Pending pending);
  // Kills the worker; returns how it ended.
  std::string DropWorker();
  // Takes a new worker and reloads the model until that works or the instance stops.
  void Restart(const std::string& why) EXCLUDES(mu_);
  void FailQueued(const Status& status) EXCLUDES(mu_);

  const std::shared_ptr<WorkerPool> pool_;
  const ModelSource source_;
  const InstanceSettings settings_;
  const UniqueFd wake_fd_;  // readable once stopping

  mutable Mutex mu_;
  std::condition_variable cv_;  // a request arrived, or stopping
  std::deque<Pending> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  // Why the last reload failed, while the instance tries again later: requests are refused
  // meanwhile instead of waiting for the next attempt. Empty otherwise.
  std::string reload_error_ GUARDED_BY(mu_);

  std::atomic<bool> healthy_{true};
  std::atomic<pid_t> pid_{0};

  // Only the I/O thread touches these.
  std::unique_ptr<WorkerProcess> worker_;
  uint64_t next_id_ = 1;
};

void PythonModel::Instance::Run() {
  while (true) {
    Pending pending;
    {
      MutexLock lock(mu_);
      while (queue_.empty() && !stopping_) lock.Wait(cv_);
      if (stopping_) break;
      pending = std::move(queue_.front());
      queue_.pop_front();
    }
    Serve(std::move(pending));
  }
  FailQueued(Unavailable("the model instance is unloading"));
  DropWorker();
}

void PythonModel::Instance::Serve(Pending pending) {
  const PredictRequest& request = pending.request;
  Clock::time_point now = Clock::now();
  if (request.deadline <= now) {
    pending.done(Unavailable("the request's deadline passed while it waited for the worker"));
    return;
  }
  const uint64_t id = next_id_++;
  StatusOr<OutgoingFrame> frame = PredictFrame(id, request);
  if (!frame.ok()) {
    pending.done(frame.status());
    return;
  }
  const Deadline kill_at = now + settings_.predict_timeout;
  const pid_t pid = worker_->pid();
  bool answered = false;
  auto answer = [&](StatusOr<PredictResponse> result) {
    if (!answered) pending.done(std::move(result));
    answered = true;
  };
  // The worker cannot go on: answer, and take a new one.
  auto broken = [&](const std::string& what) {
    std::string ended = DropWorker();
    std::string why = "python worker " + std::to_string(pid) + " " + what + " (" + ended + ")";
    answer(Unavailable(why + "; it is restarting"));
    Restart(why);
  };

  IoResult sent = worker_->Send(*frame, kill_at, wake_fd_.get());
  if (sent.outcome == IoOutcome::kWoken) return answer(Unavailable("the model is unloading"));
  if (sent.outcome == IoOutcome::kClosed) return broken("exited");
  if (sent.outcome == IoOutcome::kTimedOut) return broken("did not take the request in time");
  if (sent.outcome != IoOutcome::kOk) return broken("failed: " + sent.error);

  while (true) {
    Deadline wait_until = answered ? kill_at : std::min(kill_at, request.deadline);
    IoOutcome ready = worker_->WaitReadable(wait_until, wake_fd_.get());
    if (ready == IoOutcome::kWoken) return answer(Unavailable("the model is unloading"));
    if (ready == IoOutcome::kTimedOut) {
      if (Clock::now() < kill_at) {
        // The caller's own deadline: answer now, let the worker finish, drop its late answer.
        answer(Unavailable("no prediction before the request's deadline"));
        continue;
      }
      return broken("did not answer within the predict timeout of " +
                    Millis(settings_.predict_timeout) + " and was killed");
    }
    if (ready != IoOutcome::kOk) return broken("failed");
    IoResult io = worker_->Receive(kill_at, wake_fd_.get());
    if (io.outcome == IoOutcome::kWoken) return answer(Unavailable("the model is unloading"));
    if (io.outcome == IoOutcome::kClosed) return broken("exited during the prediction");
    if (io.outcome == IoOutcome::kTimedOut) {
      return broken("did not finish its answer within the predict timeout");
    }
    if (io.outcome != IoOutcome::kOk) return broken("failed: " + io.error);
    StatusOr<Reply> reply = ParseReply(std::move(io.frame));
    if (!reply.ok()) return broken("sent a bad frame: " + reply.status().message());
    if (reply->id != id) return broken("answered request " + std::to_string(reply->id));
    if (reply->op == "result") {
      return answer(SelectOutputs(std::move(reply->response), request.outputs));
    }
    if (reply->op == "error") {
      if (reply->error_kind == "input") return answer(InvalidArgument(reply->error_message));
      return answer(Internal("the model failed: " + reply->error_message));
    }
    return broken("answered with op " + reply->op);
  }
}

std::string PythonModel::Instance::DropWorker() {
  healthy_ = false;
  pid_ = 0;
  if (worker_ == nullptr) return "no worker";
  std::string ended = worker_->Kill();
  worker_.reset();
  return ended;
}

void PythonModel::Instance::Restart(const std::string& why) {
  spdlog::warn("python model {}: {}; restarting", source_.dir.string(), why);
  std::chrono::milliseconds backoff{1000};
  while (!Stopping()) {
    Clock::time_point now = Clock::now();
    StatusOr<std::unique_ptr<WorkerProcess>> worker =
        pool_->Acquire(now + settings_.startup_timeout, [this] { return Stopping(); });
    Status loaded = worker.status();
    if (worker.ok()) {
      loaded = LoadInWorker(**worker, source_.dir, next_id_++,
                            Clock::now() + settings_.load_timeout, wake_fd_.get());
    }
    if (loaded.ok()) {
      worker_ = std::move(*worker);
      pid_ = worker_->pid();
      healthy_ = true;
      {
        MutexLock lock(mu_);
        reload_error_.clear();
      }
      spdlog::info("python model {}: worker {} serves it again", source_.dir.string(),
                   worker_->pid());
      return;
    }
    if (Stopping()) return;
    spdlog::error("python model {}: reload failed: {}", source_.dir.string(), loaded.message());
    {
      MutexLock lock(mu_);
      reload_error_ = loaded.message();
    }
    FailQueued(Unavailable("the model's python worker is restarting: " + loaded.message()));
    MutexLock lock(mu_);
    Deadline retry_at = Clock::now() + backoff;
    while (!stopping_ && lock.WaitUntil(cv_, retry_at)) {
    }
    backoff = std::min<std::chrono::milliseconds>(2 * backoff, std::chrono::seconds(30));
  }
}

void PythonModel::Instance::FailQueued(const Status& status) {
  std::deque<Pending> failed;
  {
    MutexLock lock(mu_);
    failed.swap(queue_);
  }
  for (Pending& p : failed) p.done(status);
}

PythonModel::PythonModel(std::shared_ptr<WorkerPool> pool, ModelSource source,
                         InstanceSettings settings, ModelInterface interface,
                         std::unique_ptr<WorkerProcess> worker)
    : interface_(std::move(interface)),
      instance_(std::make_shared<Instance>(std::move(pool), std::move(source), settings,
                                           std::move(worker))) {
  thread_ = std::thread([instance = instance_] { instance->Run(); });
}

PythonModel::~PythonModel() {
  instance_->Stop();
  // The last reference may go inside a `done` that the I/O thread runs.
  if (thread_.get_id() == std::this_thread::get_id()) {
    thread_.detach();
  } else {
    thread_.join();
  }
}

void PythonModel::Predict(PredictRequest request, PredictCallback done) {
  instance_->Enqueue(std::move(request), std::move(done));
}

int64_t PythonModel::MemoryBytes() const {
  pid_t pid = instance_->pid();
  return pid > 0 ? ResidentBytesOf(pid) : 0;
}

bool PythonModel::Healthy() const { return instance_->Healthy(); }

pid_t PythonModel::WorkerPidForTest() const { return instance_->pid(); }

}  // namespace cairn::runtime::python
