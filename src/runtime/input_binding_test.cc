#include "runtime/input_binding.h"

#include <gtest/gtest.h>

#include <cstring>

namespace cairn::runtime {
namespace {

template <typename T>
Tensor Make(std::string name, DataType type, std::vector<int64_t> shape, std::vector<T> values) {
  Tensor tensor{.name = std::move(name), .type = type, .shape = std::move(shape)};
  tensor.data.resize(values.size() * sizeof(T));
  std::memcpy(tensor.data.data(), values.data(), tensor.data.size());
  return tensor;
}

TEST(CastTensorTest, ConvertsBetweenNumericTypes) {
  StatusOr<Tensor> cast =
      CastTensor(Make<double>("x", DataType::kFp64, {3}, {1.5, -2.0, 3.25}), DataType::kFp32);
  ASSERT_TRUE(cast.ok());
  EXPECT_EQ(cast->type, DataType::kFp32);
  EXPECT_EQ(cast->As<float>()[2], 3.25F);
  StatusOr<Tensor> ints =
      CastTensor(Make<int64_t>("x", DataType::kInt64, {2}, {7, -1}), DataType::kFp64);
  ASSERT_TRUE(ints.ok());
  EXPECT_EQ(ints->As<double>()[1], -1.0);
}

TEST(CastTensorTest, RefusesStringsToNumbers) {
  Tensor strings{.name = "city", .type = DataType::kBytes, .shape = {1}, .strings = {"x"}};
  Status status = CastTensor(strings, DataType::kFp32).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("'city'"), std::string::npos);
}

ModelInterface OneMatrixInput(int64_t width) {
  return ModelInterface{
      .inputs = {TensorSpec{.name = "X", .type = DataType::kFp32, .shape = {-1, width}}}};
}

TEST(BindInputsTest, StacksColumnsIntoOneMatrix) {
  PredictRequest request{.columnar = true};
  request.inputs.push_back(Make<double>("a", DataType::kFp64, {2}, {1, 2}));
  request.inputs.push_back(Make<int64_t>("b", DataType::kInt64, {2}, {10, 20}));
  StatusOr<std::vector<Tensor>> bound = BindInputs(request, OneMatrixInput(2));
  ASSERT_TRUE(bound.ok()) << bound.status().ToString();
  ASSERT_EQ(bound->size(), 1U);
  EXPECT_EQ((*bound)[0].shape, (std::vector<int64_t>{2, 2}));
  auto values = (*bound)[0].As<float>();
  EXPECT_EQ(std::vector<float>(values.begin(), values.end()), (std::vector<float>{1, 10, 2, 20}));
}

TEST(BindInputsTest, WrongColumnCountIsRejected) {
  PredictRequest request{.columnar = true};
  request.inputs.push_back(Make<double>("a", DataType::kFp64, {1}, {1}));
  EXPECT_EQ(BindInputs(request, OneMatrixInput(3)).status().code(), StatusCode::kInvalidArgument);
}

TEST(BindInputsTest, ColumnsGoToInputsOfTheirName) {
  ModelInterface model{.inputs = {
                           TensorSpec{.name = "age", .type = DataType::kInt64, .shape = {-1, 1}},
                           TensorSpec{.name = "city", .type = DataType::kBytes, .shape = {-1, 1}},
                       }};
  PredictRequest request{.columnar = true};
  request.inputs.push_back(
      Tensor{.name = "city", .type = DataType::kBytes, .shape = {1}, .strings = {"Oslo"}});
  request.inputs.push_back(Make<int64_t>("age", DataType::kInt64, {1}, {41}));
  StatusOr<std::vector<Tensor>> bound = BindInputs(request, model);
  ASSERT_TRUE(bound.ok()) << bound.status().ToString();
  EXPECT_EQ((*bound)[0].name, "age");
  EXPECT_EQ((*bound)[0].shape, (std::vector<int64_t>{1, 1}));
  EXPECT_EQ((*bound)[1].strings[0], "Oslo");
}

TEST(BindInputsTest, MissingAndUnknownInputsAreNamed) {
  ModelInterface model{
      .inputs = {TensorSpec{.name = "a", .shape = {-1}}, TensorSpec{.name = "b", .shape = {-1}}}};
  PredictRequest missing;
  missing.inputs.push_back(Make<float>("a", DataType::kFp32, {1}, {1}));
  Status status = BindInputs(missing, model).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("'b'"), std::string::npos);

  PredictRequest unknown;
  unknown.inputs.push_back(Make<float>("a", DataType::kFp32, {1}, {1}));
  unknown.inputs.push_back(Make<float>("b", DataType::kFp32, {1}, {1}));
  unknown.inputs.push_back(Make<float>("c", DataType::kFp32, {1}, {1}));
  status = BindInputs(unknown, model).status();
  EXPECT_NE(status.message().find("'c'"), std::string::npos);
}

TEST(BindInputsTest, SingleTensorGoesToTheSingleInputWhateverItsName) {
  PredictRequest request;
  request.inputs.push_back(Make<float>("instances", DataType::kFp32, {1, 2}, {1, 2}));
  StatusOr<std::vector<Tensor>> bound = BindInputs(request, OneMatrixInput(2));
  ASSERT_TRUE(bound.ok());
  EXPECT_EQ((*bound)[0].name, "X");
}

TEST(BindInputsTest, ShapeMismatchIsRejected) {
  PredictRequest request;
  request.inputs.push_back(Make<float>("X", DataType::kFp32, {2}, {1, 2}));
  Status status = BindInputs(request, OneMatrixInput(2)).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("[-1, 2]"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace cairn::runtime
