#include "api/inference/mlflow_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "api/inference/test_tensors.h"

namespace cairn::inference {
namespace {

using runtime::DataType;
using runtime::ModelInterface;
using runtime::ModelSignature;
using runtime::PredictRequest;
using runtime::PredictResponse;
using runtime::Tensor;
using testing::MakeStrings;
using testing::MakeTensor;
using testing::Values;

constexpr std::string_view kJson = "application/json";

// Columns a, b (double), n (long, optional), s (string), f (boolean).
ModelSignature ColumnSignature() {
  ModelSignature s;
  s.inputs = {{.name = "a", .type = DataType::kFp64, .shape = {-1}},
              {.name = "petal width (cm)", .type = DataType::kFp64, .shape = {-1}},
              {.name = "n", .type = DataType::kInt64, .shape = {-1}, .optional = true},
              {.name = "s", .type = DataType::kBytes, .shape = {-1}, .optional = true},
              {.name = "f", .type = DataType::kBool, .shape = {-1}, .optional = true}};
  s.input_column_types = {"double", "double", "long", "string", "boolean"};
  return s;
}

StatusOr<PredictRequest> Parse(std::string_view body,
                               const std::optional<ModelSignature>& signature = std::nullopt,
                               const ModelInterface& model = ModelInterface{},
                               std::string_view content_type = kJson) {
  return ParseMlflowInvocation(body, content_type, signature, model);
}

void ExpectError(const StatusOr<PredictRequest>& r, std::string_view fragment) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().message();
  EXPECT_NE(r.status().message().find(fragment), std::string::npos) << r.status().message();
}

TEST(MlflowCodecTest, DataframeSplitWithSignatureConvertsAndOrdersColumns) {
  auto r = Parse(
      R"({"dataframe_split":{"data":[[1,"2.5",7,"x",true],[3.5,null,8.0,"y",0]],)"
      R"j("columns":["petal width (cm)","a","n","s","f"],"index":[0,1]},"params":{"k":[1,2]}})j",
      ColumnSignature());
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->columnar);
  ASSERT_EQ(r->inputs.size(), 5u);
  EXPECT_EQ(r->inputs[0].name, "a");
  EXPECT_EQ(Values<double>(r->inputs[0])[0], 2.5);
  EXPECT_TRUE(std::isnan(Values<double>(r->inputs[0])[1]));
  EXPECT_EQ(Values<double>(r->inputs[1]), (std::vector<double>{1, 3.5}));
  EXPECT_EQ(Values<int64_t>(r->inputs[2]), (std::vector<int64_t>{7, 8}));
  EXPECT_EQ(r->inputs[3].strings, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(Values<uint8_t>(r->inputs[4]), (std::vector<uint8_t>{1, 0}));
  EXPECT_EQ(r->inputs[0].shape, (std::vector<int64_t>{2}));
  EXPECT_EQ(r->params_json, R"({"k":[1,2]})");
}

TEST(MlflowCodecTest, PythonsNaNTokenIsAMissingValue) {
  // json.dumps writes NaN for a missing value; MLflow's client sends it so. A "NaN" inside a
  // string stays a string.
  auto r = Parse(R"j({"dataframe_split":{"columns":["a","petal width (cm)","s"],)j"
                 R"j("data":[[NaN,1.5,"NaN"],[2,NaN,"x \" NaN"]]}})j",
                 ColumnSignature());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(std::isnan(Values<double>(r->inputs[0])[0]));
  EXPECT_EQ(Values<double>(r->inputs[0])[1], 2.0);
  EXPECT_TRUE(std::isnan(Values<double>(r->inputs[1])[1]));
  ASSERT_EQ(r->inputs.size(), 3U);  // the optional columns n and f were not sent
  EXPECT_EQ(r->inputs[2].name, "s");
  EXPECT_EQ(r->inputs[2].strings, (std::vector<std::string>{"NaN", "x \" NaN"}));
  ExpectError(Parse(R"({"instances": [NaNa]})"), "JSON");
}

TEST(MlflowCodecTest, MissingColumnAndBadValuesNameTheColumn) {
  ExpectError(Parse(R"({"dataframe_split":{"columns":["a"],"data":[[1]]}})", ColumnSignature()),
              "Model is missing inputs ['petal width (cm)'].");
  ExpectError(Parse(R"j({"dataframe_split":{"columns":["a","petal width (cm)"],)j"
                    R"("data":[[1,"abc"]]}})",
                    ColumnSignature()),
              "Failed to convert column petal width (cm) to type 'FP64': value 'abc' at row 0 "
              "is not a number");
  ExpectError(
      Parse(R"j({"dataframe_records":[{"a":1,"petal width (cm)":2,"n":1.5}]})j", ColumnSignature()),
      "column n to type 'INT64': value 1.5 at row 0 is not an integer");
  ExpectError(Parse(R"({"dataframe_split":{"columns":["a","b"],"data":[[1,2],[3]]}})"),
              "dataframe_split row 1 has 1 values, expected 2");
  ExpectError(Parse(R"({"dataframe_split":{"columns":["a"],"data":[[1]],"extra":1}})"),
              "Got unexpected field 'extra'");
}

TEST(MlflowCodecTest, InfersColumnTypesWithoutSignature) {
  auto r = Parse(R"({"dataframe_records":[{"i":1,"d":1,"b":true,"s":"x"},)"
                 R"({"i":2,"d":2.5,"b":false,"s":"y","late":null}]})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->inputs.size(), 5u);
  EXPECT_EQ(r->inputs[0].type, DataType::kInt64);
  EXPECT_EQ(r->inputs[1].type, DataType::kFp64);
  EXPECT_EQ(Values<double>(r->inputs[1]), (std::vector<double>{1, 2.5}));
  EXPECT_EQ(r->inputs[2].type, DataType::kBool);
  EXPECT_EQ(r->inputs[3].type, DataType::kBytes);
  EXPECT_EQ(r->inputs[4].name, "late");  // missing in row 0, null in row 1: all NaN
  EXPECT_EQ(r->inputs[4].type, DataType::kFp64);
  EXPECT_EQ(r->inputs[4].shape, (std::vector<int64_t>{2}));
  ExpectError(Parse(R"({"dataframe_records":[{"m":1},{"m":"x"}]})"), "column m mixes value types");
  // Columns default to "0", "1" when dataframe_split gives none.
  auto unnamed = Parse(R"({"dataframe_split":{"data":[[1,2]]}})");
  ASSERT_TRUE(unnamed.ok()) << unnamed.status().message();
  EXPECT_EQ(unnamed->inputs[1].name, "1");
}

TEST(MlflowCodecTest, InstancesAndInputsBecomeTensors) {
  ModelInterface onnx;
  onnx.inputs = {{.name = "float_input", .type = DataType::kFp32, .shape = {-1, 2}}};
  auto rows = Parse(R"({"inputs":[[1,2],[3,4.5]]})", std::nullopt, onnx);
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_FALSE(rows->columnar);
  EXPECT_EQ(rows->inputs[0].name, "float_input");
  EXPECT_EQ(rows->inputs[0].shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(Values<float>(rows->inputs[0]), (std::vector<float>{1, 2, 3, 4.5f}));
  ExpectError(Parse(R"({"instances":[[1,2],[3]]})", std::nullopt, onnx),
              "rows have different lengths");
  ExpectError(Parse(R"({"instances":[[1,2,3]]})", std::nullopt, onnx),
              "shape [1,3] does not match the model's [-1,2]");
  ExpectError(Parse(R"({"instances":[["a","b"]]})", std::nullopt, onnx), "is not a number");

  ModelSignature tensors;
  tensors.tensor_based = true;
  tensors.inputs = {{.name = "a", .type = DataType::kInt32, .shape = {-1}},
                    {.name = "b", .type = DataType::kBytes, .shape = {-1}}};
  auto dict = Parse(R"({"inputs":{"a":[1,2],"b":["x","y"]}})", tensors);
  ASSERT_TRUE(dict.ok()) << dict.status().message();
  EXPECT_EQ(Values<int32_t>(dict->inputs[0]), (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(dict->inputs[1].strings, (std::vector<std::string>{"x", "y"}));
  ExpectError(Parse(R"({"inputs":{"a":[1]}})", tensors), "Model is missing inputs ['b'].");
  ExpectError(Parse(R"({"inputs":{"a":[1],"b":["x"],"c":[1]}})", tensors), "unknown input 'c'");
  ExpectError(Parse(R"({"inputs":{"a":[3000000000],"b":["x"]}})", tensors),
              "column a to type 'INT32': value 3000000000 at row 0 is not an integer in range");
  ExpectError(Parse(R"({"instances":{"a":[1,2],"b":["x"]}})", tensors),
              "length of values for each input/column name are not the same");

  // No signature, no declared inputs: one inferred tensor named "input".
  auto plain = Parse(R"({"instances":[[1,2],[3,4]]})");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->inputs[0].name, "input");
  EXPECT_EQ(plain->inputs[0].type, DataType::kInt64);
}

TEST(MlflowCodecTest, ColumnSignatureTurnsListsAndDictsIntoColumns) {
  ModelSignature two;
  two.inputs = {{.name = "x", .type = DataType::kFp64, .shape = {-1}},
                {.name = "y", .type = DataType::kFp32, .shape = {-1}}};
  two.input_column_types = {"double", "float"};
  auto rows = Parse(R"({"instances":[[1,2],[3,4]]})", two);
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  EXPECT_TRUE(rows->columnar);
  EXPECT_EQ(Values<float>(rows->inputs[1]), (std::vector<float>{2, 4}));
  auto dict = Parse(R"({"inputs":{"y":[1,2],"x":[3,4]}})", two);
  ASSERT_TRUE(dict.ok()) << dict.status().message();
  EXPECT_EQ(dict->inputs[0].name, "x");
  ExpectError(Parse(R"({"inputs":{"y":[1,2],"x":[3]}})", two), "are not the same");
  auto records = Parse(R"({"instances":[{"x":1,"y":2}]})", two);
  ASSERT_TRUE(records.ok()) << records.status().message();
  EXPECT_EQ(records->inputs.size(), 2u);
}

TEST(MlflowCodecTest, CsvWithQuotesAndTypes) {
  const std::string csv =
      "a,petal width (cm),s\r\n1,2.5,\"hello, \"\"world\"\"\"\n3,,\"multi\nline\"\n";
  auto r = Parse(csv, ColumnSignature(), ModelInterface{}, "text/csv; charset=utf-8");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(Values<double>(r->inputs[0]), (std::vector<double>{1, 3}));
  EXPECT_EQ(Values<double>(r->inputs[1])[0], 2.5);
  EXPECT_TRUE(std::isnan(Values<double>(r->inputs[1])[1]));
  EXPECT_EQ(r->inputs[2].strings, (std::vector<std::string>{"hello, \"world\"", "multi\nline"}));

  auto inferred =
      Parse("i,d,b,s\n1,1.5,True,x\n2,2,False,\"y\"\n", std::nullopt, ModelInterface{}, "text/csv");
  ASSERT_TRUE(inferred.ok()) << inferred.status().message();
  EXPECT_EQ(inferred->inputs[0].type, DataType::kInt64);
  EXPECT_EQ(inferred->inputs[1].type, DataType::kFp64);
  EXPECT_EQ(inferred->inputs[2].type, DataType::kBool);
  EXPECT_EQ(inferred->inputs[3].type, DataType::kBytes);
  ExpectError(Parse("a,b\n1\n", std::nullopt, ModelInterface{}, "text/csv"),
              "CSV line 2 has 1 fields, the header has 2");
  ExpectError(Parse("a\n\"open\n", std::nullopt, ModelInterface{}, "text/csv"),
              "unterminated quoted field");
  ExpectError(Parse("a,petal width (cm)\nx,1\n", ColumnSignature(), ModelInterface{}, "text/csv"),
              "Failed to convert column a");
}

TEST(MlflowCodecTest, RejectsBadBodiesAndContentTypes) {
  ExpectError(Parse(""), "Ensure that input is a valid JSON formatted string");
  ExpectError(Parse("[1]"), "must be a JSON dictionary");
  ExpectError(Parse(R"({"data":[1]})"), "exactly one of the input fields");
  ExpectError(Parse(R"({"inputs":[1],"instances":[1]})"), "Received both");
  ExpectError(Parse(R"({"inputs":[1]} x)"), "Malformed JSON");
  ExpectError(Parse("{\"inputs\":[\"\xC3\x28\"]}"), "valid JSON");
  std::string deep = "{\"inputs\":" + std::string(10000, '[') + std::string(10000, ']') + "}";
  ExpectError(Parse(deep), "nested deeper than 32 levels");
  ExpectError(Parse(R"({"inputs":[1e400]})"), "out of range");
  ExpectError(Parse(R"({"inputs":[123456789012345678901]})"), "out of range");
  EXPECT_EQ(Parse("{}", std::nullopt, ModelInterface{}, "application/parquet").status().code(),
            StatusCode::kUnimplemented);
  EXPECT_EQ(Parse("{}", std::nullopt, ModelInterface{}, "application/json; charset=latin-1")
                .status()
                .code(),
            StatusCode::kUnimplemented);
  EXPECT_TRUE(
      Parse(R"({"inputs":[1]})", std::nullopt, ModelInterface{}, "Application/JSON; charset=UTF-8")
          .ok());
}

std::string Golden(std::string_view name) {
  std::ifstream in(std::string(CAIRN_INFERENCE_TESTDATA) + "/mlflow_predictions/" +
                   std::string(name) + ".json");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Write(PredictResponse response) {
  std::string out;
  WriteMlflowPredictions(response, out);
  return out;
}

PredictResponse One(Tensor t) {
  PredictResponse r;
  r.outputs.push_back(std::move(t));
  return r;
}

// Golden files: what mlflow.pyfunc.scoring_server.predictions_to_json wrote for the same values
// (testdata/gen_mlflow_golden.py, run once; not at test time).
TEST(MlflowCodecTest, PredictionsMatchMlflowByteForByte) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(Write(One(MakeTensor<float>("y", DataType::kFp32, {2, 3},
                                        {0.1f, 1.5f, -2.25f, 1e-7f, 3.4028235e38f, 1e16f}))),
            Golden("fp32_matrix"));
  EXPECT_EQ(Write(One(MakeTensor<double>("y", DataType::kFp64, {13},
                                         {0.1, 1e-5, 1e16, 123456789012345.6, -0.0, nan, inf, -inf,
                                          5e-324, 1.7976931348623157e308, 0.0001, 1e15, 100.0}))),
            Golden("fp64_special"));
  PredictResponse dict;
  dict.outputs.push_back(MakeTensor<int8_t>("i8", DataType::kInt8, {2}, {-128, 127}));
  dict.outputs.push_back(
      MakeTensor<uint64_t>("u64", DataType::kUint64, {1}, {std::numeric_limits<uint64_t>::max()}));
  dict.outputs.push_back(
      MakeTensor<int64_t>("i64", DataType::kInt64, {2}, {std::numeric_limits<int64_t>::min(), 0}));
  EXPECT_EQ(Write(dict), Golden("int_dict"));
  EXPECT_EQ(Write(One(MakeTensor<uint8_t>("y", DataType::kBool, {2}, {1, 0}))),
            Golden("bool_array"));
  EXPECT_EQ(Write(One(MakeStrings(
                "y", {3}, {"a\"b\\c", "\xC3\xA9\xE6\x97\xA5\xF0\x9F\x98\x80", "\n\t\x01\x7f"}))),
            Golden("strings"));
  PredictResponse records;
  records.columnar = true;
  records.outputs.push_back(MakeTensor<int64_t>("a", DataType::kInt64, {2}, {1, 2}));
  records.outputs.push_back(MakeTensor<double>("b", DataType::kFp64, {2}, {0.5, nan}));
  records.outputs.push_back(MakeStrings("c", {2}, {"x", "y"}));
  records.outputs.push_back(MakeTensor<uint8_t>("d", DataType::kBool, {2}, {1, 0}));
  EXPECT_EQ(Write(records), Golden("records"));
  PredictResponse records_fp32;
  records_fp32.columnar = true;
  records_fp32.outputs.push_back(MakeTensor<float>("p", DataType::kFp32, {2}, {0.1f, 0.2f}));
  EXPECT_EQ(Write(records_fp32), Golden("records_fp32"));
  EXPECT_EQ(Write(One(MakeTensor<double>("y", DataType::kFp64, {}, {3.5}))), Golden("scalar"));
  EXPECT_EQ(Write(One(MakeTensor<uint16_t>("y", DataType::kFp16, {3}, {0x2E66, 0x7BFF, 0x8000}))),
            Golden("fp16"));
  std::vector<int64_t> range(12);
  for (int k = 0; k < 12; ++k) range[k] = k;
  EXPECT_EQ(Write(One(MakeTensor<int64_t>("y", DataType::kInt64, {2, 3, 2}, range))),
            Golden("int_3d"));
}

}  // namespace
}  // namespace cairn::inference
