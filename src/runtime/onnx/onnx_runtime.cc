#include "runtime/onnx/onnx_runtime.h"

#define ORT_API_MANUAL_INIT
#include <dlfcn.h>
#include <onnxruntime_cxx_api.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "runtime/input_binding.h"

#ifndef CAIRN_ONNXRUNTIME_LIBRARY
#define CAIRN_ONNXRUNTIME_LIBRARY ""
#endif

namespace cairn::runtime::onnx {
namespace {

std::optional<DataType> FromOnnx(ONNXTensorElementDataType type) {
  switch (type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT:
      return DataType::kFp32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE:
      return DataType::kFp64;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16:
      return DataType::kFp16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16:
      return DataType::kBf16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8:
      return DataType::kUint8;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16:
      return DataType::kUint16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32:
      return DataType::kUint32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64:
      return DataType::kUint64;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8:
      return DataType::kInt8;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16:
      return DataType::kInt16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32:
      return DataType::kInt32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64:
      return DataType::kInt64;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL:
      return DataType::kBool;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING:
      return DataType::kBytes;
    default:
      return std::nullopt;
  }
}

ONNXTensorElementDataType ToOnnx(DataType type) {
  switch (type) {
    case DataType::kFp32:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
    case DataType::kFp64:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE;
    case DataType::kFp16:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
    case DataType::kBf16:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16;
    case DataType::kUint8:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8;
    case DataType::kUint16:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16;
    case DataType::kUint32:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32;
    case DataType::kUint64:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64;
    case DataType::kInt8:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8;
    case DataType::kInt16:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16;
    case DataType::kInt32:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32;
    case DataType::kInt64:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
    case DataType::kBool:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL;
    case DataType::kBytes:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING;
  }
  return ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
}

// How an output is turned into a tensor.
enum class OutputKind {
  kTensor,
  // A sequence of maps (scikit-learn converters' ZipMap: one {class: probability} per row):
  // returned as a [rows, classes] tensor of the map values, classes in key order.
  kSequenceOfMaps,
  kUnsupported,
};

// The description of an input or output: a tensor, or ZipMap's sequence of maps.
TensorSpec DescribeValue(const std::string& name, const Ort::TypeInfo& info, OutputKind& kind) {
  TensorSpec spec{.name = name};
  kind = OutputKind::kUnsupported;
  if (info.GetONNXType() == ONNX_TYPE_TENSOR) {
    auto tensor = info.GetTensorTypeAndShapeInfo();
    if (std::optional<DataType> type = FromOnnx(tensor.GetElementType())) {
      spec.type = *type;
      spec.shape = tensor.GetShape();
      kind = OutputKind::kTensor;
    }
  } else if (info.GetONNXType() == ONNX_TYPE_SEQUENCE) {
    auto element = info.GetSequenceTypeInfo().GetSequenceElementType();
    if (element.GetONNXType() == ONNX_TYPE_MAP) {
      auto value = element.GetMapTypeInfo().GetMapValueType();
      if (value.GetONNXType() == ONNX_TYPE_TENSOR) {
        if (std::optional<DataType> type =
                FromOnnx(value.GetTensorTypeAndShapeInfo().GetElementType())) {
          spec.type = *type;
          spec.shape = {-1, -1};
          kind = OutputKind::kSequenceOfMaps;
        }
      }
    }
  }
  return spec;
}

Tensor TensorFromValue(const std::string& name, Ort::Value& value) {
  auto info = value.GetTensorTypeAndShapeInfo();
  Tensor out{.name = name,
             .type = FromOnnx(info.GetElementType()).value_or(DataType::kFp32),
             .shape = info.GetShape()};
  const size_t count = info.GetElementCount();
  if (out.type == DataType::kBytes) {
    out.strings.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      out.strings.push_back(value.GetStringTensorElement(i));
    }
  } else {
    const size_t bytes = count * ElementSize(out.type);
    out.data.resize(bytes);
    if (bytes > 0) {
      std::memcpy(out.data.data(), value.GetTensorRawData(), bytes);
    }
  }
  return out;
}

// ZipMap output: one map per row; values in key order form a row of the result.
Tensor TensorFromSequenceOfMaps(const std::string& name, const TensorSpec& spec,
                                Ort::Value& sequence, OrtAllocator* allocator) {
  const size_t rows = sequence.GetCount();
  Tensor out{.name = name, .type = spec.type, .shape = {static_cast<int64_t>(rows), 0}};
  const size_t element = ElementSize(spec.type);
  for (size_t r = 0; r < rows; ++r) {
    Ort::Value map = sequence.GetValue(static_cast<int>(r), allocator);
    Ort::Value values = map.GetValue(1, allocator);
    auto info = values.GetTensorTypeAndShapeInfo();
    const size_t width = info.GetElementCount();
    if (r == 0) {
      out.shape[1] = static_cast<int64_t>(width);
      out.data.resize(rows * width * element);
    }
    if (width != static_cast<size_t>(out.shape[1])) {
      continue;  // a converter never produces ragged maps; leave the row zeroed
    }
    std::memcpy(out.data.data() + r * width * element, values.GetTensorRawData(), width * element);
  }
  return out;
}

GraphOptimizationLevel OptimizationLevel(const std::string& name) {
  if (name == "disable") return ORT_DISABLE_ALL;
  if (name == "basic") return ORT_ENABLE_BASIC;
  if (name == "extended") return ORT_ENABLE_EXTENDED;
  return ORT_ENABLE_ALL;
}

// The library and its environment, shared by every session.
struct OnnxLibrary {
  void* handle = nullptr;
  std::string version;
  std::vector<std::string> providers;
  std::unique_ptr<Ort::Env> env;
};

class OnnxModel final : public LoadedModel {
 public:
  OnnxModel(std::shared_ptr<OnnxLibrary> library, Ort::Session session, ModelInterface interface,
            std::vector<OutputKind> output_kinds, int64_t memory_bytes)
      : library_(std::move(library)),
        session_(std::move(session)),
        interface_(std::move(interface)),
        output_kinds_(std::move(output_kinds)),
        memory_bytes_(memory_bytes),
        memory_info_(Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault)) {
    for (const TensorSpec& spec : interface_.inputs) {
      input_names_.push_back(spec.name.c_str());
    }
  }

  const ModelInterface& Interface() const override { return interface_; }
  int64_t MemoryBytes() const override { return memory_bytes_; }

  void Predict(PredictRequest request, PredictCallback done) override { done(Run(request)); }

 private:
  StatusOr<PredictResponse> Run(PredictRequest& request) {
    // A table in gives a table out (one column per output), as MLflow's onnx flavor answers a
    // DataFrame.
    const bool columnar = request.columnar;
    ASSIGN_OR_RETURN(std::vector<Tensor> inputs, BindInputs(request, interface_));
    std::vector<const char*> output_names;
    std::vector<size_t> output_index;
    for (size_t i = 0; i < interface_.outputs.size(); ++i) {
      const std::string& name = interface_.outputs[i].name;
      bool wanted = request.outputs.empty();
      for (const std::string& asked : request.outputs) {
        wanted = wanted || asked == name;
      }
      if (wanted && output_kinds_[i] != OutputKind::kUnsupported) {
        output_names.push_back(name.c_str());
        output_index.push_back(i);
      }
    }
    for (const std::string& asked : request.outputs) {
      bool known = false;
      for (size_t i : output_index) {
        known = known || interface_.outputs[i].name == asked;
      }
      if (!known) {
        return InvalidArgument("unknown output '" + asked + "'");
      }
    }
    try {
      Ort::AllocatorWithDefaultOptions allocator;
      std::vector<Ort::Value> values;
      std::vector<const char*> names;
      values.reserve(inputs.size());
      for (Tensor& tensor : inputs) {
        names.push_back(tensor.name.c_str());
        if (tensor.type == DataType::kBytes) {
          Ort::Value value = Ort::Value::CreateTensor(allocator, tensor.shape.data(),
                                                      tensor.shape.size(), ToOnnx(tensor.type));
          std::vector<const char*> strings;
          strings.reserve(tensor.strings.size());
          for (const std::string& s : tensor.strings) {
            strings.push_back(s.c_str());
          }
          value.FillStringTensor(strings.data(), strings.size());
          values.push_back(std::move(value));
        } else {
          values.push_back(Ort::Value::CreateTensor(memory_info_, tensor.data.data(),
                                                    tensor.data.size(), tensor.shape.data(),
                                                    tensor.shape.size(), ToOnnx(tensor.type)));
        }
      }
      std::vector<Ort::Value> results =
          session_.Run(run_options_, names.data(), values.data(), values.size(),
                       output_names.data(), output_names.size());
      PredictResponse response;
      response.columnar = columnar;
      response.outputs.reserve(results.size());
      for (size_t k = 0; k < results.size(); ++k) {
        const size_t i = output_index[k];
        if (output_kinds_[i] == OutputKind::kSequenceOfMaps) {
          response.outputs.push_back(TensorFromSequenceOfMaps(
              interface_.outputs[i].name, interface_.outputs[i], results[k], allocator));
        } else {
          response.outputs.push_back(TensorFromValue(interface_.outputs[i].name, results[k]));
        }
      }
      return response;
    } catch (const Ort::Exception& e) {
      if (e.GetOrtErrorCode() == ORT_INVALID_ARGUMENT) {
        return InvalidArgument(std::string("ONNX Runtime rejected the inputs: ") + e.what());
      }
      return Internal(std::string("ONNX Runtime failed: ") + e.what());
    }
  }

  std::shared_ptr<OnnxLibrary> library_;  // outlives the session
  Ort::Session session_;
  ModelInterface interface_;
  std::vector<OutputKind> output_kinds_;
  int64_t memory_bytes_;
  Ort::MemoryInfo memory_info_;
  Ort::RunOptions run_options_;
  std::vector<const char*> input_names_;
};

class OnnxRuntime final : public ModelRuntime {
 public:
  explicit OnnxRuntime(std::shared_ptr<OnnxLibrary> library) : library_(std::move(library)) {}

  std::string_view Name() const override { return "onnx"; }

  bool CanServe(const MlModel& model) const override { return model.HasFlavor("onnx"); }

  StatusOr<std::shared_ptr<LoadedModel>> Load(const ModelSource& source,
                                              const RuntimeOptions& options) override {
    auto flavor = source.mlmodel.flavors.find("onnx");
    if (flavor == source.mlmodel.flavors.end() || flavor->second.empty()) {
      return InvalidArgument("the model has no onnx flavor with a data file");
    }
    const std::filesystem::path file = source.dir / flavor->second;
    std::error_code ec;
    if (file.lexically_normal().string().rfind(source.dir.lexically_normal().string(), 0) != 0) {
      return InvalidArgument("the onnx flavor's data path leaves the model folder");
    }
    const auto size = std::filesystem::file_size(file, ec);
    if (ec) {
      return InvalidArgument("cannot read the ONNX file " + flavor->second + ": " + ec.message());
    }
    try {
      Ort::SessionOptions session_options;
      session_options.SetIntraOpNumThreads(std::max(1, options.intra_op_threads));
      session_options.SetInterOpNumThreads(std::max(1, options.inter_op_threads));
      session_options.SetGraphOptimizationLevel(OptimizationLevel(options.graph_optimization));
      // Instances share the machine's cores with the server: spinning threads would steal them.
      session_options.AddConfigEntry("session.intra_op.allow_spinning", "0");
      session_options.AddConfigEntry("session.inter_op.allow_spinning", "0");
      if (options.device == "cuda") {
        RETURN_IF_ERROR(AppendCuda(session_options, options.cuda_device_id));
      } else if (options.device != "cpu" && !options.device.empty()) {
        return InvalidArgument("unknown device '" + options.device + "' (cpu or cuda)");
      }
      Ort::Session session(*library_->env, file.c_str(), session_options);
      ModelInterface interface { .platform = "onnx_onnxv1" };
      Ort::AllocatorWithDefaultOptions allocator;
      for (size_t i = 0; i < session.GetInputCount(); ++i) {
        std::string name = session.GetInputNameAllocated(i, allocator).get();
        OutputKind kind;
        TensorSpec spec = DescribeValue(name, session.GetInputTypeInfo(i), kind);
        if (kind != OutputKind::kTensor) {
          return InvalidArgument("input '" + name + "' is not a tensor; not servable");
        }
        interface.inputs.push_back(std::move(spec));
      }
      std::vector<OutputKind> kinds;
      for (size_t i = 0; i < session.GetOutputCount(); ++i) {
        std::string name = session.GetOutputNameAllocated(i, allocator).get();
        OutputKind kind;
        TensorSpec spec = DescribeValue(name, session.GetOutputTypeInfo(i), kind);
        if (kind == OutputKind::kUnsupported) {
          spdlog::warn(
              "onnx: output '{}' of {} is neither a tensor nor a sequence of maps; it is "
              "left out of responses",
              name, file.string());
          continue;
        }
        interface.outputs.push_back(std::move(spec));
        kinds.push_back(kind);
      }
      return std::shared_ptr<LoadedModel>(
          std::make_shared<OnnxModel>(library_, std::move(session), std::move(interface),
                                      std::move(kinds), static_cast<int64_t>(size) * 2));
    } catch (const Ort::Exception& e) {
      return Internal(std::string("ONNX Runtime could not load the model: ") + e.what());
    }
  }

 private:
  Status AppendCuda(Ort::SessionOptions& session_options, int device_id) {
    bool available = false;
    for (const std::string& provider : library_->providers) {
      available = available || provider == "CUDAExecutionProvider";
    }
    if (!available) {
      return FailedPrecondition(
          "device cuda: this ONNX Runtime build (" + library_->version +
          ") has no CUDA execution provider; start the server with --onnxruntime-library "
          "pointing at onnxruntime-gpu's libonnxruntime.so");
    }
    try {
      OrtCUDAProviderOptionsV2* cuda = nullptr;
      Ort::ThrowOnError(Ort::GetApi().CreateCUDAProviderOptions(&cuda));
      std::unique_ptr<OrtCUDAProviderOptionsV2, void (*)(OrtCUDAProviderOptionsV2*)> owned(
          cuda, Ort::GetApi().ReleaseCUDAProviderOptions);
      std::string id = std::to_string(device_id);
      const char* keys[] = {"device_id"};
      const char* values[] = {id.c_str()};
      Ort::ThrowOnError(Ort::GetApi().UpdateCUDAProviderOptions(cuda, keys, values, 1));
      session_options.AppendExecutionProvider_CUDA_V2(*cuda);
    } catch (const Ort::Exception& e) {
      return FailedPrecondition(std::string("device cuda is not usable here: ") + e.what());
    }
    return Status::Ok();
  }

  std::shared_ptr<OnnxLibrary> library_;
};

// dlopen'ed once per process: the C++ API keeps the OrtApi pointer in a global.
std::mutex g_library_mu;
std::weak_ptr<OnnxLibrary> g_library;

StatusOr<std::shared_ptr<OnnxLibrary>> OpenLibrary(const std::string& requested) {
  std::lock_guard<std::mutex> lock(g_library_mu);
  if (auto existing = g_library.lock()) {
    return existing;
  }
  std::vector<std::string> candidates;
  if (!requested.empty()) {
    candidates.push_back(requested);
  } else {
    if (std::string built_in = CAIRN_ONNXRUNTIME_LIBRARY; !built_in.empty()) {
      candidates.push_back(built_in);
    }
    candidates.emplace_back("libonnxruntime.so");
  }
  std::string errors;
  void* handle = nullptr;
  for (const std::string& path : candidates) {
    handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle != nullptr) {
      break;
    }
    errors += std::string(errors.empty() ? "" : "; ") + dlerror();
  }
  if (handle == nullptr) {
    return FailedPrecondition("cannot load ONNX Runtime: " + errors);
  }
  using GetApiBase = const OrtApiBase* (*)();
  auto get_api_base = reinterpret_cast<GetApiBase>(dlsym(handle, "OrtGetApiBase"));
  const OrtApi* api = get_api_base == nullptr ? nullptr : get_api_base()->GetApi(ORT_API_VERSION);
  if (api == nullptr) {
    dlclose(handle);
    return FailedPrecondition("the ONNX Runtime library does not serve C API version " +
                              std::to_string(ORT_API_VERSION));
  }
  Ort::InitApi(api);
  auto library = std::make_shared<OnnxLibrary>();
  library->handle = handle;
  library->version = get_api_base()->GetVersionString();
  try {
    library->providers = Ort::GetAvailableProviders();
    library->env = std::make_unique<Ort::Env>(ORT_LOGGING_LEVEL_WARNING, "cairn");
  } catch (const Ort::Exception& e) {
    return FailedPrecondition(std::string("ONNX Runtime failed to start: ") + e.what());
  }
  // The library stays loaded for the life of the process: unloading it under thread-local
  // state it created is not safe.
  g_library = library;
  spdlog::info("ONNX Runtime {} loaded (C API {})", library->version, ORT_API_VERSION);
  return library;
}

}  // namespace

StatusOr<std::shared_ptr<ModelRuntime>> CreateOnnxRuntime(const OnnxRuntimeOptions& options) {
  ASSIGN_OR_RETURN(std::shared_ptr<OnnxLibrary> library, OpenLibrary(options.library_path));
  return std::shared_ptr<ModelRuntime>(std::make_shared<OnnxRuntime>(std::move(library)));
}

}  // namespace cairn::runtime::onnx
