#include "serving/deployment.h"

namespace cairn::serving {

Deployment::Deployment(std::string tenant, metadata::DeploymentRecord record, DeploymentSpec spec)
    : tenant_(std::move(tenant)),
      id_(record.id),
      name_(record.name),
      model_name_(record.model_name),
      record_(std::move(record)),
      spec_(std::move(spec)) {
  log_predictions.store(spec_.log_predictions);
  backpressure.store(spec_.backpressure);
}

std::shared_ptr<const ServingSet> Deployment::Serving() const {
  MutexLock lock(mu_);
  return serving_;
}

void Deployment::Predict(const std::shared_ptr<const ServingSet>& serving,
                         runtime::PredictRequest request, runtime::PredictCallback done) {
  std::shared_ptr<Replica> chosen;
  int least = 0;
  for (const std::shared_ptr<Replica>& replica : serving->replicas) {
    if (!replica->model->Healthy()) continue;
    int load = replica->in_flight.load(std::memory_order_relaxed);
    if (chosen == nullptr || load < least) {
      chosen = replica;
      least = load;
    }
  }
  if (chosen == nullptr) {
    done(Unavailable("deployment '" + name_ + "' has no healthy replica; retry later"));
    return;
  }
  chosen->in_flight.fetch_add(1, std::memory_order_relaxed);
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  requests.fetch_add(1, std::memory_order_relaxed);
  // The callback keeps the replica (and so its model) alive until the answer is out.
  chosen->model->Predict(std::move(request),
                         [self = shared_from_this(), chosen, done = std::move(done)](
                             StatusOr<runtime::PredictResponse> result) mutable {
                           done(std::move(result));
                           chosen->in_flight.fetch_sub(1, std::memory_order_relaxed);
                           if (self->in_flight_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                             MutexLock lock(self->mu_);
                             self->drained_cv_.notify_all();
                           }
                         });
}

bool Deployment::Drain(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(mu_);
  while (in_flight_.load() > 0) {
    if (!lock.WaitUntil(drained_cv_, deadline)) return in_flight_.load() == 0;
  }
  return true;
}

metadata::DeploymentRecord Deployment::Record() const {
  MutexLock lock(mu_);
  return record_;
}

DeploymentSpec Deployment::Spec() const {
  MutexLock lock(mu_);
  return spec_;
}

int64_t Deployment::LoadTimeMs() const {
  MutexLock lock(mu_);
  return load_time_ms_;
}

void Deployment::SetState(DeploymentState state, std::string reason, int64_t now_ms) {
  MutexLock lock(mu_);
  record_.state = std::string(DeploymentStateName(state));
  record_.reason = std::move(reason);
  record_.updated_at_ms = now_ms;
}

void Deployment::SetSpec(DeploymentSpec spec, std::string model_version, int64_t now_ms) {
  MutexLock lock(mu_);
  record_.spec_json = SpecToJson(spec);
  record_.model_version = std::move(model_version);
  record_.updated_at_ms = now_ms;
  log_predictions.store(spec.log_predictions);
  backpressure.store(spec.backpressure);
  spec_ = std::move(spec);
}

void Deployment::Publish(std::shared_ptr<const ServingSet> serving, int64_t load_time_ms) {
  MutexLock lock(mu_);
  serving_ = std::move(serving);
  load_time_ms_ = load_time_ms;
}

bool Deployment::PublishIf(const std::shared_ptr<const ServingSet>& expected,
                           std::shared_ptr<const ServingSet> serving) {
  MutexLock lock(mu_);
  if (serving_ != expected) return false;
  serving_ = std::move(serving);
  return true;
}

}  // namespace cairn::serving
