#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "runtime/model_runtime.h"

namespace cairn::runtime::onnx {

struct OnnxRuntimeOptions {
  // Path of libonnxruntime.so; empty means the one the install script put in the build-local
  // prefix (compiled in), then "libonnxruntime.so" on the loader's search path. Pointing it at
  // onnxruntime-gpu's library enables the `cuda` device.
  std::string library_path;
};

// ONNX Runtime in process, loaded with dlopen (ORT_API_MANUAL_INIT): the library may be any
// release that serves the C API version of the headers Cairn was built with, so a newer CPU or
// GPU build can be dropped in without rebuilding. One loaded instance is one OrtSession; Predict
// runs it on the calling thread (sessions are safe to run concurrently).
//
// FailedPrecondition when the library cannot be loaded or does not serve the API version.
StatusOr<std::shared_ptr<ModelRuntime>> CreateOnnxRuntime(const OnnxRuntimeOptions& options);

}  // namespace cairn::runtime::onnx
