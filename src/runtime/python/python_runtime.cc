#include "runtime/python/python_runtime.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <utility>

#include "runtime/python/python_model.h"
#include "runtime/python/worker_pool.h"
#include "runtime/python/worker_script.h"

namespace cairn::runtime::python {
namespace {

using Clock = std::chrono::steady_clock;

bool Executable(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec) && access(path.c_str(), X_OK) == 0;
}

std::vector<std::string> WorkerEnvironment(const PythonRuntimeOptions& options) {
  std::map<std::string, std::string> env;
  for (const std::string& name : options.inherit_env) {
    if (const char* value = std::getenv(name.c_str())) env[name] = value;
  }
  for (const auto& [name, value] : options.env) env[name] = value;
  env["PYTHONUNBUFFERED"] = "1";  // prints reach the log as they happen
  std::vector<std::string> out;
  for (const auto& [name, value] : env) out.push_back(name + "=" + value);
  return out;
}

}  // namespace

StatusOr<std::string> ResolvePythonExecutable(std::string_view configured) {
  std::string name(configured);
  if (name.empty()) {
    const char* from_env = std::getenv("CAIRN_PYTHON");
    name = from_env != nullptr && *from_env != '\0' ? from_env : "python3";
  }
  if (name.find('/') != std::string::npos) {
    // Made absolute but not canonical: a venv's python must keep its own path.
    std::string path = std::filesystem::absolute(name).lexically_normal().string();
    if (!Executable(path)) {
      return FailedPrecondition("the python interpreter " + path + " is not an executable file");
    }
    return path;
  }
  const char* path_env = std::getenv("PATH");
  std::string_view dirs = path_env != nullptr ? path_env : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    std::size_t colon = dirs.find(':');
    std::string_view dir = dirs.substr(0, colon);
    if (!dir.empty()) {
      std::string candidate = std::filesystem::absolute(std::filesystem::path(dir) / name).string();
      if (Executable(candidate)) return candidate;
    }
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return FailedPrecondition("no executable '" + name +
                            "' on PATH for python models; set CAIRN_PYTHON to an interpreter "
                            "that has mlflow");
}

StatusOr<std::unique_ptr<PythonRuntime>> PythonRuntime::Create(PythonRuntimeOptions options) {
  ASSIGN_OR_RETURN(std::string python, ResolvePythonExecutable(options.python_executable));
  WorkerPool::Options pool_options;
  pool_options.spawn.python = python;
  pool_options.spawn.script = std::string(WorkerScript());
  pool_options.spawn.env = WorkerEnvironment(options);
  pool_options.spare_workers = std::max(0, options.spare_workers);
  pool_options.startup_timeout = options.startup_timeout;
  // Logged before the pool's thread exists: spdlog builds its default logger on first use, which
  // must not race with the pool's first log line.
  spdlog::info("python runtime: workers run {} ({} kept spare)", python, options.spare_workers);
  auto pool = std::make_shared<WorkerPool>(std::move(pool_options));
  return std::unique_ptr<PythonRuntime>(
      new PythonRuntime(std::move(options), std::move(python), std::move(pool)));
}

PythonRuntime::PythonRuntime(PythonRuntimeOptions options, std::string python,
                             std::shared_ptr<WorkerPool> pool)
    : options_(std::move(options)), python_(std::move(python)), pool_(std::move(pool)) {}

PythonRuntime::~PythonRuntime() = default;

bool PythonRuntime::CanServe(const MlModel& model) const {
  return model.HasFlavor("python_function");
}

StatusOr<std::shared_ptr<LoadedModel>> PythonRuntime::Load(const ModelSource& source,
                                                           const RuntimeOptions& options) {
  if (!CanServe(source.mlmodel)) {
    return InvalidArgument("the model in " + source.dir.string() +
                           " has no python_function flavor");
  }
  Clock::time_point started = Clock::now();
  ASSIGN_OR_RETURN(std::unique_ptr<WorkerProcess> worker,
                   pool_->Acquire(started + options_.startup_timeout));
  pid_t pid = worker->pid();
  // The id only has to differ from the instance's prediction ids, which start at 1.
  Status loaded = LoadInWorker(*worker, std::filesystem::absolute(source.dir), 0,
                               Clock::now() + options_.load_timeout);
  if (!loaded.ok()) {
    spdlog::warn("python runtime: loading {} failed: {}", source.dir.string(), loaded.message());
    return loaded;
  }
  spdlog::info(
      "python runtime: worker {} loaded {} in {} ms", pid, source.dir.string(),
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count());

  ModelInterface interface;
  interface.platform = "mlflow_pyfunc";
  if (source.mlmodel.signature) {
    interface.inputs = source.mlmodel.signature->inputs;
    interface.outputs = source.mlmodel.signature->outputs;
  }
  InstanceSettings settings;
  settings.startup_timeout = options_.startup_timeout;
  settings.load_timeout = options_.load_timeout;
  settings.predict_timeout = options.predict_timeout;
  settings.max_queued = options_.max_queued_per_instance;
  ModelSource absolute = source;
  absolute.dir = std::filesystem::absolute(source.dir);
  return std::shared_ptr<LoadedModel>(std::make_shared<PythonModel>(
      pool_, std::move(absolute), settings, std::move(interface), std::move(worker)));
}

int PythonRuntime::SpareWorkers() const { return pool_->SpareCount(); }

}  // namespace cairn::runtime::python
