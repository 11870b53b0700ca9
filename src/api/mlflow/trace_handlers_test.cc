#include "api/mlflow/trace_handlers.h"

#include <gtest/gtest.h>

#include "base/json.h"

namespace cairn::api::mlflow {
namespace {

namespace bj = boost::json;

TEST(TraceWireTest, TimestampsParseAtMillisecondPrecision) {
  auto ms = [](std::string_view text) {
    auto v = ParseTimestampMillis(text);
    EXPECT_TRUE(v.ok()) << text << ": " << v.status().ToString();
    return v.ok() ? *v : -1;
  };
  EXPECT_EQ(ms("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ms("2026-11-26T12:37:53.085Z"), 1795696673085);
  EXPECT_EQ(ms("2026-11-26T12:37:53.085999999Z"), 1795696673085);
  EXPECT_EQ(ms("2026-11-26T12:37:53.1Z"), 1795696673100);
  EXPECT_EQ(ms("2026-11-26T13:37:53.085+01:00"), 1795696673085);
  EXPECT_EQ(ms("2026-11-26T11:07:53.085-01:30"), 1795696673085);
  EXPECT_EQ(ms("2000-02-29t00:00:00z"), 951782400000);
  for (std::string_view bad :
       {"", "2026-11-26", "2026-11-26T12:37:53", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
        "2026-11-26T24:00:00Z", "2026-11-26T12:37:53.Z", "2026-11-26T12:37:53.0123456789Z",
        "2026-11-26T12:37:53Zjunk", "2026-11-26 12:37:53Z", "+2026-11-26T12:37:53Z",
        "2026-11-26T12:37:53+0100"}) {
    EXPECT_EQ(ParseTimestampMillis(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(TraceWireTest, TimestampsFormatAsTheReferenceDoes) {
  EXPECT_EQ(FormatTimestampMillis(1795696673085), "2026-11-26T12:37:53.085Z");
  EXPECT_EQ(FormatTimestampMillis(1795696673000), "2026-11-26T12:37:53Z");
  EXPECT_EQ(FormatTimestampMillis(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimestampMillis(951782400001), "2000-02-29T00:00:00.001Z");
  for (int64_t ms : {int64_t{1}, int64_t{86399999}, int64_t{253402300799999}}) {
    auto back = ParseTimestampMillis(FormatTimestampMillis(ms));
    ASSERT_TRUE(back.ok()) << ms;
    EXPECT_EQ(*back, ms);
  }
}

TEST(TraceWireTest, DurationsParseAndFormat) {
  EXPECT_EQ(*ParseDurationMillis("0.094s"), 94);
  EXPECT_EQ(*ParseDurationMillis("0s"), 0);
  EXPECT_EQ(*ParseDurationMillis("12.5s"), 12500);
  EXPECT_EQ(*ParseDurationMillis("-1.000000001s"), -1000);
  EXPECT_EQ(FormatDurationMillis(94), "0.094s");
  EXPECT_EQ(FormatDurationMillis(0), "0s");
  EXPECT_EQ(FormatDurationMillis(1500), "1.500s");
  EXPECT_EQ(FormatDurationMillis(-2000), "-2s");
  for (std::string_view bad :
       {"", "s", "5", "1.s", ".5s", "1.5 s", "abc", "1.0000000001s", "9999999999999s", "--1s"}) {
    EXPECT_EQ(ParseDurationMillis(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(TraceWireTest, TraceInfoRoundTrips) {
  auto parsed = json::ParseObject(R"({
    "trace_id": "tr-1", "client_request_id": "req",
    "trace_location": {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "7"}},
    "request_time": "2026-11-26T12:37:53.085Z", "execution_duration": "0.094s", "state": "ERROR",
    "request_preview": "in", "response_preview": "out",
    "trace_metadata": {"a": "1"}, "tags": {"b": "2"}, "assessments": []})");
  ASSERT_TRUE(parsed.ok());
  auto info = TraceInfoFromJson(*parsed);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->experiment_id, "7");
  EXPECT_EQ(info->state, metadata::TraceState::kError);
  EXPECT_EQ(info->execution_duration_ms, 94);
  bj::object back = TraceInfoToJson(*info);
  parsed->erase("assessments");
  EXPECT_EQ(back, *parsed);
}

TEST(TraceWireTest, TraceInfoV2HasTheDeprecatedShape) {
  metadata::TraceInfo info;
  info.trace_id = "abc";
  info.experiment_id = "3";
  info.request_time_ms = 1700000000000;
  info.trace_metadata = {{"m", "1"}};
  info.tags = {{"t", "x"}};
  EXPECT_EQ(bj::serialize(TraceInfoV2ToJson(info)),
            R"({"request_id":"abc","experiment_id":"3","timestamp_ms":1700000000000,)"
            R"("execution_time_ms":0,"status":"TRACE_STATUS_UNSPECIFIED",)"
            R"("request_metadata":[{"key":"m","value":"1"}],"tags":[{"key":"t","value":"x"}]})");
  info.state = metadata::TraceState::kInProgress;
  info.execution_duration_ms = 1500;
  bj::object v2 = TraceInfoV2ToJson(info);
  EXPECT_EQ(v2["status"], "IN_PROGRESS");
  EXPECT_EQ(v2["execution_time_ms"], 1500);
}

TEST(TraceWireTest, MalformedTraceInfoIsInvalidArgument) {
  const char* cases[] = {
      R"({})",
      R"({"trace_id": "t", "request_time": "2026-11-26T12:37:53Z"})",
      R"({"trace_id": "t", "trace_location": {"type": "UC_SCHEMA"}, "request_time": "2026-11-26T12:37:53Z"})",
      R"({"trace_id": "t", "trace_location": {"mlflow_experiment": {}}, "request_time": "2026-11-26T12:37:53Z"})",
      R"({"trace_id": "t", "trace_location": {"mlflow_experiment": {"experiment_id": "1"}}})",
      R"({"trace_id": 5, "trace_location": {"mlflow_experiment": {"experiment_id": "1"}}, "request_time": "2026-11-26T12:37:53Z"})",
      R"({"trace_id": "t", "trace_location": {"mlflow_experiment": {"experiment_id": "1"}}, "request_time": "2026-11-26T12:37:53Z", "tags": {"a": 1}})",
      R"({"trace_id": "t", "trace_location": {"mlflow_experiment": {"experiment_id": "1"}}, "request_time": "2026-11-26T12:37:53Z", "tags": "x"})",
      R"({"trace_id": "t", "trace_location": {"mlflow_experiment": {"experiment_id": "1"}}, "request_time": "2026-11-26T12:37:53Z", "state": "FINE"})",
  };
  for (const char* text : cases) {
    auto obj = json::ParseObject(text);
    ASSERT_TRUE(obj.ok()) << text;
    EXPECT_EQ(TraceInfoFromJson(*obj).status().code(), StatusCode::kInvalidArgument) << text;
  }
}

TEST(TraceMetricsQueryFromJsonTest, ReadsTheOverviewPageRequest) {
  auto msg =
      json::ParseObject(R"({"experiment_ids":["1"],"view_type":"TRACES","metric_name":"latency",)"
                        R"("aggregations":[{"aggregation_type":"AVG"},)"
                        R"({"aggregation_type":"PERCENTILE","percentile_value":90}],)"
                        R"("time_interval_seconds":86400,"start_time_ms":"5","end_time_ms":10,)"
                        R"("dimensions":["trace_name"],"page_token":"x"})");
  ASSERT_TRUE(msg.ok());
  auto q = TraceMetricsQueryFromJson(*msg);
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_EQ(q->experiment_ids, std::vector<std::string>{"1"});
  EXPECT_EQ(q->view_type, tracking::MetricViewType::kTraces);
  ASSERT_EQ(q->aggregations.size(), 2u);
  EXPECT_EQ(q->aggregations[1].type, tracking::AggregationType::kPercentile);
  EXPECT_EQ(q->aggregations[1].percentile_value, 90);
  EXPECT_EQ(q->time_interval_seconds, 86400);
  EXPECT_EQ(q->start_time_ms, 5);
  EXPECT_EQ(q->max_results, tracking::kDefaultTraceMetricsMaxResults);
  EXPECT_EQ(q->dimensions, std::vector<std::string>{"trace_name"});
}

TEST(TraceMetricsQueryFromJsonTest, RejectsMissingAndMistypedFields) {
  for (const char* body : {
           R"({"view_type":"TRACES","metric_name":"m","aggregations":[]})",
           R"({"experiment_ids":["1"],"metric_name":"m","aggregations":[]})",
           R"({"experiment_ids":["1"],"view_type":"NOPE","metric_name":"m","aggregations":[]})",
           R"({"experiment_ids":[1],"view_type":"TRACES","metric_name":"m","aggregations":[]})",
           R"({"experiment_ids":["1"],"view_type":2,"metric_name":"m","aggregations":{}})",
           R"({"experiment_ids":["1"],"view_type":1,"metric_name":"m","aggregations":[{}]})",
           R"({"experiment_ids":["1"],"view_type":1,"metric_name":"m","aggregations":[],)"
           R"("max_results":1.5})",
           R"({"experiment_ids":["1"],"view_type":1,"metric_name":"m","aggregations":[],)"
           R"("dimensions":"trace_name"})",
       }) {
    auto msg = json::ParseObject(body);
    ASSERT_TRUE(msg.ok());
    auto q = TraceMetricsQueryFromJson(*msg);
    EXPECT_FALSE(q.ok()) << body;
    EXPECT_EQ(q.status().code(), StatusCode::kInvalidArgument) << body;
  }
}

TEST(TraceMetricsToJsonTest, OmitsEmptyDimensionsAndAnswersEmptyObjectForNoPoints) {
  EXPECT_EQ(bj::serialize(TraceMetricsToJson({})), "{}");
  tracking::MetricDataPoint p{"trace_count", {}, {{"COUNT", 2}}};
  EXPECT_EQ(bj::serialize(TraceMetricsToJson({p})),
            R"({"data_points":[{"metric_name":"trace_count","values":{"COUNT":2E0}}]})");
}

}  // namespace
}  // namespace cairn::api::mlflow
