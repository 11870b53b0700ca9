#include "server/serving_setup.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <map>

#include "api/mlflow/artifact_handlers.h"
#include "base/clock.h"
#include "base/mutex.h"
#include "runtime/onnx/onnx_runtime.h"
#include "runtime/python/python_runtime.h"

namespace cairn::server {
namespace {

// The python runtime, started at server start (--python-prestart, the default) or on its first
// load. Once started, its pool keeps a pre-started worker (mlflow and the common frameworks
// imported) spare, so a Python deployment skips the interpreter start.
class LazyPythonRuntime final : public runtime::ModelRuntime {
 public:
  explicit LazyPythonRuntime(runtime::python::PythonRuntimeOptions options)
      : options_(std::move(options)) {}
  std::string_view Name() const override { return "python"; }
  bool CanServe(const runtime::MlModel& model) const override {
    return model.HasFlavor("python_function");
  }
  StatusOr<std::shared_ptr<runtime::LoadedModel>> Load(
      const runtime::ModelSource& source, const runtime::RuntimeOptions& options) override {
    ASSIGN_OR_RETURN(runtime::ModelRuntime * started, Start());
    return started->Load(source, options);
  }

  // Starts the worker pool now (it pre-starts its spare worker in the background).
  StatusOr<runtime::ModelRuntime*> Start() {
    MutexLock lock(mu_);
    if (runtime_ == nullptr) {
      auto created = runtime::python::PythonRuntime::Create(options_);
      if (!created.ok()) return created.status();
      runtime_ = std::move(*created);
    }
    return runtime_.get();
  }

 private:
  const runtime::python::PythonRuntimeOptions options_;
  Mutex mu_;
  std::unique_ptr<runtime::ModelRuntime> runtime_ GUARDED_BY(mu_);
};

}  // namespace

// The model runtimes this server can offer, the deployment service, and the deployments it
// restores from the store.
StatusOr<std::unique_ptr<serving::DeploymentService>> StartServing(
    const ServerConfig& config, const metadata::MetadataStores& metadata,
    artifact::ArtifactStore& artifacts, metrics::MetricsRegistry& metrics) {
  std::map<std::string, std::shared_ptr<runtime::ModelRuntime>> runtimes;
  auto onnx = runtime::onnx::CreateOnnxRuntime({.library_path = config.onnxruntime_library});
  if (onnx.ok()) {
    runtimes["onnx"] = *onnx;
  } else {
    spdlog::warn("ONNX models cannot be served: {}", onnx.status().message());
  }
  auto python = std::make_shared<LazyPythonRuntime>(
      runtime::python::PythonRuntimeOptions{.python_executable = config.python_executable});
  if (config.python_prestart) {
    if (auto started = python->Start(); !started.ok()) {
      spdlog::warn("Python models cannot be served: {}", started.status().message());
    }
  }
  runtimes["python"] = std::move(python);
  serving::ServingOptions options;
  options.model_dir = std::filesystem::path(config.data_dir) / "models";
  options.cache_budget_bytes = config.model_cache_bytes;
  options.metrics = &metrics;
  auto locator = [](std::string_view tenant, std::string_view location) -> StatusOr<std::string> {
    ASSIGN_OR_RETURN(std::string relative, api::mlflow::ArtifactUriToRelativePath(location));
    return api::mlflow::TenantArtifactPath(tenant, relative);
  };
  auto service = std::make_unique<serving::DeploymentService>(
      *metadata.deployments, *metadata.registry, artifacts, locator, std::move(runtimes),
      SystemClock::Get(), options);
  RETURN_IF_ERROR(service->RestoreAll());
  return service;
}

}  // namespace cairn::server
