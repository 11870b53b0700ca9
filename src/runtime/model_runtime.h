#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "runtime/mlmodel.h"
#include "runtime/tensor.h"

namespace cairn::runtime {

// One prediction as a runtime receives it: protocol parsing and signature checks are done.
struct PredictRequest {
  // The columns of a table in column order (each 1-D with the same row count) when `columnar`,
  // otherwise named tensors.
  std::vector<Tensor> inputs;
  bool columnar = false;
  // MLflow's `params` as a JSON object text; empty when the request has none.
  std::string params_json;
  // Outputs the caller wants; empty means all.
  std::vector<std::string> outputs;
  // The prediction fails with DeadlineExceeded-like Unavailable after this; max() means none.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

struct PredictResponse {
  std::vector<Tensor> outputs;
  // The outputs are the columns of a table (a pyfunc model returned a DataFrame).
  bool columnar = false;
};

// Called exactly once per Predict, on the calling thread or another one.
using PredictCallback = std::function<void(StatusOr<PredictResponse>)>;

// What a loaded model declares about itself, for V2 metadata and input checks.
struct ModelInterface {
  // V2 `platform`: "onnx_onnxv1", "mlflow_pyfunc", ...
  std::string platform;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
};

// One instance of a model, ready to predict (Triton's "model instance"). Thread-safe: Predict
// may be called from many threads at once. Held by shared_ptr: whoever dispatches a request
// keeps the instance alive until `done` has run, so unloading never frees a model under an
// in-flight request.
class LoadedModel {
 public:
  virtual ~LoadedModel() = default;

  virtual const ModelInterface& Interface() const = 0;

  // Runs one prediction and calls `done` exactly once with the outputs or an error:
  //   InvalidArgument  the inputs do not fit the model (names the input);
  //   Unavailable      the instance cannot answer now (its worker died or timed out); a retry on
  //                    another instance may succeed;
  //   Internal         the model itself failed (the message carries the runtime's error).
  virtual void Predict(PredictRequest request, PredictCallback done) = 0;

  // Bytes this instance holds (model file size for ONNX, resident set for a worker process),
  // for the model cache's memory budget. An estimate.
  virtual int64_t MemoryBytes() const = 0;

  // False while the instance cannot take requests (e.g. its worker process is restarting).
  virtual bool Healthy() const { return true; }
};

// Per-instance options a deployment passes to its runtime.
struct RuntimeOptions {
  // "cpu" or "cuda" (ONNX only); a runtime that cannot honour it fails the load with a reason.
  std::string device = "cpu";
  int cuda_device_id = 0;
  // ONNX Runtime session threads (1 each: instances, not threads, give parallelism).
  int intra_op_threads = 1;
  int inter_op_threads = 1;
  // "disable", "basic", "extended" or "all".
  std::string graph_optimization = "all";
  // A prediction that has not answered after this fails with Unavailable.
  std::chrono::milliseconds predict_timeout{std::chrono::seconds(60)};
};

// A model on local disk: the folder that holds its MLmodel file, parsed.
struct ModelSource {
  std::filesystem::path dir;
  MlModel mlmodel;
};

// A kind of model execution (ONNX Runtime in process, Python workers). Thread-safe.
class ModelRuntime {
 public:
  virtual ~ModelRuntime() = default;

  // "onnx", "python".
  virtual std::string_view Name() const = 0;

  // True when this runtime can serve the model's flavors.
  virtual bool CanServe(const MlModel& model) const = 0;

  // Loads one instance. Blocking (reads files, may start a process): call it off the I/O
  // threads. On success the caller owns a share of the instance. Errors:
  //   InvalidArgument     the model cannot be served by this runtime (names why);
  //   FailedPrecondition  the runtime or device is unavailable here (e.g. no CUDA provider);
  //   Internal            the model failed to load (carries the runtime's or Python's error).
  virtual StatusOr<std::shared_ptr<LoadedModel>> Load(const ModelSource& source,
                                                      const RuntimeOptions& options) = 0;
};

// Forwards every call to another instance; tests override one method to inject faults.
class LoadedModelWrapper : public LoadedModel {
 public:
  explicit LoadedModelWrapper(std::shared_ptr<LoadedModel> target) : target_(std::move(target)) {}
  const ModelInterface& Interface() const override { return target_->Interface(); }
  void Predict(PredictRequest request, PredictCallback done) override {
    target_->Predict(std::move(request), std::move(done));
  }
  int64_t MemoryBytes() const override { return target_->MemoryBytes(); }
  bool Healthy() const override { return target_->Healthy(); }

 protected:
  LoadedModel& target() { return *target_; }

 private:
  std::shared_ptr<LoadedModel> target_;
};

class ModelRuntimeWrapper : public ModelRuntime {
 public:
  explicit ModelRuntimeWrapper(std::shared_ptr<ModelRuntime> target) : target_(std::move(target)) {}
  std::string_view Name() const override { return target_->Name(); }
  bool CanServe(const MlModel& model) const override { return target_->CanServe(model); }
  StatusOr<std::shared_ptr<LoadedModel>> Load(const ModelSource& source,
                                              const RuntimeOptions& options) override {
    return target_->Load(source, options);
  }

 private:
  std::shared_ptr<ModelRuntime> target_;
};

}  // namespace cairn::runtime
