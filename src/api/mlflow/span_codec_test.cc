#include "api/mlflow/span_codec.h"

#include <gtest/gtest.h>

#include <string>

#include "base/status_testing.h"

namespace cairn::api::mlflow {
namespace {

namespace bj = boost::json;

otlp::Span OtlpSpan() {
  otlp::Span s;
  s.trace_id = std::string("\x0a\xf7\x65\x19\x16\xcd\x43\xdd\x84\x48\xeb\x21\x1c\x80\x31\x9c", 16);
  s.span_id = std::string("\xb7\xad\x6b\x71\x69\x20\x33\x31", 8);
  s.name = "root";
  s.start_time_unix_nano = 1700000000000000000ull;
  s.end_time_unix_nano = 1700000001000000000ull;
  s.status_code = 1;
  s.attributes = {{"mlflow.spanType", bj::value("\"LLM\"")},
                  {"mlflow.spanInputs", bj::value("{\"q\": 1}")},
                  {"n", bj::value(5)},
                  {"plain", bj::value("hello")}};
  s.events = {{"ev", 42, {{"k", bj::value("v")}}}};
  return s;
}

TEST(SpanCodecTest, StoresAnOtlpSpanAsMlflowDoes) {
  ASSERT_OK_AND_ASSIGN(metadata::Span span, SpanFromOtlp(OtlpSpan()));
  EXPECT_EQ(span.trace_id, "tr-0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(span.span_id, "b7ad6b7169203331");
  EXPECT_EQ(span.parent_span_id, std::nullopt);
  EXPECT_EQ(span.type, "LLM");
  EXPECT_EQ(span.status, "OK");
  EXPECT_EQ(span.start_time_ns, 1700000000000000000);
  EXPECT_EQ(span.end_time_ns, 1700000001000000000);
  bj::object content = bj::parse(span.content).as_object();
  EXPECT_EQ(content["trace_id"], "CvdlGRbNQ92ESOshHIAxnA==");
  EXPECT_EQ(content["span_id"], "t61rcWkgMzE=");
  EXPECT_TRUE(content["parent_span_id"].is_null());
  const bj::object& attributes = content["attributes"].as_object();
  // JSON text kept as it came (it was encoded once already); other values JSON-encoded.
  EXPECT_EQ(attributes.at("mlflow.spanType"), "\"LLM\"");
  EXPECT_EQ(attributes.at("mlflow.spanInputs"), "{\"q\": 1}");
  EXPECT_EQ(attributes.at("n"), "5");
  EXPECT_EQ(attributes.at("plain"), "\"hello\"");
  EXPECT_EQ(attributes.at("mlflow.traceRequestId"), "\"tr-0af7651916cd43dd8448eb211c80319c\"");
  EXPECT_EQ(content["status"].as_object().at("code"), "STATUS_CODE_OK");
  EXPECT_EQ(content["events"].as_array().at(0).as_object().at("time_unix_nano"), 42);

  metadata::RootSpanPreview preview = PreviewOfRootSpan(span);
  EXPECT_EQ(preview.request_preview, "{\"q\": 1}");
  EXPECT_EQ(preview.response_preview, std::nullopt);
}

TEST(SpanCodecTest, AnswersTheStoredSpanAsOtelJson) {
  ASSERT_OK_AND_ASSIGN(metadata::Span span, SpanFromOtlp(OtlpSpan()));
  bj::object otel = SpanToOtelJson(span);
  EXPECT_EQ(otel["trace_id"], "CvdlGRbNQ92ESOshHIAxnA==");
  EXPECT_FALSE(otel.contains("parent_span_id"));
  EXPECT_EQ(otel["start_time_unix_nano"], 1700000000000000000);
  EXPECT_EQ(bj::serialize(otel["status"]), R"({"code":"STATUS_CODE_OK"})");
  const bj::array& attributes = otel["attributes"].as_array();
  EXPECT_EQ(
      bj::serialize(attributes.at(1)),
      R"({"key":"mlflow.spanInputs","value":{"kvlist_value":{"values":[{"key":"q","value":{"int_value":1}}]}}})");
  EXPECT_EQ(bj::serialize(attributes.at(2)), R"({"key":"n","value":{"int_value":5}})");
  EXPECT_EQ(
      bj::serialize(otel["events"]),
      R"([{"time_unix_nano":42,"name":"ev","attributes":[{"key":"k","value":{"string_value":"v"}}]}])");
}

TEST(SpanCodecTest, TraceDataFromOtelSpansIsTheStoredShape) {
  ASSERT_OK_AND_ASSIGN(metadata::Span span, SpanFromOtlp(OtlpSpan()));
  bj::array otel{SpanToOtelJson(span)};
  bj::object data = bj::parse(TraceDataJsonFromOtel(otel)).as_object();
  const bj::object& back = data["spans"].as_array().at(0).as_object();
  bj::object stored = bj::parse(span.content).as_object();
  for (std::string_view key : {"trace_id", "span_id", "parent_span_id", "name",
                               "start_time_unix_nano", "end_time_unix_nano", "status"}) {
    EXPECT_EQ(back.at(key), stored[key]) << key;
  }
  const bj::object& attributes = back.at("attributes").as_object();
  EXPECT_EQ(bj::parse(attributes.at("mlflow.spanInputs").as_string()), bj::parse(R"({"q": 1})"));
  EXPECT_EQ(attributes.at("n"), "5");
  EXPECT_EQ(attributes.at("plain"), "\"hello\"");
  EXPECT_EQ(bj::serialize(back.at("events")),
            R"([{"name":"ev","time_unix_nano":42,"attributes":{"k":"v"}}])");
  // Garbage in, no crash out.
  EXPECT_EQ(TraceDataJsonFromOtel(bj::array{1, "x", bj::object{{"attributes", 5}}}).substr(0, 10),
            R"({"spans":[)");
}

TEST(SpanCodecTest, RejectsSpansThatCannotBeMlflowSpans) {
  otlp::Span s = OtlpSpan();
  s.span_id.clear();
  EXPECT_FALSE(SpanFromOtlp(s).ok());
  s = OtlpSpan();
  s.trace_id.clear();
  EXPECT_FALSE(SpanFromOtlp(s).ok());
  s = OtlpSpan();
  s.trace_id += "x";
  EXPECT_FALSE(SpanFromOtlp(s).ok());
  s = OtlpSpan();
  s.start_time_unix_nano = ~0ull;
  EXPECT_FALSE(SpanFromOtlp(s).ok());
  // Short ids are zero-padded, as MLflow formats the integer they hold.
  s = OtlpSpan();
  s.span_id = "\x01";
  ASSERT_OK_AND_ASSIGN(metadata::Span padded, SpanFromOtlp(s));
  EXPECT_EQ(padded.span_id, "0000000000000001");
}

TEST(SpanCodecTest, CutsLongPreviews) {
  metadata::Span span;
  span.trace_id = "tr-1";
  span.content = R"({"attributes":{"mlflow.spanOutputs":")" + std::string(1500, 'x') + R"("}})";
  metadata::RootSpanPreview preview = PreviewOfRootSpan(span);
  ASSERT_TRUE(preview.response_preview);
  EXPECT_EQ(preview.response_preview->size(), kSpanPreviewMaxChars);
  EXPECT_EQ(preview.response_preview->substr(997), "...");
}

}  // namespace
}  // namespace cairn::api::mlflow
