// Deployment-change notifications through a real Redis (scripts/services/redis.sh): two
// DeploymentServices over one SQLite metadata store and one artifact store stand for two
// replicas, each with its own RedisDeploymentNotifier and subscriber, as `cairn server
// --redis-uri` wires them. Models are the committed ONNX test models, served by ONNX Runtime.

#include "redis/redis_deployment_notifier.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "artifact/local/local_artifact_store.h"
#include "base/ids.h"
#include "base/mutex.h"
#include "base/test_services.h"
#include "metadata/sqlite/sqlite_metadata_backend.h"
#include "redis/redis_subscriber.h"
#include "redis/test_redis_server.h"
#include "runtime/onnx/onnx_runtime.h"

namespace cairn::redis {
namespace {

namespace fs = std::filesystem;
using serving::DeploymentService;

// Replicas are processes of their own, each with its own ONNX Runtime; here they share one
// (its environment is process-wide), so loads are taken one at a time, as ThreadSanitizer
// cannot see into the uninstrumented library's own synchronisation between sessions.
class OneLoadAtATime : public runtime::ModelRuntimeWrapper {
 public:
  using ModelRuntimeWrapper::ModelRuntimeWrapper;
  StatusOr<std::shared_ptr<runtime::LoadedModel>> Load(
      const runtime::ModelSource& source, const runtime::RuntimeOptions& options) override {
    static Mutex mu;
    MutexLock lock(mu);
    return ModelRuntimeWrapper::Load(source, options);
  }
};

struct Replica {
  std::shared_ptr<runtime::ModelRuntime> onnx;
  std::unique_ptr<DeploymentService> service;
  std::unique_ptr<RedisDeploymentNotifier> notifier;
  std::unique_ptr<RedisSubscriber> subscriber;
};

class RedisDeploymentNotifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string text;
    CAIRN_TEST_SERVICE(text, "REDIS");
    auto uri = RedisUri::Parse(text);
    ASSERT_TRUE(uri.ok());
    uri_ = *uri;
    client_ = std::make_unique<RedisClient>(uri_, RedisOptions{});
    std::string tmpl = (fs::temp_directory_path() / "cairn-redis-deploy-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto stores = metadata::OpenSqliteMetadataStores((dir_ / "meta.db").string());
    ASSERT_TRUE(stores.ok()) << stores.status().ToString();
    stores_ = std::move(*stores);
    auto artifacts = artifact::LocalArtifactStore::Open(dir_ / "artifacts", {.durable = false});
    ASSERT_TRUE(artifacts.ok());
    artifacts_ = std::move(*artifacts);
    ASSERT_TRUE(stores_.registry->CreateRegisteredModel("default", "mlp", "", {}, "", 1000).ok());
    for (int v = 1; v <= 2; ++v) {
      const std::string folder = "models/mlp-" + std::to_string(v);
      Put(folder + "/MLmodel", "flavors:\n  onnx:\n    data: model.onnx\n");
      Put(folder + "/model.onnx", ReadFile(fs::path(CAIRN_ONNX_TESTDATA) / "mlp.onnx"));
      metadata::CreateModelVersionRequest request{
          .name = "mlp",
          .source = "mlflow-artifacts:/" + folder,
          .storage_location = "mlflow-artifacts:/" + folder};
      ASSERT_TRUE(stores_.registry->CreateModelVersion("default", request, 1000).ok());
    }
    for (int i = 0; i < 2; ++i) StartReplica(replicas_[i], i);
  }

  void TearDown() override {
    for (Replica& replica : replicas_) {
      replica.subscriber.reset();
      replica.notifier.reset();
      replica.service.reset();
    }
    stores_ = {};
    artifacts_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static std::string ReadFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  void Put(const std::string& path, const std::string& bytes) {
    auto writer = artifacts_->OpenWriter("default/" + path);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append(bytes).ok());
    ASSERT_TRUE((*writer)->Commit().ok());
  }

  void StartReplica(Replica& replica, int index) { StartReplica(replica, index, *client_, uri_); }

  void StartReplica(Replica& replica, int index, RedisClient& client, const RedisUri& uri) {
    auto onnx = runtime::onnx::CreateOnnxRuntime({});
    ASSERT_TRUE(onnx.ok()) << onnx.status().ToString();
    replica.onnx = std::make_shared<OneLoadAtATime>(*onnx);
    serving::ServingOptions options{.model_dir = dir_ / ("models-" + std::to_string(index)),
                                    .drain_timeout = std::chrono::seconds(5),
                                    .autoscale_period = std::chrono::hours(1)};
    replica.service = std::make_unique<DeploymentService>(
        *stores_.deployments, *stores_.registry, *artifacts_,
        [](std::string_view tenant, std::string_view location) -> StatusOr<std::string> {
          constexpr std::string_view kPrefix = "mlflow-artifacts:/";
          if (!location.starts_with(kPrefix)) return InvalidArgument("not in the store");
          return std::string(tenant) + "/" + std::string(location.substr(kPrefix.size()));
        },
        std::map<std::string, std::shared_ptr<runtime::ModelRuntime>>{{"onnx", replica.onnx}},
        SystemClock::Get(), options);
    ASSERT_TRUE(replica.service->RestoreAll().ok());
    replica.notifier = std::make_unique<RedisDeploymentNotifier>(
        client, *replica.service, "replica-" + std::to_string(index), &metrics_);
    RedisDeploymentNotifier* notifier = replica.notifier.get();
    replica.service->SetChangeListener(
        [notifier](const serving::DeploymentChange& change) { notifier->Publish(change); });
    auto subscriber = RedisSubscriber::Start(
        uri,
        RedisOptions{.min_backoff = std::chrono::milliseconds(20),
                     .max_backoff = std::chrono::milliseconds(100),
                     .client_name = subscriber_name_},
        {replica.notifier->channel()},
        [notifier](std::string_view, std::string_view payload) { notifier->OnMessage(payload); },
        [notifier] { notifier->OnSubscribed(); });
    ASSERT_TRUE(subscriber.ok());
    replica.subscriber = std::move(*subscriber);
    for (int i = 0; i < 300 && !replica.subscriber->subscribed(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(replica.subscriber->subscribed());
  }

  // Waits until `check` holds, up to `limit`; returns how long it took, or -1.
  template <typename Check>
  int64_t WaitUntil(Check check, std::chrono::milliseconds limit) {
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < limit) {
      if (check()) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - start)
            .count();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return -1;
  }

  // Ready, and serving `version` (the status names a new version before it serves).
  bool Ready(DeploymentService& service, const std::string& name, const std::string& version,
             int replicas = 1) {
    auto status = service.Get(scope_, name);
    std::shared_ptr<serving::Deployment> deployment = service.Find("default", name);
    std::shared_ptr<const serving::ServingSet> serving =
        deployment == nullptr ? nullptr : deployment->Serving();
    return status.ok() && status->record.state == "READY" && serving != nullptr &&
           serving->model_version == version && status->replicas_ready == replicas;
  }

  RedisUri uri_;
  std::unique_ptr<RedisClient> client_;
  metrics::MetricsRegistry metrics_;
  // This test's subscribers, for killing exactly them.
  const std::string subscriber_name_ = "cairn-test-notify-" + IdGenerator::Default().Hex32();
  fs::path dir_;
  metadata::MetadataStores stores_;
  std::unique_ptr<artifact::ArtifactStore> artifacts_;
  Replica replicas_[2];
  RequestScope scope_ = RequestScope::ForTenant("default");
};

TEST_F(RedisDeploymentNotifierTest, OtherReplicaFollowsCreateScaleUpdateAndDeleteWithinASecond) {
  DeploymentService& a = *replicas_[0].service;
  DeploymentService& b = *replicas_[1].service;
  ASSERT_TRUE(a.Create(scope_, R"({"model_name": "mlp", "version": 1, "name": "m"})").ok());
  int64_t took =
      WaitUntil([&] { return b.Find("default", "m") != nullptr; }, std::chrono::seconds(1));
  EXPECT_GE(took, 0) << "replica b does not know the new deployment after 1 s";
  EXPECT_GE(WaitUntil([&] { return Ready(b, "m", "1"); }, std::chrono::seconds(1)), 0)
      << "replica b does not serve the new deployment within 1 s";
  ASSERT_GE(WaitUntil([&] { return Ready(a, "m", "1"); }, std::chrono::seconds(10)), 0);

  ASSERT_TRUE(a.Scale(scope_, "m", R"({"replicas": 2})").ok());
  EXPECT_GE(WaitUntil([&] { return Ready(b, "m", "1", 2); }, std::chrono::seconds(1)), 0)
      << "replica b did not scale within 1 s";

  ASSERT_TRUE(a.Update(scope_, "m", R"({"version": 2})").ok());
  EXPECT_GE(WaitUntil([&] { return Ready(b, "m", "2", 2); }, std::chrono::seconds(1)), 0)
      << "replica b did not move to version 2 within 1 s";
  ASSERT_GE(WaitUntil([&] { return Ready(a, "m", "2", 2); }, std::chrono::seconds(10)), 0);
  // The store holds the change as made on a; b, which only followed it, never wrote its copy
  // back (a stale one would undo the update).
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto stored = stores_.deployments->GetDeployment("default", "m");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->model_version, "2");
  EXPECT_EQ(stored->state, "READY");
  EXPECT_NE(stored->spec_json.find("\"replicas\":2"), std::string::npos) << stored->spec_json;

  ASSERT_TRUE(a.Delete(scope_, "m").ok());
  EXPECT_GE(WaitUntil([&] { return b.Find("default", "m") == nullptr; }, std::chrono::seconds(1)),
            0)
      << "replica b still serves a deleted deployment after 1 s";
}

TEST_F(RedisDeploymentNotifierTest, SubscriberCatchesUpOnWhatItMissedAfterReconnecting) {
  DeploymentService& b = *replicas_[1].service;
  const int64_t before = replicas_[1].subscriber->subscriptions();
  // A deployment stored while no message reached replica b (as during a Redis restart).
  metadata::DeploymentRecord record{
      .id = "d-" + IdGenerator::Default().Hex32(),
      .name = "missed",
      .model_name = "mlp",
      .model_version = "1",
      .spec_json = R"({"model_name":"mlp","version":"1","name":"missed"})",
      .state = "PENDING",
      .created_at_ms = 1,
      .updated_at_ms = 1};
  ASSERT_TRUE(stores_.deployments->CreateDeployment("default", record).ok());
  EXPECT_EQ(b.Find("default", "missed"), nullptr);
  // What a restart does to the subscribers' connections.
  auto killed = KillClientsNamedForTest(*client_, subscriber_name_);
  ASSERT_TRUE(killed.ok()) << killed.status().ToString();
  ASSERT_EQ(*killed, 2);
  ASSERT_GE(WaitUntil([&] { return replicas_[1].subscriber->subscriptions() > before; },
                      std::chrono::seconds(3)),
            0);
  EXPECT_GE(WaitUntil([&] { return Ready(b, "missed", "1"); }, std::chrono::seconds(5)), 0);
  // And messages flow again.
  ASSERT_TRUE(replicas_[0].service->Delete(scope_, "missed").ok() ||
              replicas_[0].service->Find("default", "missed") == nullptr);
}

TEST_F(RedisDeploymentNotifierTest, ChangesMadeWhileRedisIsDownReachTheOtherReplicaAfterward) {
  // Two more replicas on a Redis of the test's own, which it restarts.
  TestRedisServer redis;
  ASSERT_TRUE(redis.Start());
  RedisClient client(redis.Uri(), RedisOptions{.min_backoff = std::chrono::milliseconds(20),
                                               .max_backoff = std::chrono::milliseconds(100)});
  Replica own[2];
  for (int i = 0; i < 2; ++i) StartReplica(own[i], 10 + i, client, redis.Uri());
  DeploymentService& a = *own[0].service;
  DeploymentService& b = *own[1].service;
  ASSERT_TRUE(a.Create(scope_, R"({"model_name": "mlp", "version": 1, "name": "r"})").ok());
  ASSERT_GE(WaitUntil([&] { return Ready(b, "r", "1"); }, std::chrono::seconds(1)), 0);

  redis.Stop();
  ASSERT_GE(WaitUntil([&] { return !own[1].subscriber->subscribed(); }, std::chrono::seconds(2)),
            0);
  // Accepted although no replica can be told now; the failed publish is counted.
  ASSERT_TRUE(a.Update(scope_, "r", R"({"version": 2})").ok());
  EXPECT_NE(metrics_.RenderPrometheus().find("cairn_redis_deployment_notifications_failed_total 1"),
            std::string::npos)
      << metrics_.RenderPrometheus();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_TRUE(Ready(b, "r", "1"));

  ASSERT_TRUE(redis.Start());
  EXPECT_GE(WaitUntil([&] { return Ready(b, "r", "2"); }, std::chrono::seconds(2)), 0)
      << "replica b did not catch up on the update after Redis came back";
  for (Replica& replica : own) {
    replica.subscriber.reset();
    replica.notifier.reset();
    replica.service.reset();
  }
}

TEST_F(RedisDeploymentNotifierTest, MalformedAndForeignMessagesAreDropped) {
  RedisDeploymentNotifier& b = *replicas_[1].notifier;
  const int64_t before = b.reloads();
  for (std::string bad : {std::string("not json"), std::string("[]"), std::string("{}"),
                          std::string(R"({"origin":1,"tenant":"default","id":"x","name":"y"})"),
                          std::string(R"({"origin":"o","tenant":"default","id":"","name":"y"})"),
                          std::string(20000, '{')}) {
    b.OnMessage(bad);
  }
  // Its own messages are skipped; a message about an id the store does not have changes nothing.
  b.OnMessage(R"({"origin":"replica-1","tenant":"default","id":"d-1","name":"m"})");
  b.OnMessage(R"({"origin":"elsewhere","tenant":"default","id":"d-nope","name":"nope"})");
  ASSERT_GE(WaitUntil([&] { return b.reloads() == before + 1; }, std::chrono::seconds(2)), 0);
  EXPECT_TRUE(replicas_[1].service->All().empty());
}

}  // namespace
}  // namespace cairn::redis
