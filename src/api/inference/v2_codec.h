#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "runtime/model_runtime.h"
#include "runtime/tensor.h"

// Request and response bodies of the Open Inference Protocol (KServe V2 / Triton) over HTTP,
// including Triton's binary tensor data extension. Pure functions: no I/O, thread-safe (the
// parser keeps one reusable simdjson parser per thread).
namespace cairn::inference {

// An output the client listed in `outputs`.
struct V2RequestedOutput {
  std::string name;
  // `parameters.binary_data`; unset when the output did not say.
  std::optional<bool> binary;
};

// How the response should carry each output.
struct V2OutputOptions {
  // Request parameter `binary_data_output` (true for a raw binary request): the default for
  // outputs that do not say.
  bool binary_default = false;
  // The `outputs` list as sent; empty when the request named none (all outputs, as JSON unless
  // binary_default).
  std::vector<V2RequestedOutput> requested;

  // Whether output `name` goes in the binary section.
  bool BinaryFor(std::string_view name) const;
};

struct V2Request {
  // `id`, echoed in the response; empty when absent.
  std::string id;
  // The request-level `parameters` object as the client wrote it; empty when absent.
  std::string parameters_json;
  // Inputs in request order (never columnar); `outputs` holds the requested names.
  runtime::PredictRequest predict;
  V2OutputOptions output_options;
};

// Parses an inference request body for `model`.
//
// `inference_header_length` is the Inference-Header-Content-Length header: absent -> the body is
// JSON only; N > 0 -> the first N bytes are JSON and the rest holds the binary tensors of the
// inputs that carry `parameters.binary_data_size`, in input order; 0 -> a raw binary request,
// the whole body is the single input of a one-input model (at most one variable dimension,
// inferred from the size; BYTES: the body is one element, shape [1]), and every output is
// answered in binary.
//
// Checks, against `model.inputs` (skipped when the model declares none): every required input
// is present, no unknown or repeated input, `datatype` equals the declared type exactly (no
// conversion, as Triton), the shape has the declared rank and every fixed dimension, the data
// has exactly product(shape) elements (nested as the shape or flat), integers are integral and
// in range for the type, FP32 values are finite-in-range doubles, BOOL values are true/false,
// BYTES values are strings. FP16 and BF16 are accepted in binary form only. Requested outputs
// must be declared by the model (when it declares any).
//
// Errors: InvalidArgument whose message names the input (or output) and what is wrong, or says
// the JSON is malformed; Unimplemented for Triton features this server lacks (shared memory,
// classification). The caller answers {"error": message} (WriteV2Error) with 400 / 501.
StatusOr<V2Request> ParseV2InferRequest(std::string_view body,
                                        std::optional<size_t> inference_header_length,
                                        const runtime::ModelInterface& model);

// Writes the inference response into `out` (cleared first):
//   {"model_name":..,"model_version":..,"id":..,"outputs":[{"name","datatype","shape","data"}]}
// `model_version` and `id` are left out when empty. Data is flat, row-major; floating point as
// the shortest text that reads back the same (FP32 as a float, FP16/BF16 widened to float; NaN
// and infinities as NaN/Infinity/-Infinity, which Python clients read); BYTES as strings (bytes
// that are not UTF-8 become U+FFFD: send binary for raw bytes). Outputs for which
// `options.BinaryFor(name)` holds carry `parameters.binary_data_size` instead of `data`, and
// their bytes follow the JSON in output order (BYTES as 4-byte little-endian length + bytes).
// `json_header_length` is the JSON part's length when there is a binary part (the caller sends
// it as Inference-Header-Content-Length), else 0 (send no such header).
void WriteV2InferResponse(const runtime::PredictResponse& response, std::string_view model_name,
                          std::string_view model_version, std::string_view id,
                          const V2OutputOptions& options, std::string& out,
                          size_t& json_header_length);

// Model metadata: {"name","versions"?,"platform","inputs":[{name,datatype,shape}],"outputs":[..]}
// (`versions` left out when empty). Into `out`, cleared first.
void WriteV2ModelMetadata(std::string_view name, std::span<const std::string> versions,
                          std::string_view platform, std::span<const runtime::TensorSpec> inputs,
                          std::span<const runtime::TensorSpec> outputs, std::string& out);

// {"error":"<message>"} into `out`, cleared first.
void WriteV2Error(std::string_view message, std::string& out);

}  // namespace cairn::inference
