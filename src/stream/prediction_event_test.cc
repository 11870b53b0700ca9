#include "stream/prediction_event.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "stream/stream_test_util.h"

namespace cairn::stream {
namespace {

PredictionEvent Sample() {
  PredictionEvent e;
  e.tenant = "acme";
  e.deployment_id = "dep-42";
  e.deployment_name = "fraud \"v2\"\n";
  e.model_name = "fraud";
  e.model_version = "7";
  e.request_id = "req-1";
  e.timestamp_ms = 1700000000123;
  e.latency_us = 412;
  e.protocol = "v2";
  e.status_code = 200;
  e.inputs_json = R"({"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1.5,2]}]})";
  e.outputs_json = R"([0.25, 0.75])";
  e.subject_id = "customer-9";
  e.error_message = "";
  return e;
}

TEST(PredictionEventTest, RoundTripsEveryField) {
  PredictionEvent e = Sample();
  ASSERT_OK_AND_ASSIGN(std::string payload, EncodePredictionEvent(e));
  ASSERT_OK_AND_ASSIGN(PredictionEvent back, DecodePredictionEvent(payload));
  EXPECT_EQ(back, e);

  e.subject_id.reset();
  e.error_message = "model failed: \x01 bad input";
  e.status_code = 500;
  e.outputs_json = "";
  e.inputs_json = " \"text\" ";
  ASSERT_OK_AND_ASSIGN(payload, EncodePredictionEvent(e));
  ASSERT_OK_AND_ASSIGN(back, DecodePredictionEvent(payload));
  e.inputs_json = "\"text\"";  // surrounding whitespace is not kept
  EXPECT_EQ(back, e);

  e.inputs_json = "42";
  e.outputs_json = "null";
  ASSERT_OK_AND_ASSIGN(payload, EncodePredictionEvent(e));
  ASSERT_OK_AND_ASSIGN(back, DecodePredictionEvent(payload));
  EXPECT_EQ(back.inputs_json, "42");
  EXPECT_EQ(back.outputs_json, "");  // null reads as none
}

TEST(PredictionEventTest, PayloadIsPlainJsonWithInputsEmbedded) {
  ASSERT_OK_AND_ASSIGN(std::string payload, EncodePredictionEvent(Sample()));
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(payload, ec);
  ASSERT_FALSE(ec) << payload;
  const boost::json::object& o = v.as_object();
  EXPECT_EQ(o.at("v").as_int64(), kPredictionEventVersion);
  EXPECT_EQ(o.at("tenant").as_string(), "acme");
  EXPECT_EQ(o.at("deployment_name").as_string(), "fraud \"v2\"\n");
  EXPECT_EQ(o.at("timestamp_ms").as_int64(), 1700000000123);
  EXPECT_EQ(o.at("subject_id").as_string(), "customer-9");
  EXPECT_FALSE(o.contains("error"));
  EXPECT_EQ(o.at("inputs").at("inputs").as_array()[0].at("datatype").as_string(), "FP32");
  EXPECT_EQ(o.at("outputs").as_array().size(), 2u);
}

TEST(PredictionEventTest, RefusesInputsThatAreNotJson) {
  PredictionEvent e = Sample();
  e.inputs_json = "{\"a\":";
  EXPECT_EQ(EncodePredictionEvent(e).status().code(), StatusCode::kInvalidArgument);
  e = Sample();
  e.outputs_json = "[1] [2]";
  EXPECT_EQ(EncodePredictionEvent(e).status().code(), StatusCode::kInvalidArgument);
}

TEST(PredictionEventTest, ReplacesInvalidUtf8InStrings) {
  PredictionEvent e = Sample();
  e.subject_id = std::string("bad\xff", 4);
  ASSERT_OK_AND_ASSIGN(std::string payload, EncodePredictionEvent(e));
  ASSERT_OK_AND_ASSIGN(PredictionEvent back, DecodePredictionEvent(payload));
  EXPECT_EQ(back.subject_id, "bad\xEF\xBF\xBD");
}

TEST(PredictionEventTest, DecodeIgnoresUnknownFieldsAndRefusesBadPayloads) {
  ASSERT_OK_AND_ASSIGN(
      PredictionEvent e,
      DecodePredictionEvent(R"({"v":1,"tenant":"t","deployment_id":"d","timestamp_ms":5,)"
                            R"("future":{"x":[1,2]},"inputs":{"a":1}})"));
  EXPECT_EQ(e.tenant, "t");
  EXPECT_EQ(e.inputs_json, R"({"a":1})");
  for (const char* bad : {
           "",
           "[]",
           "{",
           R"({"v":2,"tenant":"t","deployment_id":"d","timestamp_ms":5})",
           R"({"tenant":"t","deployment_id":"d","timestamp_ms":5})",
           R"({"v":1,"tenant":"t","deployment_id":"d"})",
           R"({"v":1,"tenant":5,"deployment_id":"d","timestamp_ms":5})",
       }) {
    EXPECT_EQ(DecodePredictionEvent(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(PredictionEventTest, StreamEventCarriesTheIndexedFields) {
  PredictionEvent e = Sample();
  ASSERT_OK_AND_ASSIGN(Event event, ToStreamEvent(e));
  EXPECT_EQ(event.tenant, "acme");
  EXPECT_EQ(event.key, "dep-42");
  EXPECT_EQ(event.timestamp_ms, 1700000000123);
  EXPECT_EQ(event.subject_id, "customer-9");
  ASSERT_OK_AND_ASSIGN(PredictionEvent back, DecodePredictionEvent(event.payload));
  EXPECT_EQ(back, e);
}

}  // namespace
}  // namespace cairn::stream
