// Times the request parsers (not a test): a 32-float V2 body and a one-row, 20-column
// dataframe_split body, each parsed 1M times on one thread. Prints ns per parse.
//   build/release/src/api/inference/inference_codec_bench [iterations]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "api/inference/mlflow_codec.h"
#include "api/inference/v2_codec.h"

namespace {

using cairn::runtime::DataType;

template <typename F>
double NsPerCall(long iterations, F f) {
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < iterations; ++i) f();
  const auto end = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::nano>(end - start).count() /
         static_cast<double>(iterations);
}

}  // namespace

int main(int argc, char** argv) {
  const long iterations = argc > 1 ? std::atol(argv[1]) : 1000000;

  cairn::runtime::ModelInterface v2_model;
  v2_model.inputs.push_back({.name = "x", .type = DataType::kFp32, .shape = {-1, 32}});
  std::string v2_body =
      R"({"id":"1","inputs":[{"name":"x","shape":[1,32],"datatype":"FP32","data":[)";
  for (int k = 0; k < 32; ++k) {
    if (k > 0) v2_body += ",";
    v2_body += std::to_string(0.125 * k + 0.3).substr(0, 6);
  }
  v2_body += "]}]}";

  cairn::runtime::ModelSignature signature;
  std::string columns;
  std::string row;
  for (int k = 0; k < 20; ++k) {
    const std::string name = "feature_" + std::to_string(k);
    signature.inputs.push_back({.name = name, .type = DataType::kFp64, .shape = {-1}});
    signature.input_column_types.push_back("double");
    columns += (k > 0 ? ",\"" : "\"") + name + "\"";
    row += (k > 0 ? "," : "") + std::to_string(1.5 * k + 0.25).substr(0, 6);
  }
  const std::string split_body =
      R"({"dataframe_split":{"columns":[)" + columns + R"(],"data":[[)" + row + "]]}}";
  const std::optional<cairn::runtime::ModelSignature> sig = signature;
  const cairn::runtime::ModelInterface pyfunc_model;

  size_t sink = 0;
  const double v2_ns = NsPerCall(iterations, [&] {
    auto r = cairn::inference::ParseV2InferRequest(v2_body, std::nullopt, v2_model);
    if (!r.ok()) std::abort();
    sink += r->predict.inputs[0].data.size();
  });
  const double split_ns = NsPerCall(iterations, [&] {
    auto r =
        cairn::inference::ParseMlflowInvocation(split_body, "application/json", sig, pyfunc_model);
    if (!r.ok()) std::abort();
    sink += r->inputs.size();
  });
  std::printf("v2 32xFP32 (%zu bytes): %.0f ns/parse\n", v2_body.size(), v2_ns);
  std::printf("dataframe_split 1x20 (%zu bytes): %.0f ns/parse\n", split_body.size(), split_ns);
  return sink == 0 ? 1 : 0;
}
