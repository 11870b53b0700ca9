#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "runtime/model_runtime.h"

namespace cairn::runtime::python {

class WorkerPool;

struct PythonRuntimeOptions {
  // The interpreter that runs the workers; it must import mlflow, pandas and numpy. Empty: the
  // environment variable CAIRN_PYTHON, else `python3` on PATH. A venv's bin/python is used as
  // given (not resolved through its symlink), so the venv's packages are found.
  std::string python_executable;
  // Started workers kept waiting for the next Load (each is a Python process of ~100 MB that
  // has imported mlflow).
  int spare_workers = 1;
  // From starting a worker to its "ready" (the imports).
  std::chrono::milliseconds startup_timeout{std::chrono::seconds(60)};
  // From LOAD to the model being loaded in the worker.
  std::chrono::milliseconds load_timeout{std::chrono::seconds(120)};
  // Requests that may wait for one instance's worker before further ones get Unavailable.
  std::size_t max_queued_per_instance = 1024;
  // Variables copied from the server's environment into the workers' (nothing else is).
  std::vector<std::string> inherit_env = {"PATH",
                                          "HOME",
                                          "USER",
                                          "LANG",
                                          "LC_ALL",
                                          "TMPDIR",
                                          "TZ",
                                          "JAVA_HOME",
                                          "SPARK_LOCAL_IP",
                                          "PYSPARK_PYTHON",
                                          "CAIRN_PYTHON_PRELOAD"};
  // Set in the workers' environment over the inherited ones. BLAS and OpenMP pools get one
  // thread: instances, not threads, give parallelism.
  std::map<std::string, std::string> env = {
      {"OMP_NUM_THREADS", "1"}, {"OPENBLAS_NUM_THREADS", "1"}, {"MKL_NUM_THREADS", "1"}};
};

// The "python" runtime: serves any MLflow model with a python_function flavor through
// `mlflow.pyfunc.load_model`, as `mlflow models serve` does, in Python worker processes.
//
// Each loaded instance owns one worker process (see PythonModel); a pool keeps spare workers
// that have already imported mlflow, pandas and numpy, so a Load costs only the model's own
// load. The worker program (worker.py) is compiled into the binary and run with `python -c`.
//
// Thread-safe: Load may run on several threads at once. Instances share the pool and keep it
// alive, so they may outlive the runtime; destroying the runtime kills only the spare workers.
class PythonRuntime final : public ModelRuntime {
 public:
  // Finds the interpreter and starts the pool (workers start in the background).
  // FailedPrecondition when no executable interpreter is found.
  static StatusOr<std::unique_ptr<PythonRuntime>> Create(PythonRuntimeOptions options = {});
  ~PythonRuntime() override;

  std::string_view Name() const override { return "python"; }
  // True for models with a python_function flavor.
  bool CanServe(const MlModel& model) const override;
  // Takes a started worker (waiting up to startup_timeout for one), loads the model in it (up
  // to load_timeout) and returns the instance owning it. Errors as ModelRuntime::Load:
  // InvalidArgument (no python_function flavor), FailedPrecondition (workers do not start:
  // carries their exit status and last output), Internal (the load failed: carries Python's
  // error, e.g. "No module named 'x'", or the worker exited or timed out while loading).
  // `options.predict_timeout` bounds each prediction; the other options are ONNX's.
  StatusOr<std::shared_ptr<LoadedModel>> Load(const ModelSource& source,
                                              const RuntimeOptions& options) override;

  const std::string& python_executable() const { return python_; }
  // Started workers waiting for a Load.
  int SpareWorkers() const;

 private:
  PythonRuntime(PythonRuntimeOptions options, std::string python, std::shared_ptr<WorkerPool> pool);

  const PythonRuntimeOptions options_;
  const std::string python_;
  const std::shared_ptr<WorkerPool> pool_;
};

// The interpreter to run: `configured` if not empty, else $CAIRN_PYTHON, else the first
// executable `python3` on PATH. A name without '/' is searched on PATH. FailedPrecondition when
// none is executable.
StatusOr<std::string> ResolvePythonExecutable(std::string_view configured);

}  // namespace cairn::runtime::python
