// DeploymentService over real parts: the SQLite metadata store, a local artifact store holding
// MLflow model folders, and ONNX Runtime serving the committed test models. Faults (a slow or
// failing load, a slow prediction) come from wrappers around the real runtime.

#include "serving/deployment_service.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "artifact/local/local_artifact_store.h"
#include "base/clock.h"
#include "metadata/sqlite/sqlite_metadata_backend.h"
#include "runtime/onnx/onnx_runtime.h"

namespace cairn::serving {
namespace {

namespace fs = std::filesystem;

const fs::path kTestData = CAIRN_ONNX_TESTDATA;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Slows loads and predictions down on request, counting loads.
class SlowLoadedModel : public runtime::LoadedModelWrapper {
 public:
  SlowLoadedModel(std::shared_ptr<runtime::LoadedModel> target,
                  std::shared_ptr<std::atomic<int>> predict_delay_ms)
      : LoadedModelWrapper(std::move(target)), delay_(std::move(predict_delay_ms)) {}
  void Predict(runtime::PredictRequest request, runtime::PredictCallback done) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_->load()));
    LoadedModelWrapper::Predict(std::move(request), std::move(done));
  }

 private:
  std::shared_ptr<std::atomic<int>> delay_;
};

class CountingRuntime : public runtime::ModelRuntimeWrapper {
 public:
  explicit CountingRuntime(std::shared_ptr<runtime::ModelRuntime> target)
      : ModelRuntimeWrapper(std::move(target)) {}
  StatusOr<std::shared_ptr<runtime::LoadedModel>> Load(
      const runtime::ModelSource& source, const runtime::RuntimeOptions& options) override {
    ++loads;
    if (fail_loads.load()) return Internal("injected load failure");
    ASSIGN_OR_RETURN(auto model, ModelRuntimeWrapper::Load(source, options));
    return std::shared_ptr<runtime::LoadedModel>(
        std::make_shared<SlowLoadedModel>(std::move(model), predict_delay_ms));
  }
  std::atomic<int> loads{0};
  std::atomic<bool> fail_loads{false};
  std::shared_ptr<std::atomic<int>> predict_delay_ms = std::make_shared<std::atomic<int>>(0);
};

class DeploymentServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cairn-serving-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto stores = metadata::OpenSqliteMetadataStores((dir_ / "meta.db").string());
    ASSERT_TRUE(stores.ok()) << stores.status().ToString();
    stores_ = std::move(*stores);
    auto artifacts = artifact::LocalArtifactStore::Open(dir_ / "artifacts", {.durable = false});
    ASSERT_TRUE(artifacts.ok());
    artifacts_ = std::move(*artifacts);
    auto onnx = runtime::onnx::CreateOnnxRuntime({});
    ASSERT_TRUE(onnx.ok()) << onnx.status().ToString();
    runtime_ = std::make_shared<CountingRuntime>(*onnx);
    // Two versions of one model: the MLP (v1) and the same MLP again (v2).
    ASSERT_TRUE(stores_.registry->CreateRegisteredModel("default", "mlp", "", {}, "", 1000).ok());
    for (int v = 1; v <= 2; ++v) {
      const std::string folder = "models/mlp-" + std::to_string(v);
      Put(folder + "/MLmodel", "flavors:\n  onnx:\n    data: model.onnx\n");
      Put(folder + "/model.onnx", ReadFile(kTestData / "mlp.onnx"));
      metadata::CreateModelVersionRequest request{
          .name = "mlp",
          .source = "mlflow-artifacts:/" + folder,
          .storage_location = "mlflow-artifacts:/" + folder};
      ASSERT_TRUE(stores_.registry->CreateModelVersion("default", request, 1000).ok());
    }
    StartService();
  }

  void TearDown() override {
    service_.reset();
    stores_ = {};
    artifacts_.reset();
    fs::remove_all(dir_);
  }

  void StartService(int64_t budget = int64_t{1} << 30) {
    service_.reset();
    ServingOptions options{.model_dir = dir_ / "models",
                           .cache_budget_bytes = budget,
                           .drain_timeout = std::chrono::seconds(10),
                           .autoscale_period = std::chrono::hours(1),
                           .scale_down_delay = std::chrono::milliseconds(0),
                           .default_target_concurrency = 1};
    service_ = std::make_unique<DeploymentService>(
        *stores_.deployments, *stores_.registry, *artifacts_,
        [](std::string_view tenant, std::string_view location) -> StatusOr<std::string> {
          constexpr std::string_view kPrefix = "mlflow-artifacts:/";
          if (!location.starts_with(kPrefix)) return InvalidArgument("not in the store");
          return std::string(tenant) + "/" + std::string(location.substr(kPrefix.size()));
        },
        std::map<std::string, std::shared_ptr<runtime::ModelRuntime>>{{"onnx", runtime_}}, clock_,
        options);
  }

  void Put(const std::string& path, const std::string& bytes) {
    auto writer = artifacts_->OpenWriter("default/" + path);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append(bytes).ok());
    ASSERT_TRUE((*writer)->Commit().ok());
  }

  DeploymentStatus WaitFor(const std::string& name, std::string_view state = "READY") {
    for (int i = 0; i < 2000; ++i) {
      auto status = service_->Get(scope_, name);
      EXPECT_TRUE(status.ok()) << status.status().ToString();
      if (!status.ok()) return {};
      if (status->record.state == "READY" || status->record.state == "FAILED") {
        EXPECT_EQ(status->record.state, state) << status->record.reason;
        return *status;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ADD_FAILURE() << name << " never finished loading";
    return {};
  }

  // One prediction through the deployment, synchronously.
  StatusOr<runtime::PredictResponse> Predict(const std::string& name) {
    auto deployment = service_->Find("default", name);
    if (deployment == nullptr) return NotFound(name);
    auto serving = deployment->Serving();
    if (serving == nullptr) return Unavailable("not ready");
    runtime::PredictRequest request;
    runtime::Tensor input{.name = "input", .type = runtime::DataType::kFp32, .shape = {1, 4}};
    input.data.resize(16);
    request.inputs.push_back(std::move(input));
    std::promise<StatusOr<runtime::PredictResponse>> promise;
    auto future = promise.get_future();
    deployment->Predict(serving, std::move(request),
                        [&](StatusOr<runtime::PredictResponse> r) { promise.set_value(r); });
    return future.get();
  }

  fs::path dir_;
  metadata::MetadataStores stores_;
  std::unique_ptr<artifact::LocalArtifactStore> artifacts_;
  std::shared_ptr<CountingRuntime> runtime_;
  ManualClock clock_{1'700'000'000'000};
  std::unique_ptr<DeploymentService> service_;
  RequestScope scope_ = RequestScope::ForTenant("default");
};

TEST_F(DeploymentServiceTest, CreateLoadsInTheBackgroundAndServes) {
  auto created = service_->Create(scope_, R"({"model_name": "mlp", "version": 1})");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->record.name, "mlp-v1");
  EXPECT_TRUE(created->record.state == "PENDING" || created->record.state == "LOADING" ||
              created->record.state == "READY");
  DeploymentStatus ready = WaitFor("mlp-v1");
  EXPECT_EQ(ready.runtime, "onnx");
  EXPECT_EQ(ready.replicas_ready, 1);
  auto answer = Predict("mlp-v1");
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(answer->outputs[0].shape, (std::vector<int64_t>{1, 3}));
  // The stored record follows (it is written just after the deployment starts serving).
  auto stored = stores_.deployments->GetDeployment("default", "mlp-v1");
  for (int i = 0; i < 500 && stored.ok() && stored->state != "READY"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    stored = stores_.deployments->GetDeployment("default", "mlp-v1");
  }
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->state, "READY");
  // Other tenants see nothing.
  EXPECT_EQ(service_->Get(RequestScope::ForTenant("other"), "mlp-v1").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(service_->Find("other", "mlp-v1"), nullptr);
}

TEST_F(DeploymentServiceTest, BadSpecsAndUnknownVersionsAreRefusedBeforeStoring) {
  EXPECT_EQ(service_->Create(scope_, R"({"model_name": "mlp", "version": 9})").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(service_->Create(scope_, R"({"model_name": "nope", "version": 1})").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(service_
                ->Create(scope_, R"({"model_name": "mlp", "version": 1, "runtime":
              "python"})")
                .status()
                .code(),
            StatusCode::kFailedPrecondition);
  ASSERT_TRUE(service_->Create(scope_, R"({"model_name": "mlp", "version": 1})").ok());
  EXPECT_EQ(service_->Create(scope_, R"({"model_name": "mlp", "version": 2, "name": "mlp-v1"})")
                .status()
                .code(),
            StatusCode::kAlreadyExists);
  auto listed = service_->List(scope_);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1U);
}

TEST_F(DeploymentServiceTest, TheSameVersionDeployedTwiceLoadsOnce) {
  ASSERT_TRUE(service_->Create(scope_, R"({"model_name": "mlp", "version": 1, "name": "a"})").ok());
  WaitFor("a");
  ASSERT_TRUE(service_->Create(scope_, R"({"model_name": "mlp", "version": 1, "name": "b"})").ok());
  WaitFor("b");
  EXPECT_EQ(runtime_->loads.load(), 1);
  EXPECT_EQ(service_->CacheStats().hits, 1);
}

TEST_F(DeploymentServiceTest, FailedLoadsReportTheReason) {
  runtime_->fail_loads = true;
  ASSERT_TRUE(service_->Create(scope_, R"({"model_name": "mlp", "version": 1})").ok());
  DeploymentStatus failed = WaitFor("mlp-v1", "FAILED");
  EXPECT_NE(failed.record.reason.find("injected load failure"), std::string::npos);
  EXPECT_EQ(Predict("mlp-v1").status().code(), StatusCode::kUnavailable);
}

TEST_F(DeploymentServiceTest, ScaleAndUpdateUnderLoadFailNoRequest) {
  ASSERT_TRUE(service_->Create(scope_, R"({"model_name": "mlp", "version": 1, "name": "m"})").ok());
  WaitFor("m");
  runtime_->predict_delay_ms->store(1);
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<int> answered{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&] {
      while (!stop.load()) {
        if (Predict("m").ok()) {
          ++answered;
        } else {
          ++failures;
        }
      }
    });
  }
  ASSERT_TRUE(service_->Scale(scope_, "m", R"({"replicas": 3})").ok());
  for (int i = 0; i < 2000 && service_->Get(scope_, "m")->replicas_ready != 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(service_->Get(scope_, "m")->replicas_ready, 3);
  ASSERT_TRUE(service_->Update(scope_, "m", R"({"version": 2})").ok());
  for (int i = 0; i < 2000; ++i) {
    auto serving = service_->Find("default", "m")->Serving();
    if (serving->model_version == "2") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(service_->Scale(scope_, "m", R"({"replicas": 1})").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  stop = true;
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(answered.load(), 0);
  DeploymentStatus status = WaitFor("m");
  EXPECT_EQ(status.record.model_version, "2");
}

TEST_F(DeploymentServiceTest, DeleteDrainsRequestsInFlight) {
  ASSERT_TRUE(service_->Create(scope_, R"({"model_name": "mlp", "version": 1, "name": "d"})").ok());
  WaitFor("d");
  runtime_->predict_delay_ms->store(200);
  std::thread slow([&] { EXPECT_TRUE(Predict("d").ok()); });
  while (service_->Find("default", "d")->InFlight() == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto deleted = service_->Delete(scope_, "d");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  slow.join();
  EXPECT_EQ(service_->Find("default", "d"), nullptr);
  EXPECT_EQ(stores_.deployments->GetDeployment("default", "d").status().code(),
            StatusCode::kNotFound);
  // The idle instance was released with it.
  EXPECT_EQ(service_->CacheStats().loaded, 0);
}

TEST_F(DeploymentServiceTest, RestoreBringsStoredDeploymentsBack) {
  ASSERT_TRUE(service_
                  ->Create(scope_, R"({"model_name": "mlp", "version": 1, "name": "r",
              "deployment_config": {"replicas": 2}})")
                  .ok());
  WaitFor("r");
  StartService();
  EXPECT_EQ(service_->Find("default", "r"), nullptr);
  ASSERT_TRUE(service_->RestoreAll().ok());
  DeploymentStatus restored = WaitFor("r");
  EXPECT_EQ(restored.replicas_ready, 2);
  EXPECT_TRUE(Predict("r").ok());
}

TEST_F(DeploymentServiceTest, AutoscalerFollowsRequestsInFlight) {
  ASSERT_TRUE(service_
                  ->Create(scope_, R"({"model_name": "mlp", "version": 1, "name": "auto",
              "deployment_config": {"autoscaling": {"min": 1, "max": 3,
              "target_concurrency": 1}}})")
                  .ok());
  WaitFor("auto");
  runtime_->predict_delay_ms->store(300);
  std::vector<std::thread> clients;
  for (int i = 0; i < 3; ++i) clients.emplace_back([&] { (void)Predict("auto"); });
  while (service_->Find("default", "auto")->InFlight() < 3) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  service_->AutoscaleOnceForTest();
  service_->AutoscaleOnceForTest();
  for (int i = 0; i < 1000 && service_->Get(scope_, "auto")->replicas_ready < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GE(service_->Get(scope_, "auto")->replicas_ready, 2);
  for (std::thread& t : clients) t.join();
  runtime_->predict_delay_ms->store(0);
  // Idle: back down to min once the (zero) scale-down delay has passed.
  for (int i = 0; i < 20; ++i) service_->AutoscaleOnceForTest();
  for (int i = 0; i < 1000 && service_->Get(scope_, "auto")->replicas_ready != 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(service_->Get(scope_, "auto")->replicas_ready, 1);
}

TEST_F(DeploymentServiceTest, IdleModelsAreEvictedOverTheBudget) {
  StartService(/*budget=*/1);
  ASSERT_TRUE(service_->Create(scope_, R"({"model_name": "mlp", "version": 1, "name": "a"})").ok());
  WaitFor("a");
  ASSERT_TRUE(service_->Create(scope_, R"({"model_name": "mlp", "version": 2, "name": "b"})").ok());
  WaitFor("b");
  // Both are in use: over budget, but nothing in use is unloaded.
  EXPECT_EQ(service_->CacheStats().loaded, 2);
  ASSERT_TRUE(service_->Update(scope_, "a", R"({"version": 2})").ok());
  for (int i = 0; i < 2000 && service_->Find("default", "a")->Serving()->model_version != "2";
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Version 1 is idle now; the next load trims it.
  ASSERT_TRUE(service_->Scale(scope_, "b", R"({"replicas": 2})").ok());
  for (int i = 0; i < 2000 && service_->Get(scope_, "b")->replicas_ready != 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GE(service_->CacheStats().evictions, 1);
}

}  // namespace
}  // namespace cairn::serving
