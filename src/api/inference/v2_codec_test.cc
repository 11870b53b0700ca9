#include "api/inference/v2_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "api/inference/json_writer.h"
#include "api/inference/test_tensors.h"

namespace cairn::inference {
namespace {

using runtime::DataType;
using runtime::ModelInterface;
using runtime::Tensor;
using testing::MakeStrings;
using testing::MakeTensor;
using testing::Values;

ModelInterface OneInput(DataType type, std::vector<int64_t> shape, std::string name = "x") {
  ModelInterface m;
  m.platform = "onnx_onnxv1";
  m.inputs.push_back({.name = std::move(name), .type = type, .shape = std::move(shape)});
  m.outputs.push_back({.name = "y", .type = DataType::kFp32, .shape = {-1}});
  return m;
}

std::string Body(std::string_view datatype, std::string_view shape, std::string_view data,
                 std::string_view name = "x") {
  return R"({"inputs":[{"name":")" + std::string(name) + R"(","shape":)" + std::string(shape) +
         R"(,"datatype":")" + std::string(datatype) + R"(","data":)" + std::string(data) + "}]}";
}

StatusOr<V2Request> Parse(const std::string& body, const ModelInterface& model,
                          std::optional<size_t> header = std::nullopt) {
  return ParseV2InferRequest(body, header, model);
}

void ExpectError(const StatusOr<V2Request>& r, std::string_view fragment) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().message();
  EXPECT_NE(r.status().message().find(fragment), std::string::npos) << r.status().message();
}

TEST(V2CodecTest, ParsesEveryDatatypeFromJson) {
  struct Case {
    DataType type;
    std::string data;
  };
  const Case cases[] = {
      {DataType::kBool, "[true,false]"},
      {DataType::kUint8, "[0,255]"},
      {DataType::kUint16, "[0,65535]"},
      {DataType::kUint32, "[0,4294967295]"},
      {DataType::kUint64, "[0,18446744073709551615]"},
      {DataType::kInt8, "[-128,127]"},
      {DataType::kInt16, "[-32768,32767]"},
      {DataType::kInt32, "[-2147483648,2147483647]"},
      {DataType::kInt64, "[-9223372036854775808,9223372036854775807]"},
      {DataType::kFp32, "[1.5,-2]"},
      {DataType::kFp64, "[0.1,1e308]"},
      {DataType::kBytes, R"(["a","\u00e9"])"},
  };
  for (const Case& c : cases) {
    std::string name(runtime::DataTypeName(c.type));
    auto r = Parse(Body(name, "[2]", c.data), OneInput(c.type, {-1}));
    ASSERT_TRUE(r.ok()) << name << ": " << r.status().message();
    const Tensor& t = r->predict.inputs.at(0);
    EXPECT_EQ(t.type, c.type);
    EXPECT_EQ(t.shape, (std::vector<int64_t>{2}));
    if (c.type == DataType::kBytes) {
      EXPECT_EQ(t.strings, (std::vector<std::string>{"a", "\xC3\xA9"}));
    } else {
      EXPECT_EQ(t.data.size(), 2 * runtime::ElementSize(c.type)) << name;
    }
  }
  auto u64 =
      Parse(Body("UINT64", "[1]", "[18446744073709551615]"), OneInput(DataType::kUint64, {1}));
  EXPECT_EQ(Values<uint64_t>(u64->predict.inputs[0])[0], std::numeric_limits<uint64_t>::max());
  auto i64 = Parse(Body("INT64", "[1]", "[-9223372036854775808]"), OneInput(DataType::kInt64, {1}));
  EXPECT_EQ(Values<int64_t>(i64->predict.inputs[0])[0], std::numeric_limits<int64_t>::min());
  auto f64 = Parse(Body("FP64", "[1]", "[0.1]"), OneInput(DataType::kFp64, {1}));
  EXPECT_EQ(Values<double>(f64->predict.inputs[0])[0], 0.1);
  auto b = Parse(Body("BOOL", "[2]", "[true,false]"), OneInput(DataType::kBool, {2}));
  EXPECT_EQ(Values<uint8_t>(b->predict.inputs[0]), (std::vector<uint8_t>{1, 0}));
}

TEST(V2CodecTest, AcceptsNestedAndFlatDataInAnyFieldOrder) {
  ModelInterface m = OneInput(DataType::kFp32, {-1, 2});
  auto nested = Parse(Body("FP32", "[2,2]", "[[1,2],[3,4]]"), m);
  auto flat = Parse(Body("FP32", "[2,2]", "[1,2,3,4]"), m);
  auto data_first =
      Parse(R"({"inputs":[{"data":[[1,2],[3,4]],"name":"x","shape":[2,2],"datatype":"FP32"}],)"
            R"("id":"r1","parameters":{"binary_data_output":false,"k":1}})",
            m);
  ASSERT_TRUE(nested.ok()) << nested.status().message();
  ASSERT_TRUE(flat.ok()) << flat.status().message();
  ASSERT_TRUE(data_first.ok()) << data_first.status().message();
  const std::vector<float> expected = {1, 2, 3, 4};
  EXPECT_EQ(Values<float>(nested->predict.inputs[0]), expected);
  EXPECT_EQ(Values<float>(flat->predict.inputs[0]), expected);
  EXPECT_EQ(Values<float>(data_first->predict.inputs[0]), expected);
  EXPECT_EQ(data_first->id, "r1");
  EXPECT_EQ(data_first->parameters_json, R"({"binary_data_output":false,"k":1})");
}

TEST(V2CodecTest, RejectsWrongDatatypeShapeAndCount) {
  ModelInterface m = OneInput(DataType::kFp32, {-1, 2});
  ExpectError(Parse(Body("FP64", "[1,2]", "[1,2]"), m),
              "input 'x': unexpected datatype FP64, the model expects FP32");
  ExpectError(Parse(Body("FP32", "[1,3]", "[1,2,3]"), m), "unexpected shape [1,3]");
  ExpectError(Parse(Body("FP32", "[2]", "[1,2]"), m), "unexpected shape [2]");
  ExpectError(Parse(Body("FP32", "[2,2]", "[1,2,3]"), m),
              "input 'x': shape [2,2] has 4 elements but data holds 3");
  ExpectError(Parse(Body("FP32", "[1,2]", "[1,2,3]"), m), "data holds more");
  ExpectError(Parse(Body("FP32", "[1,2]", "[[[1,2]]]"), m), "nested deeper than its shape");
  ExpectError(Parse(Body("FP32", "[1,2]", R"([1,"a"])"), m), "element 1 (\"a\") is not a number");
  ExpectError(Parse(Body("FP17", "[1,2]", "[1,2]"), m), "unknown datatype 'FP17'");
}

TEST(V2CodecTest, RejectsMissingUnknownAndRepeatedInputs) {
  ModelInterface m = OneInput(DataType::kFp32, {-1});
  m.inputs.push_back({.name = "opt", .type = DataType::kInt64, .shape = {-1}, .optional = true});
  ExpectError(Parse(R"({"inputs":[]})", m), "missing input 'x'");
  ExpectError(Parse(Body("FP32", "[1]", "[1]", "z"), m), "unknown input 'z'");
  ExpectError(Parse(R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]},)"
                    R"({"name":"x","shape":[1],"datatype":"FP32","data":[1]}]})",
                    m),
              "input 'x': given more than once");
  ExpectError(Parse(R"({"id":"a"})", m), "must have 'inputs'");
  // A model that declares no inputs takes whatever is sent.
  EXPECT_TRUE(Parse(Body("INT8", "[1]", "[1]", "any"), ModelInterface{}).ok());
}

TEST(V2CodecTest, RejectsOutOfRangeAndNonIntegralNumbers) {
  ExpectError(Parse(Body("UINT8", "[1]", "[256]"), OneInput(DataType::kUint8, {1})),
              "element 0 (256) is out of range for UINT8");
  ExpectError(Parse(Body("UINT8", "[1]", "[-1]"), OneInput(DataType::kUint8, {1})),
              "out of range for UINT8");
  ExpectError(Parse(Body("INT8", "[1]", "[-129]"), OneInput(DataType::kInt8, {1})),
              "out of range for INT8");
  ExpectError(Parse(Body("INT64", "[1]", "[9223372036854775808]"), OneInput(DataType::kInt64, {1})),
              "out of range for INT64");
  ExpectError(Parse(Body("INT32", "[1]", "[1.5]"), OneInput(DataType::kInt32, {1})),
              "is not an integer");
  ExpectError(Parse(Body("FP32", "[1]", "[1e39]"), OneInput(DataType::kFp32, {1})),
              "out of range for FP32");
  ExpectError(Parse(Body("FP64", "[1]", "[1e400]"), OneInput(DataType::kFp64, {1})),
              "out of range for FP64");
  ExpectError(Parse(Body("UINT64", "[1]", "[123456789012345678901234567890]"),
                    OneInput(DataType::kUint64, {1})),
              "out of range for UINT64");
  ExpectError(Parse(Body("BOOL", "[1]", "[1]"), OneInput(DataType::kBool, {1})),
              "is not true or false");
  ExpectError(Parse(Body("BYTES", "[1]", "[1]"), OneInput(DataType::kBytes, {1})),
              "is not a string");
  ExpectError(Parse(Body("FP16", "[1]", "[1]"), OneInput(DataType::kFp16, {1})),
              "use the binary tensor extension");
}

TEST(V2CodecTest, RejectsMalformedAndHostileJson) {
  ModelInterface m = OneInput(DataType::kFp32, {-1});
  ExpectError(Parse("{\"inputs\":[", m), "Malformed JSON");
  ExpectError(Parse("", m), "Malformed JSON");
  ExpectError(Parse("[1]", m), "must be a JSON object");
  ExpectError(Parse(Body("FP32", "[1]", "[1]") + " {}", m), "more than one JSON value");
  // 10k levels of nesting: rejected at the shape's depth, no deep recursion.
  std::string deep = std::string(10000, '[') + std::string(10000, ']');
  ExpectError(Parse(Body("FP32", "[1]", deep), m), "nested deeper than its shape");
  // A huge declared shape must not allocate for it.
  ExpectError(Parse(Body("FP32", "[100000000000]", "[1]"), OneInput(DataType::kFp32, {-1})),
              "more elements than the request body can hold");
  // Non-UTF-8 bytes inside a JSON string.
  ExpectError(Parse(Body("BYTES", "[1]", "[\"\xFF\xFE\"]"), OneInput(DataType::kBytes, {1})),
              "Malformed JSON");
}

std::string WithBinary(const std::string& json, std::string_view binary) {
  return json + std::string(binary);
}

TEST(V2CodecTest, ReadsBinaryTensorsInInputOrder) {
  ModelInterface m = OneInput(DataType::kFp32, {-1});
  m.inputs.push_back({.name = "s", .type = DataType::kBytes, .shape = {-1}});
  m.inputs.push_back({.name = "h", .type = DataType::kFp16, .shape = {1}});
  const std::string json =
      R"({"inputs":[{"name":"x","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":8}},)"
      R"({"name":"s","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":11}},)"
      R"({"name":"h","shape":[1],"datatype":"FP16","parameters":{"binary_data_size":2}}],)"
      R"("outputs":[{"name":"y","parameters":{"binary_data":true}}]})";
  std::string binary;
  const float floats[] = {1.5f, -2.0f};
  binary.append(reinterpret_cast<const char*>(floats), sizeof(floats));
  const uint32_t len1 = 2;
  const uint32_t len2 = 1;
  binary.append(reinterpret_cast<const char*>(&len1), 4).append("\xFF\x00", 2);
  binary.append(reinterpret_cast<const char*>(&len2), 4).append("z");
  binary.append("\x00\x3C", 2);  // 1.0 in half precision
  auto r = Parse(WithBinary(json, binary), m, json.size());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(Values<float>(r->predict.inputs[0]), (std::vector<float>{1.5f, -2.0f}));
  EXPECT_EQ(r->predict.inputs[1].strings,
            (std::vector<std::string>{std::string("\xFF\x00", 2), "z"}));
  EXPECT_EQ(Values<uint16_t>(r->predict.inputs[2]), (std::vector<uint16_t>{0x3C00}));
  EXPECT_TRUE(r->output_options.BinaryFor("y"));
  EXPECT_EQ(r->predict.outputs, (std::vector<std::string>{"y"}));

  ExpectError(Parse(WithBinary(json, binary), m, json.size() + binary.size() + 1),
              "larger than the request body");
  ExpectError(Parse(WithBinary(json, binary.substr(0, binary.size() - 3)), m, json.size()),
              "exceeds the");
  ExpectError(Parse(WithBinary(json, binary + "x"), m, json.size()),
              "1 bytes of binary data follow");
  ExpectError(Parse(json, m), "has binary_data_size but the request has no");
  // Sizes that disagree with the shape.
  const std::string bad =
      R"({"inputs":[{"name":"x","shape":[3],"datatype":"FP32","parameters":{"binary_data_size":8}}]})";
  ModelInterface one = OneInput(DataType::kFp32, {-1});
  ExpectError(Parse(WithBinary(bad, binary.substr(0, 8)), one, bad.size()),
              "binary_data_size is 8 but shape [3] of FP32 needs 12 bytes");
}

TEST(V2CodecTest, ReadsRawBinaryRequests) {
  ModelInterface m = OneInput(DataType::kFp32, {-1, 2});
  const float floats[] = {1, 2, 3, 4, 5, 6};
  std::string body(reinterpret_cast<const char*>(floats), sizeof(floats));
  auto r = Parse(body, m, 0);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->predict.inputs[0].shape, (std::vector<int64_t>{3, 2}));
  EXPECT_TRUE(r->output_options.BinaryFor("y"));
  ExpectError(Parse(body.substr(0, 7), m, 0), "not a whole number of FP32 elements");
  ExpectError(Parse(body.substr(0, 4), m, 0), "does not fit shape [-1,2]");
  ModelInterface two = m;
  two.inputs.push_back(two.inputs[0]);
  ExpectError(Parse(body, two, 0), "exactly one input");
  auto bytes = Parse("\x01raw", OneInput(DataType::kBytes, {1}), 0);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->predict.inputs[0].strings, (std::vector<std::string>{"\x01raw"}));
}

TEST(V2CodecTest, ChecksRequestedOutputs) {
  ModelInterface m = OneInput(DataType::kFp32, {-1});
  auto r = Parse(R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}],)"
                 R"("outputs":[{"name":"nope"}]})",
                 m);
  ExpectError(r, "unknown output 'nope'");
  auto c = Parse(R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}],)"
                 R"("outputs":[{"name":"y","parameters":{"classification":2}}]})",
                 m);
  EXPECT_EQ(c.status().code(), StatusCode::kUnimplemented);
}

TEST(V2CodecTest, WritesJsonResponseWithRoundTripFloats) {
  runtime::PredictResponse response;
  response.outputs.push_back(
      MakeTensor<float>("y", DataType::kFp32, {2, 2}, {0.1f, 1.0f, 3.4028235e38f, 1e-7f}));
  response.outputs.push_back(MakeStrings("label", {1}, {"caf\xC3\xA9 \"q\""}));
  response.outputs.push_back(MakeTensor<uint8_t>("ok", DataType::kBool, {2}, {1, 0}));
  std::string out;
  size_t header = 99;
  WriteV2InferResponse(response, "m", "3", "req-1", V2OutputOptions{}, out, header);
  EXPECT_EQ(header, 0u);
  EXPECT_EQ(out,
            R"({"model_name":"m","model_version":"3","id":"req-1","outputs":[)"
            R"({"name":"y","datatype":"FP32","shape":[2,2],"data":[0.1,1.0,3.4028235e+38,1e-07]},)"
            "{\"name\":\"label\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"caf\xC3\xA9 "
            R"(\"q\""]},)"
            R"({"name":"ok","datatype":"BOOL","shape":[2],"data":[true,false]}]})");
  // Every FP32 reads back as the same float.
  for (float f : {0.1f, 1.0f / 3, 16777217.0f, 1e-45f, 3.4028235e38f}) {
    std::string text;
    AppendFloat(f, text);
    EXPECT_EQ(std::strtof(text.c_str(), nullptr), f) << text;
  }
  WriteV2InferResponse(response, "m", "", "", V2OutputOptions{}, out, header);
  EXPECT_EQ(out.rfind(R"({"model_name":"m","outputs":)", 0), 0u) << out;
}

TEST(V2CodecTest, WritesBinaryOutputsAfterTheJsonHeader) {
  runtime::PredictResponse response;
  response.outputs.push_back(MakeTensor<float>("y", DataType::kFp32, {2}, {1.5f, 2.5f}));
  response.outputs.push_back(MakeStrings("s", {1}, {"ab"}));
  V2OutputOptions options;
  options.binary_default = true;
  options.requested.push_back({.name = "s", .binary = false});
  std::string out;
  size_t header = 0;
  WriteV2InferResponse(response, "m", "", "", options, out, header);
  ASSERT_GT(header, 0u);
  EXPECT_EQ(out.substr(0, header),
            R"({"model_name":"m","outputs":[{"name":"y","datatype":"FP32","shape":[2],)"
            R"("parameters":{"binary_data_size":8}},)"
            R"({"name":"s","datatype":"BYTES","shape":[1],"data":["ab"]}]})");
  ASSERT_EQ(out.size(), header + 8);
  float back[2];
  std::memcpy(back, out.data() + header, 8);
  EXPECT_EQ(back[0], 1.5f);
  EXPECT_EQ(back[1], 2.5f);
}

TEST(V2CodecTest, WritesMetadataAndErrors) {
  std::string out;
  std::vector<runtime::TensorSpec> inputs = {
      {.name = "x", .type = DataType::kFp32, .shape = {-1, 4}}};
  std::vector<runtime::TensorSpec> outputs = {
      {.name = "y", .type = DataType::kInt64, .shape = {-1}}};
  std::vector<std::string> versions = {"1", "2"};
  WriteV2ModelMetadata("iris", versions, "onnx_onnxv1", inputs, outputs, out);
  EXPECT_EQ(out, R"({"name":"iris","versions":["1","2"],"platform":"onnx_onnxv1",)"
                 R"("inputs":[{"name":"x","datatype":"FP32","shape":[-1,4]}],)"
                 R"("outputs":[{"name":"y","datatype":"INT64","shape":[-1]}]})");
  WriteV2Error("input 'x': bad \"thing\"\n\xFF", out);
  EXPECT_EQ(out, "{\"error\":\"input 'x': bad \\\"thing\\\"\\n\xEF\xBF\xBD\"}");
}

}  // namespace
}  // namespace cairn::inference
