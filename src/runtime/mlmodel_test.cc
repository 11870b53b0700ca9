#include "runtime/mlmodel.h"

#include <gtest/gtest.h>

namespace cairn::runtime {
namespace {

// As mlflow.sklearn.log_model writes it (abridged).
constexpr std::string_view kColumnModel = R"yaml(artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: 3.11.7
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.9.1
mlflow_version: 3.17.2
signature:
  inputs: '[{"type": "double", "name": "sepal length (cm)", "required": true}, {"type": "long",
    "name": "count", "required": false}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
  params: null
)yaml";

constexpr std::string_view kTensorModel = R"yaml(flavors:
  onnx:
    data: model.onnx
    onnx_version: 1.23.2
  python_function:
    data: model.onnx
    loader_module: mlflow.onnx
signature:
  inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}, "name": "X"}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}, "name": "label"}]'
)yaml";

TEST(MlModelTest, ParsesColumnSignatureAndFlavors) {
  StatusOr<MlModel> model = ParseMlModel(kColumnModel);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_TRUE(model->HasFlavor("sklearn"));
  EXPECT_EQ(model->flavors.at("python_function"), "model.pkl");
  EXPECT_EQ(model->loader_module, "mlflow.sklearn");
  ASSERT_TRUE(model->signature.has_value());
  const ModelSignature& signature = *model->signature;
  EXPECT_FALSE(signature.tensor_based);
  ASSERT_EQ(signature.inputs.size(), 2U);
  EXPECT_EQ(signature.inputs[0].name, "sepal length (cm)");
  EXPECT_EQ(signature.inputs[0].type, DataType::kFp64);
  EXPECT_FALSE(signature.inputs[0].optional);
  EXPECT_EQ(signature.inputs[1].type, DataType::kInt64);
  EXPECT_TRUE(signature.inputs[1].optional);
  EXPECT_EQ(signature.input_column_types, (std::vector<std::string>{"double", "long"}));
  ASSERT_EQ(signature.outputs.size(), 1U);
  EXPECT_EQ(signature.outputs[0].type, DataType::kInt64);
}

TEST(MlModelTest, ParsesTensorSignature) {
  StatusOr<MlModel> model = ParseMlModel(kTensorModel);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->flavors.at("onnx"), "model.onnx");
  ASSERT_TRUE(model->signature.has_value());
  EXPECT_TRUE(model->signature->tensor_based);
  ASSERT_EQ(model->signature->inputs.size(), 1U);
  EXPECT_EQ(model->signature->inputs[0].name, "X");
  EXPECT_EQ(model->signature->inputs[0].type, DataType::kFp32);
  EXPECT_EQ(model->signature->inputs[0].shape, (std::vector<int64_t>{-1, 4}));
  EXPECT_TRUE(model->signature->input_column_types.empty());
}

TEST(MlModelTest, RejectsMalformedFiles) {
  EXPECT_EQ(ParseMlModel("flavors: [").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseMlModel("- a\n- b\n").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseMlModel("artifact_path: x\n").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseMlModel("flavors: {a: {}}\nsignature: {inputs: 'not json'}\n").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseMlModel("flavors: {a: {}}\nsignature: {inputs: '[{\"type\": \"tensor\"}]'}\n")
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

TEST(MlModelTest, NoSignatureIsFine) {
  StatusOr<MlModel> model = ParseMlModel("flavors:\n  onnx: {data: m.onnx}\n");
  ASSERT_TRUE(model.ok());
  EXPECT_FALSE(model->signature.has_value());
}

TEST(TensorTest, DataTypeNamesRoundTrip) {
  for (DataType type : {DataType::kBool, DataType::kUint8, DataType::kInt64, DataType::kFp16,
                        DataType::kBf16, DataType::kFp32, DataType::kFp64, DataType::kBytes}) {
    EXPECT_EQ(ParseDataType(DataTypeName(type)), type);
  }
  EXPECT_FALSE(ParseDataType("fp32").has_value());
  EXPECT_EQ(ElementSize(DataType::kFp64), 8U);
  EXPECT_EQ(ElementSize(DataType::kBytes), 0U);
}

}  // namespace
}  // namespace cairn::runtime
