#include "runtime/python/frame.h"

#include <gtest/gtest.h>

#include <cstring>

namespace cairn::runtime::python {
namespace {

template <typename T>
Tensor Make(std::string name, DataType type, std::vector<int64_t> shape, std::vector<T> values) {
  Tensor t{.name = std::move(name), .type = type, .shape = std::move(shape)};
  t.data.resize(values.size() * sizeof(T));
  std::memcpy(t.data.data(), values.data(), t.data.size());
  return t;
}

Tensor Strings(std::string name, std::vector<std::string> values) {
  Tensor t{.name = std::move(name),
           .type = DataType::kBytes,
           .shape = {static_cast<int64_t>(values.size())}};
  t.strings = std::move(values);
  return t;
}

TEST(PythonFrameTest, PredictFrameLaysOutHeaderThenRawTensors) {
  PredictRequest request;
  request.columnar = true;
  request.params_json = R"({"k": 1})";
  request.inputs.push_back(Make<double>("x \"q\"", DataType::kFp64, {2}, {1.5, -2.0}));
  request.inputs.push_back(Strings("s", {"ab", ""}));
  StatusOr<OutgoingFrame> frame = PredictFrame(7, request);
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  StatusOr<IncomingFrame> split = SplitFrame(frame->Flatten());
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  EXPECT_EQ(split->header, R"({"op":"predict","id":7,"columnar":true,"params":{"k": 1},"tensors":[)"
                           R"({"name":"x \"q\"","datatype":"FP64","shape":[2],"size":16},)"
                           R"({"name":"s","datatype":"BYTES","shape":[2],"size":10}]})");
  ASSERT_EQ(split->payload.size(), 26u);
  double first = 0;
  std::memcpy(&first, split->payload.data(), sizeof first);
  EXPECT_EQ(first, 1.5);
  // "ab" as u32 length 2 then the bytes, then "" as length 0.
  const auto* bytes = reinterpret_cast<const unsigned char*>(split->payload.data()) + 16;
  EXPECT_EQ(std::vector<unsigned char>(bytes, bytes + 10),
            (std::vector<unsigned char>{2, 0, 0, 0, 'a', 'b', 0, 0, 0, 0}));
}

TEST(PythonFrameTest, ResultFrameRoundTripsTypesShapesAndStrings) {
  PredictResponse response;
  response.columnar = true;
  response.outputs.push_back(Make<int64_t>("count", DataType::kInt64, {3}, {1, -2, 3}));
  response.outputs.push_back(Make<float>("m", DataType::kFp32, {2, 2}, {1, 2, 3, 4}));
  response.outputs.push_back(Make<uint8_t>("flag", DataType::kBool, {2}, {1, 0}));
  response.outputs.push_back(Strings("label", {"setosa", "", "virginica"}));
  StatusOr<IncomingFrame> split = SplitFrame(ResultFrameForTest(3, response).Flatten());
  ASSERT_TRUE(split.ok());
  StatusOr<Reply> reply = ParseReply(std::move(*split));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->op, "result");
  EXPECT_EQ(reply->id, 3u);
  ASSERT_EQ(reply->response.outputs.size(), 4u);
  EXPECT_TRUE(reply->response.columnar);
  for (std::size_t i = 0; i < 4; ++i) {
    const Tensor& got = reply->response.outputs[i];
    const Tensor& want = response.outputs[i];
    EXPECT_EQ(got.name, want.name);
    EXPECT_EQ(got.type, want.type);
    EXPECT_EQ(got.shape, want.shape);
    EXPECT_EQ(got.data, want.data);
    EXPECT_EQ(got.strings, want.strings);
  }
}

TEST(PythonFrameTest, ErrorReplyCarriesKindAndMessage) {
  std::string header =
      R"({"op":"error","id":9,"kind":"input","message":"Failed to enforce schema"})";
  StatusOr<Reply> reply = ParseReply(IncomingFrame{header, {}});
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->op, "error");
  EXPECT_EQ(reply->error_kind, "input");
  EXPECT_EQ(reply->error_message, "Failed to enforce schema");
}

TEST(PythonFrameTest, RejectsMismatchedInputs) {
  PredictRequest bad_size;
  bad_size.inputs.push_back(Make<double>("x", DataType::kFp64, {3}, {1.0, 2.0}));
  EXPECT_EQ(PredictFrame(1, bad_size).status().code(), StatusCode::kInvalidArgument);

  PredictRequest bf16;
  bf16.inputs.push_back(Make<uint16_t>("x", DataType::kBf16, {1}, {0}));
  EXPECT_EQ(PredictFrame(1, bf16).status().code(), StatusCode::kInvalidArgument);

  PredictRequest bad_params;
  bad_params.params_json = "[1]";
  EXPECT_EQ(PredictFrame(1, bad_params).status().code(), StatusCode::kInvalidArgument);
}

TEST(PythonFrameTest, RejectsTensorsThatOverrunThePayload) {
  std::string header =
      R"({"op":"result","id":1,"tensors":[{"name":"p","datatype":"INT64","shape":[2],"size":16}]})";
  IncomingFrame frame{header, std::vector<std::byte>(8)};
  EXPECT_EQ(ParseReply(std::move(frame)).status().code(), StatusCode::kInvalidArgument);

  std::string strings =
      R"({"op":"result","id":1,"tensors":[{"name":"s","datatype":"BYTES","shape":[1],"size":5}]})";
  std::vector<std::byte> payload = {std::byte{9}, std::byte{0}, std::byte{0}, std::byte{0},
                                    std::byte{'a'}};
  EXPECT_EQ(ParseReply(IncomingFrame{strings, payload}).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cairn::runtime::python
