#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <thread>

#include "base/status.h"
#include "runtime/model_runtime.h"
#include "runtime/python/worker_pool.h"
#include "runtime/python/worker_process.h"

namespace cairn::runtime::python {

// What one instance needs to know to serve and to restart its worker.
struct InstanceSettings {
  std::chrono::milliseconds startup_timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds load_timeout{std::chrono::seconds(120)};
  std::chrono::milliseconds predict_timeout{std::chrono::seconds(60)};
  // Requests that may wait for this instance's worker; more are refused with Unavailable.
  std::size_t max_queued = 1024;
};

// Sends LOAD(model_dir) to a started worker and waits for its answer until `deadline`.
// Internal with Python's error text ("ModuleNotFoundError: No module named 'x'") when the load
// raised, or saying that the worker exited or timed out; Unavailable when `wake_fd` fired. On
// failure the worker is no longer fit for use: the caller destroys it.
Status LoadInWorker(WorkerProcess& worker, const std::filesystem::path& model_dir, uint64_t id,
                    Deadline deadline, int wake_fd = -1);

// One replica of an MLflow model served by one Python worker process (the instance owns it).
//
// Requests to the worker are serialised: Predict queues the request (it never blocks on the
// worker) and the instance's own I/O thread sends one request at a time, waits for its answer
// and calls `done` from that thread. Parallelism comes from loading more instances, each with
// its own worker; a Python process runs one prediction at a time anyway.
//
// Failures: a worker that dies (EOF on its socket) fails the request in flight with
// Unavailable; one that does not answer within `predict_timeout` is killed and its request
// fails with Unavailable. Either way the instance takes a new worker from the pool and reloads
// the model in the background (Healthy() is false meanwhile); queued requests wait for the
// reload and are served after it, or fail with Unavailable if it fails; while a failed reload
// waits to be tried again (1 s doubling to 30 s), requests are refused at once. A request whose own
// deadline passes gets Unavailable at once; the worker is killed only at `predict_timeout`.
// An exception in the model's predict fails only that request (Internal, or InvalidArgument
// when MLflow's schema enforcement rejected the input); the worker stays.
//
// Thread-safe. Destroying the instance (when the last shared_ptr goes, possibly inside a `done`
// it called) fails queued requests with Unavailable and kills and reaps its worker.
class PythonModel final : public LoadedModel {
 public:
  // `worker` has loaded the model in `source`.
  PythonModel(std::shared_ptr<WorkerPool> pool, ModelSource source, InstanceSettings settings,
              ModelInterface interface, std::unique_ptr<WorkerProcess> worker);
  ~PythonModel() override;
  PythonModel(const PythonModel&) = delete;
  PythonModel& operator=(const PythonModel&) = delete;

  const ModelInterface& Interface() const override { return interface_; }
  void Predict(PredictRequest request, PredictCallback done) override;
  // The resident set of the worker process now (/proc/<pid>/statm); 0 while it restarts.
  int64_t MemoryBytes() const override;
  // False while the worker restarts and reloads the model.
  bool Healthy() const override;

  // The worker's process id (0 while restarting).
  pid_t WorkerPidForTest() const;

 private:
  class Instance;

  const ModelInterface interface_;
  std::shared_ptr<Instance> instance_;
  std::thread thread_;
};

}  // namespace cairn::runtime::python
