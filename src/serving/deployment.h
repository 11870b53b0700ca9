#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "metadata/deployment_store.h"
#include "runtime/model_runtime.h"
#include "serving/deployment_spec.h"
#include "serving/serving_metrics.h"

namespace cairn::serving {

// One model instance serving a deployment, with the requests it is answering now.
struct Replica {
  std::shared_ptr<runtime::LoadedModel> model;
  std::atomic<int> in_flight{0};
};

// What a READY deployment serves: one model version on one runtime, and its replicas. Immutable
// once published; a scale or a version update publishes a new one, and requests already running
// keep the one they started with (its replicas stay alive until they finish).
struct ServingSet {
  std::string model_version;
  std::string runtime;
  runtime::ModelInterface interface;
  std::optional<runtime::ModelSignature> signature;
  std::vector<std::shared_ptr<Replica>> replicas;
  // Null when the service has no metrics registry.
  std::shared_ptr<ServingMetrics> metrics;
};

// A deployment as the server runs it: its stored record and spec, and the serving set requests
// go to. Predict picks the least-loaded healthy replica (fewest requests in flight).
//
// Held by shared_ptr: a request in flight keeps its deployment alive.
// Thread-safe. The hot path (Serving, Predict) takes only this deployment's own mutex, for the
// time of a shared_ptr copy; no lock is shared across deployments.
class Deployment : public std::enable_shared_from_this<Deployment> {
 public:
  Deployment(std::string tenant, metadata::DeploymentRecord record, DeploymentSpec spec);

  const std::string& tenant() const { return tenant_; }
  const std::string& id() const { return id_; }
  const std::string& name() const { return name_; }
  // The registered model it serves (an update may change the version, never the model).
  const std::string& model_name() const { return model_name_; }

  // The serving set requests go to now; null until the first load finished.
  std::shared_ptr<const ServingSet> Serving() const EXCLUDES(mu_);
  // Runs one prediction on `serving` (what the caller parsed the request against). `done` runs
  // exactly once. Unavailable when no replica is healthy.
  void Predict(const std::shared_ptr<const ServingSet>& serving, runtime::PredictRequest request,
               runtime::PredictCallback done);

  // Requests running now, on any serving set.
  int InFlight() const { return in_flight_.load(std::memory_order_relaxed); }
  // Waits until no request is in flight, or `timeout` passed: false on timeout.
  bool Drain(std::chrono::milliseconds timeout) EXCLUDES(mu_);

  // Control-plane state, copied out.
  metadata::DeploymentRecord Record() const EXCLUDES(mu_);
  DeploymentSpec Spec() const EXCLUDES(mu_);
  int64_t LoadTimeMs() const EXCLUDES(mu_);
  // Marks a state change (kept in memory; the service stores it).
  void SetState(DeploymentState state, std::string reason, int64_t now_ms) EXCLUDES(mu_);
  void SetSpec(DeploymentSpec spec, std::string model_version, int64_t now_ms) EXCLUDES(mu_);
  // Makes `serving` the set new requests go to.
  void Publish(std::shared_ptr<const ServingSet> serving, int64_t load_time_ms) EXCLUDES(mu_);
  // Publishes `serving` only if `expected` is still the serving set, atomically; false when
  // another publish came first (two resizes computed from the same set must not both land).
  bool PublishIf(const std::shared_ptr<const ServingSet>& expected,
                 std::shared_ptr<const ServingSet> serving) EXCLUDES(mu_);
  // Bumped by every spec change; a load finishing for an older generation is discarded.
  int64_t generation() const { return generation_.load(); }
  int64_t NextGeneration() { return ++generation_; }

  // From the spec, readable on the prediction path without the lock.
  std::atomic<bool> log_predictions{true};
  std::atomic<bool> backpressure{false};
  // Counted by the prediction path and shown in the status.
  std::atomic<int64_t> predictions_dropped{0};
  // Smoothed time to answer a prediction (parse, run, write), in nanoseconds: tells the
  // prediction path whether to keep a request on the I/O thread.
  std::atomic<int64_t> answer_ewma_ns{0};
  std::atomic<int64_t> requests{0};

 private:
  const std::string tenant_;
  const std::string id_;
  const std::string name_;
  const std::string model_name_;
  mutable Mutex mu_;
  std::condition_variable drained_cv_;
  metadata::DeploymentRecord record_ GUARDED_BY(mu_);
  DeploymentSpec spec_ GUARDED_BY(mu_);
  std::shared_ptr<const ServingSet> serving_ GUARDED_BY(mu_);
  int64_t load_time_ms_ GUARDED_BY(mu_) = 0;
  std::atomic<int> in_flight_{0};
  std::atomic<int64_t> generation_{0};
};

}  // namespace cairn::serving
