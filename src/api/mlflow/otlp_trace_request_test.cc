#include "api/mlflow/otlp_trace_request.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "base/status_testing.h"

namespace cairn::api::mlflow::otlp {
namespace {

// A tiny protobuf writer for building requests by hand.
std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string Key(uint32_t field, int wire) { return Varint((uint64_t{field} << 3) | wire); }
std::string Len(uint32_t field, const std::string& bytes) {
  return Key(field, 2) + Varint(bytes.size()) + bytes;
}
std::string Fixed64(uint32_t field, uint64_t v) {
  std::string out = Key(field, 1);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return out;
}
std::string VarintField(uint32_t field, uint64_t v) { return Key(field, 0) + Varint(v); }
std::string Attr(const std::string& key, const std::string& any_value) {
  return Len(9, Len(1, key) + Len(2, any_value));
}
std::string Request(const std::string& span) { return Len(1, Len(2, Len(2, span))); }

const std::string kTraceId("\x0a\xf7\x65\x19\x16\xcd\x43\xdd\x84\x48\xeb\x21\x1c\x80\x31\x9c", 16);
const std::string kSpanId("\xb7\xad\x6b\x71\x69\x20\x33\x31", 8);

TEST(OtlpTraceRequestTest, DecodesSpansWithAttributesEventsAndStatus) {
  double pi = 3.5;
  uint64_t pi_bits = 0;
  std::memcpy(&pi_bits, &pi, 8);
  std::string kv_list = Len(1, Len(1, "a") + Len(2, VarintField(3, 1)));
  std::string span =
      Len(1, kTraceId) + Len(2, kSpanId) + Len(5, "root") + Fixed64(7, 1700000000000000000ull) +
      Fixed64(8, 1700000001000000000ull) + Attr("s", Len(1, "text")) +
      Attr("b", VarintField(2, 1)) + Attr("i", VarintField(3, static_cast<uint64_t>(-5))) +
      Attr("d", Fixed64(4, pi_bits)) +
      Attr("arr", Len(5, Len(1, Len(1, "x")) + Len(1, VarintField(3, 2)))) +
      Attr("kv", Len(6, kv_list)) + Attr("unset", "") +
      Len(11, Fixed64(1, 42) + Len(2, "ev") + Len(3, Len(1, "k") + Len(2, Len(1, "v")))) +
      Len(15, Len(2, "bad") + VarintField(3, 2)) + VarintField(6, 1) /* kind */;
  std::string resource = Len(1, Len(1, Len(1, "service.name") + Len(2, Len(1, "svc"))));
  std::string bytes = Len(1, resource + Len(2, Len(2, span)));
  ASSERT_OK_AND_ASSIGN(ExportTraceServiceRequest r, DecodeExportTraceServiceRequest(bytes));
  ASSERT_EQ(r.resource_spans.size(), 1u);
  ASSERT_EQ(r.resource_spans[0].resource_attributes.size(), 1u);
  EXPECT_EQ(r.resource_spans[0].resource_attributes[0].value, "svc");
  ASSERT_EQ(r.resource_spans[0].spans.size(), 1u);
  const Span& s = r.resource_spans[0].spans[0];
  EXPECT_EQ(s.trace_id, kTraceId);
  EXPECT_EQ(s.span_id, kSpanId);
  EXPECT_TRUE(s.parent_span_id.empty());
  EXPECT_EQ(s.name, "root");
  EXPECT_EQ(s.start_time_unix_nano, 1700000000000000000ull);
  EXPECT_EQ(s.end_time_unix_nano, 1700000001000000000ull);
  ASSERT_EQ(s.attributes.size(), 7u);
  EXPECT_EQ(s.attributes[0].value, "text");
  EXPECT_EQ(s.attributes[1].value, true);
  EXPECT_EQ(s.attributes[2].value, -5);
  EXPECT_EQ(s.attributes[3].value, 3.5);
  EXPECT_EQ(boost::json::serialize(s.attributes[4].value), R"(["x",2])");
  EXPECT_EQ(boost::json::serialize(s.attributes[5].value), R"({"a":1})");
  EXPECT_TRUE(s.attributes[6].value.is_null());
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_EQ(s.events[0].name, "ev");
  EXPECT_EQ(s.events[0].time_unix_nano, 42u);
  EXPECT_EQ(s.events[0].attributes[0].value, "v");
  EXPECT_EQ(s.status_code, 2);
  EXPECT_EQ(s.status_message, "bad");
}

TEST(OtlpTraceRequestTest, EmptyInputIsAnEmptyRequest) {
  ASSERT_OK_AND_ASSIGN(ExportTraceServiceRequest r, DecodeExportTraceServiceRequest(""));
  EXPECT_TRUE(r.resource_spans.empty());
}

TEST(OtlpTraceRequestTest, RejectsMalformedProtobuf) {
  std::string span = Len(1, kTraceId) + Len(2, kSpanId);
  std::string good = Request(span);
  for (size_t cut = 1; cut < good.size(); ++cut) {
    EXPECT_FALSE(DecodeExportTraceServiceRequest(good.substr(0, cut)).ok()) << cut;
  }
  EXPECT_FALSE(DecodeExportTraceServiceRequest("\xff\xff\xff").ok());
  EXPECT_FALSE(DecodeExportTraceServiceRequest(std::string(11, '\xff')).ok());  // long varint
  EXPECT_FALSE(DecodeExportTraceServiceRequest(Key(1, 3)).ok());                // group wire type
  EXPECT_FALSE(DecodeExportTraceServiceRequest(Key(0, 0) + Varint(1)).ok());    // field 0
  // A known field with the wrong wire type; a length past the end.
  EXPECT_FALSE(DecodeExportTraceServiceRequest(VarintField(1, 5)).ok());
  EXPECT_FALSE(DecodeExportTraceServiceRequest(Key(1, 2) + Varint(1000) + "ab").ok());
  // A span name that is not UTF-8.
  EXPECT_FALSE(DecodeExportTraceServiceRequest(Request(span + Len(5, "\xc0\xaf"))).ok());
}

TEST(OtlpTraceRequestTest, RejectsValuesNestedTooDeeply) {
  std::string value = VarintField(3, 1);
  for (int i = 0; i < kMaxValueDepth + 2; ++i) value = Len(5, Len(1, value));
  std::string span = Len(1, kTraceId) + Len(2, kSpanId) + Attr("deep", value);
  EXPECT_FALSE(DecodeExportTraceServiceRequest(Request(span)).ok());
  std::string shallow = Len(5, Len(1, VarintField(3, 1)));
  EXPECT_OK(DecodeExportTraceServiceRequest(
                Request(Len(1, kTraceId) + Len(2, kSpanId) + Attr("ok", shallow)))
                .status());
}

TEST(OtlpTraceRequestTest, SkipsUnknownFields) {
  std::string span = Len(1, kTraceId) + Len(2, kSpanId) + Len(99, "whatever") + Fixed64(98, 1) +
                     Key(97, 5) + "abcd" + VarintField(96, 7);
  ASSERT_OK_AND_ASSIGN(ExportTraceServiceRequest r,
                       DecodeExportTraceServiceRequest(Request(span) + Len(50, "x")));
  EXPECT_EQ(r.resource_spans.at(0).spans.at(0).span_id, kSpanId);
}

TEST(OtlpTraceRequestTest, SurvivesRandomAndMutatedInput) {
  // Deterministic pseudo-random bytes and single-byte mutations of a valid request: each must
  // decode or fail cleanly (the sanitizer builds catch what a plain build would not).
  uint64_t state = 42;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint8_t>(state >> 56);
  };
  for (int i = 0; i < 2000; ++i) {
    std::string bytes(static_cast<size_t>(next() % 64), '\0');
    for (char& c : bytes) c = static_cast<char>(next());
    (void)DecodeExportTraceServiceRequest(bytes);
    (void)ParseExportTraceServiceRequestJson(bytes);
  }
  std::string value = Len(6, Len(1, Len(1, "a") + Len(2, Len(5, Len(1, VarintField(3, 1))))));
  std::string good = Request(Len(1, kTraceId) + Len(2, kSpanId) + Len(5, "n") + Attr("k", value) +
                             Len(15, VarintField(3, 1)));
  for (size_t pos = 0; pos < good.size(); ++pos) {
    for (int delta : {1, 0x40, 0x80, 0xff}) {
      std::string mutated = good;
      mutated[pos] = static_cast<char>(static_cast<uint8_t>(mutated[pos]) + delta);
      (void)DecodeExportTraceServiceRequest(mutated);
    }
  }
  EXPECT_OK(DecodeExportTraceServiceRequest(good).status());
}

TEST(OtlpTraceRequestTest, ParsesOtlpJson) {
  std::string json = R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name",
    "value":{"stringValue":"svc"}}]},"scopeSpans":[{"scope":{"name":"x"},"spans":[{
    "traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331",
    "parentSpanId":"","name":"j","startTimeUnixNano":"1700000000000000000",
    "endTimeUnixNano":1700000001000000000,"kind":2,
    "attributes":[{"key":"n","value":{"intValue":"5"}},{"key":"l","value":{"arrayValue":
    {"values":[{"boolValue":true},{"doubleValue":1.5}]}}},{"key":"m","value":{"kvlistValue":
    {"values":[{"key":"a","value":{"stringValue":"b"}}]}}}],
    "events":[{"name":"e","timeUnixNano":"7"}],
    "status":{"code":"STATUS_CODE_ERROR","message":"m"},"unknown":1}]}]}]})";
  ASSERT_OK_AND_ASSIGN(ExportTraceServiceRequest r, ParseExportTraceServiceRequestJson(json));
  const Span& s = r.resource_spans.at(0).spans.at(0);
  EXPECT_EQ(s.trace_id, kTraceId);
  EXPECT_EQ(s.span_id, kSpanId);
  EXPECT_TRUE(s.parent_span_id.empty());
  EXPECT_EQ(s.start_time_unix_nano, 1700000000000000000ull);
  EXPECT_EQ(s.end_time_unix_nano, 1700000001000000000ull);
  EXPECT_EQ(s.attributes[0].value, 5);
  EXPECT_EQ(boost::json::serialize(s.attributes[1].value), "[true,1.5E0]");
  EXPECT_EQ(boost::json::serialize(s.attributes[2].value), R"({"a":"b"})");
  EXPECT_EQ(s.events.at(0).time_unix_nano, 7u);
  EXPECT_EQ(s.status_code, 2);
  EXPECT_EQ(s.status_message, "m");
  // Proto field names, ids in base64.
  ASSERT_OK_AND_ASSIGN(r, ParseExportTraceServiceRequestJson(
                              R"({"resource_spans":[{"scope_spans":[{"spans":[{"trace_id":
                              "CvdlGRbNQ92ESOshHIAxnA==","span_id":"t61rcWkgMzE="}]}]}]})"));
  EXPECT_EQ(r.resource_spans.at(0).spans.at(0).trace_id, kTraceId);
}

TEST(OtlpTraceRequestTest, RejectsMalformedJson) {
  for (
      const char* bad :
      {"{", "[]", R"({"resourceSpans":{}})", R"({"resourceSpans":[1]})",
       R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"zz"}]}]}]})",
       R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"abc"}]}]}]})",
       R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"name":5}]}]}]})",
       R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"-1"}]}]}]})",
       R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"99999999999999999999"}]}]}]})",
       R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"status":{"code":"NOPE"}}]}]}]})",
       R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":{"intValue":"1.5"}}]}]}]}]})"}) {
    EXPECT_FALSE(ParseExportTraceServiceRequestJson(bad).ok()) << bad;
  }
  ASSERT_OK_AND_ASSIGN(ExportTraceServiceRequest empty, ParseExportTraceServiceRequestJson("{}"));
  EXPECT_TRUE(empty.resource_spans.empty());
}

}  // namespace
}  // namespace cairn::api::mlflow::otlp
