#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "base/executor.h"
#include "metrics/metrics_registry.h"
#include "redis/redis_client.h"
#include "serving/deployment_service.h"

namespace cairn::redis {

// Tells every replica about deployment changes made on any of them, over Redis pub/sub. Publish
// (the DeploymentService's change listener) sends {"origin", "kind", "tenant", "id", "name"} as
// JSON on channel() ("cairn:deployments:<db>": pub/sub is not per database, so installs sharing
// a Redis server on different databases stay apart); OnMessage (fed by a RedisSubscriber on that
// channel) reloads the named deployment from the shared store on a worker thread of its own,
// skipping this replica's own messages; OnSubscribed reloads everything, since messages sent while
// the subscriber was disconnected are lost. Malformed messages are counted and dropped.
//
// A publish that fails (Redis down) is logged and counted, never fails the API call: other
// replicas then pick the change up when their subscribers reconnect (OnSubscribed). Thread-safe.
class RedisDeploymentNotifier {
 public:
  // `client`, `service` and `metrics` (nullable) must outlive the notifier.
  RedisDeploymentNotifier(RedisClient& client, serving::DeploymentService& service,
                          std::string origin, metrics::MetricsRegistry* metrics);
  // Finishes the reloads already queued.
  ~RedisDeploymentNotifier();

  void Publish(const serving::DeploymentChange& change);
  void OnMessage(std::string_view payload);
  void OnSubscribed();

  const std::string& channel() const { return channel_; }

  // Reloads done so far (tests wait on it).
  int64_t reloads() const { return reloads_.load(); }

 private:
  RedisClient& client_;
  serving::DeploymentService& service_;
  const std::string origin_;
  const std::string channel_;
  metrics::Counter* publish_failures_ = nullptr;
  metrics::Counter* malformed_ = nullptr;
  std::atomic<int64_t> reloads_{0};
  // Last: its tasks use everything above.
  std::unique_ptr<ThreadPool> worker_;
};

}  // namespace cairn::redis
