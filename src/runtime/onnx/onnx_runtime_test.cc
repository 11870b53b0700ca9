#include "runtime/onnx/onnx_runtime.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstring>
#include <fstream>
#include <sstream>

#include "runtime/mlmodel.h"

namespace cairn::runtime::onnx {
namespace {

namespace json = boost::json;

const std::filesystem::path kTestData = CAIRN_ONNX_TESTDATA;

json::object Expected(std::string_view model) {
  std::ifstream in(kTestData / "expected.json");
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str()).as_object().at(model).as_object();
}

// A model folder as MLflow writes it: MLmodel plus the ONNX file.
ModelSource Source(const std::string& file) {
  StatusOr<MlModel> mlmodel = ParseMlModel("flavors:\n  onnx:\n    data: " + file + "\n");
  return ModelSource{.dir = kTestData, .mlmodel = *mlmodel};
}

Tensor Fp32Rows(const json::array& rows, std::string name) {
  Tensor tensor{.name = std::move(name), .type = DataType::kFp32};
  tensor.shape = {static_cast<int64_t>(rows.size()),
                  static_cast<int64_t>(rows[0].as_array().size())};
  for (const json::value& row : rows) {
    for (const json::value& x : row.as_array()) {
      float f = static_cast<float>(x.to_number<double>());
      auto* bytes = reinterpret_cast<const std::byte*>(&f);
      tensor.data.insert(tensor.data.end(), bytes, bytes + sizeof f);
    }
  }
  return tensor;
}

StatusOr<PredictResponse> RunSync(LoadedModel& model, PredictRequest request) {
  std::optional<StatusOr<PredictResponse>> result;
  model.Predict(std::move(request), [&](StatusOr<PredictResponse> r) { result = std::move(r); });
  EXPECT_TRUE(result.has_value());
  return std::move(*result);
}

class OnnxRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StatusOr<std::shared_ptr<ModelRuntime>> created = CreateOnnxRuntime({});
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    runtime_ = *created;
  }
  std::shared_ptr<LoadedModel> Load(const std::string& file, RuntimeOptions options = {}) {
    StatusOr<std::shared_ptr<LoadedModel>> model = runtime_->Load(Source(file), options);
    EXPECT_TRUE(model.ok()) << model.status().ToString();
    return model.ok() ? *model : nullptr;
  }
  std::shared_ptr<ModelRuntime> runtime_;
};

TEST_F(OnnxRuntimeTest, LogisticRegressionMatchesOnnxRuntimePython) {
  std::shared_ptr<LoadedModel> model = Load("iris_logreg.onnx");
  ASSERT_NE(model, nullptr);
  const ModelInterface& interface = model->Interface();
  EXPECT_EQ(interface.platform, "onnx_onnxv1");
  ASSERT_EQ(interface.inputs.size(), 1U);
  EXPECT_EQ(interface.inputs[0].name, "X");
  EXPECT_EQ(interface.inputs[0].shape, (std::vector<int64_t>{-1, 4}));
  ASSERT_EQ(interface.outputs.size(), 2U);
  EXPECT_EQ(interface.outputs[1].name, "output_probability");

  json::object expected = Expected("iris_logreg");
  PredictRequest request;
  request.inputs.push_back(Fp32Rows(expected.at("input").as_array(), "X"));
  StatusOr<PredictResponse> response = RunSync(*model, std::move(request));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_EQ(response->outputs.size(), 2U);
  const Tensor& label = response->outputs[0];
  EXPECT_EQ(label.type, DataType::kInt64);
  const json::array& labels = expected.at("label").as_array();
  ASSERT_EQ(label.As<int64_t>().size(), labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    EXPECT_EQ(label.As<int64_t>()[i], labels[i].as_int64());
  }
  // ZipMap's sequence of maps comes back as a [rows, classes] tensor, bitwise equal.
  const Tensor& probabilities = response->outputs[1];
  EXPECT_EQ(probabilities.shape, (std::vector<int64_t>{4, 3}));
  const json::array& rows = expected.at("probabilities").as_array();
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t c = 0; c < 3; ++c) {
      EXPECT_EQ(probabilities.As<float>()[r * 3 + c],
                static_cast<float>(rows[r].as_array()[c].to_number<double>()));
    }
  }
}

TEST_F(OnnxRuntimeTest, TableColumnsAreStackedIntoTheSingleInput) {
  std::shared_ptr<LoadedModel> model = Load("mlp.onnx");
  ASSERT_NE(model, nullptr);
  json::object expected = Expected("mlp");
  const json::array& rows = expected.at("input").as_array();
  PredictRequest request{.columnar = true};
  for (size_t c = 0; c < 4; ++c) {
    Tensor column{.name = "f" + std::to_string(c), .type = DataType::kFp64};
    column.shape = {static_cast<int64_t>(rows.size())};
    for (const json::value& row : rows) {
      double x = static_cast<float>(row.as_array()[c].to_number<double>());
      auto* bytes = reinterpret_cast<const std::byte*>(&x);
      column.data.insert(column.data.end(), bytes, bytes + sizeof x);
    }
    request.inputs.push_back(std::move(column));
  }
  StatusOr<PredictResponse> response = RunSync(*model, std::move(request));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  const Tensor& out = response->outputs[0];
  EXPECT_EQ(out.shape, (std::vector<int64_t>{4, 3}));
  const json::array& want = expected.at("output").as_array();
  for (size_t r = 0; r < 4; ++r) {
    for (size_t c = 0; c < 3; ++c) {
      EXPECT_EQ(out.As<float>()[r * 3 + c],
                static_cast<float>(want[r].as_array()[c].to_number<double>()));
    }
  }
}

TEST_F(OnnxRuntimeTest, StringTensorsRoundTrip) {
  std::shared_ptr<LoadedModel> model = Load("strings.onnx");
  ASSERT_NE(model, nullptr);
  PredictRequest request;
  request.inputs.push_back(Tensor{.name = "text",
                                  .type = DataType::kBytes,
                                  .shape = {3},
                                  .strings = {"virginica", "setosa", "rose"}});
  StatusOr<PredictResponse> response = RunSync(*model, std::move(request));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  auto codes = response->outputs[0].As<int64_t>();
  ASSERT_EQ(codes.size(), 3U);
  EXPECT_EQ(codes[0], 2);
  EXPECT_EQ(codes[1], 0);
  EXPECT_EQ(codes[2], -1);
}

TEST_F(OnnxRuntimeTest, BadInputsNameTheInput) {
  std::shared_ptr<LoadedModel> model = Load("mlp.onnx");
  ASSERT_NE(model, nullptr);
  PredictRequest wrong_width;
  wrong_width.inputs.push_back(Tensor{.name = "input",
                                      .type = DataType::kFp32,
                                      .shape = {1, 3},
                                      .data = std::vector<std::byte>(12)});
  StatusOr<PredictResponse> response = RunSync(*model, std::move(wrong_width));
  ASSERT_EQ(response.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(response.status().message().find("'input'"), std::string::npos);

  PredictRequest strings;
  strings.inputs.push_back(
      Tensor{.name = "input", .type = DataType::kBytes, .shape = {1, 4}, .strings = {"a"}});
  EXPECT_EQ(RunSync(*model, std::move(strings)).status().code(), StatusCode::kInvalidArgument);

  PredictRequest unknown_output{.outputs = {"nope"}};
  unknown_output.inputs.push_back(Tensor{.name = "input",
                                         .type = DataType::kFp32,
                                         .shape = {1, 4},
                                         .data = std::vector<std::byte>(16)});
  EXPECT_EQ(RunSync(*model, std::move(unknown_output)).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(OnnxRuntimeTest, LoadFailuresSayWhy) {
  EXPECT_EQ(runtime_->Load(Source("missing.onnx"), {}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(runtime_->Load(Source("expected.json"), {}).status().code(), StatusCode::kInternal);
  EXPECT_EQ(runtime_->Load(Source("../testdata/mlp.onnx"), {}).status().code(), StatusCode::kOk);
  EXPECT_EQ(runtime_->Load(Source("../../onnx_runtime.cc"), {}).status().code(),
            StatusCode::kInvalidArgument);
  RuntimeOptions cuda{.device = "cuda"};
  Status no_cuda = runtime_->Load(Source("mlp.onnx"), cuda).status();
  EXPECT_EQ(no_cuda.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(no_cuda.message().find("CUDA"), std::string::npos) << no_cuda.message();
  RuntimeOptions tpu{.device = "tpu"};
  EXPECT_EQ(runtime_->Load(Source("mlp.onnx"), tpu).status().code(), StatusCode::kInvalidArgument);
}

TEST(OnnxLibraryTest, MissingLibraryIsAClearError) {
  // The process already holds a library from other tests only if they ran first; a fresh
  // request for a bad path is refused only when nothing is loaded.
  StatusOr<std::shared_ptr<ModelRuntime>> runtime =
      CreateOnnxRuntime({.library_path = "/nonexistent/libonnxruntime.so"});
  if (!runtime.ok()) {
    EXPECT_EQ(runtime.status().code(), StatusCode::kFailedPrecondition);
  }
}

}  // namespace
}  // namespace cairn::runtime::onnx
