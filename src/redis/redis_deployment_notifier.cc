#include "redis/redis_deployment_notifier.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

namespace cairn::redis {
namespace {

std::string_view KindName(serving::DeploymentChange::Kind kind) {
  switch (kind) {
    case serving::DeploymentChange::Kind::kCreated:
      return "created";
    case serving::DeploymentChange::Kind::kUpdated:
      return "updated";
    case serving::DeploymentChange::Kind::kScaled:
      return "scaled";
    case serving::DeploymentChange::Kind::kDeleted:
      return "deleted";
  }
  return "updated";
}

// A string field of at most 1024 bytes, or nullopt.
std::optional<std::string> Field(const boost::json::object& object, std::string_view name) {
  const boost::json::value* value = object.if_contains(name);
  if (value == nullptr || !value->is_string() || value->as_string().size() > 1024) {
    return std::nullopt;
  }
  return std::string(value->as_string());
}

}  // namespace

RedisDeploymentNotifier::RedisDeploymentNotifier(RedisClient& client,
                                                 serving::DeploymentService& service,
                                                 std::string origin,
                                                 metrics::MetricsRegistry* metrics)
    : client_(client),
      service_(service),
      origin_(std::move(origin)),
      channel_("cairn:deployments:" + std::to_string(client.uri().db)),
      worker_(std::make_unique<ThreadPool>(
          ThreadPool::Options{.threads = 1, .max_queued = 10000, .name = "deploy-notify"})) {
  if (metrics != nullptr) {
    publish_failures_ = &metrics->GetCounter(
        "cairn_redis_deployment_notifications_failed_total",
        "Deployment changes that could not be published to the other replicas");
    malformed_ = &metrics->GetCounter("cairn_redis_deployment_notifications_malformed_total",
                                      "Malformed deployment-change messages dropped");
  }
}

RedisDeploymentNotifier::~RedisDeploymentNotifier() { worker_->Shutdown(); }

void RedisDeploymentNotifier::Publish(const serving::DeploymentChange& change) {
  boost::json::object message;
  message["origin"] = origin_;
  message["kind"] = KindName(change.kind);
  message["tenant"] = change.tenant;
  message["id"] = change.id;
  message["name"] = change.name;
  const std::string payload = boost::json::serialize(message);
  StatusOr<RedisReply> sent = client_.Command({"PUBLISH", channel_, payload});
  if (!sent.ok()) {
    if (publish_failures_ != nullptr) publish_failures_->Increment();
    spdlog::warn(
        "deployment {}: cannot tell the other replicas ({}); they catch up when their "
        "Redis subscription is back",
        change.name, sent.status().ToString());
  }
}

void RedisDeploymentNotifier::OnMessage(std::string_view payload) {
  boost::system::error_code ec;
  boost::json::value parsed =
      payload.size() > 16384 ? boost::json::value() : boost::json::parse(payload, ec);
  std::optional<std::string> origin, tenant, id, name;
  if (!ec && parsed.is_object()) {
    const boost::json::object& object = parsed.as_object();
    origin = Field(object, "origin");
    tenant = Field(object, "tenant");
    id = Field(object, "id");
    name = Field(object, "name");
  }
  if (!origin || !tenant || !id || !name || id->empty()) {
    if (malformed_ != nullptr) malformed_->Increment();
    spdlog::warn("dropped a malformed deployment-change message ({} bytes)", payload.size());
    return;
  }
  if (*origin == origin_) return;
  bool queued = worker_->TrySubmit([this, tenant = *tenant, id = *id, name = *name] {
    if (Status s = service_.Reload(tenant, id, name); !s.ok()) {
      spdlog::warn("deployment {}: cannot reload it from the store: {}", name, s.ToString());
    }
    reloads_.fetch_add(1);
  });
  if (!queued) spdlog::warn("deployment {}: reload queue full; change skipped", *name);
}

void RedisDeploymentNotifier::OnSubscribed() {
  bool queued = worker_->TrySubmit([this] {
    if (Status s = service_.ReloadAll(); !s.ok()) {
      spdlog::warn("cannot reload the deployments from the store: {}", s.ToString());
    }
    reloads_.fetch_add(1);
  });
  if (!queued) spdlog::warn("deployment reload queue full; full reload skipped");
}

}  // namespace cairn::redis
