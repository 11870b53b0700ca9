#include "tracking/assessment_metrics.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/status_testing.h"

namespace cairn::tracking {
namespace {

namespace bj = boost::json;
using metadata::Assessment;
using metadata::AssessmentKind;
using metadata::TraceInfo;

constexpr int64_t kBase = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

Assessment A(std::string name, std::string value_json, bool valid = true,
             AssessmentKind kind = AssessmentKind::kFeedback) {
  Assessment a;
  a.name = std::move(name);
  a.value_json = std::move(value_json);
  a.valid = valid;
  a.kind = kind;
  return a;
}

TraceInfo T(int64_t time_ms, std::vector<Assessment> assessments,
            metadata::TraceState state = metadata::TraceState::kOk) {
  TraceInfo t;
  t.request_time_ms = time_ms;
  t.state = state;
  t.assessments = std::move(assessments);
  return t;
}

TraceMetricsQuery Query(std::string metric, std::vector<MetricAggregation> aggs,
                        std::vector<std::string> dims = {}) {
  TraceMetricsQuery q;
  q.experiment_ids = {"1"};
  q.view_type = MetricViewType::kAssessments;
  q.metric_name = std::move(metric);
  q.aggregations = std::move(aggs);
  q.dimensions = std::move(dims);
  return q;
}

TEST(AssessmentMetricsTest, PythonFloatReprMatchesPython) {
  EXPECT_EQ(PythonFloatRepr(1), "1.0");
  EXPECT_EQ(PythonFloatRepr(0.75), "0.75");
  EXPECT_EQ(PythonFloatRepr(-2.5), "-2.5");
  EXPECT_EQ(PythonFloatRepr(100000), "100000.0");
  EXPECT_EQ(PythonFloatRepr(1e16), "1e+16");
  EXPECT_EQ(PythonFloatRepr(123456789012345.0), "123456789012345.0");
  EXPECT_EQ(PythonFloatRepr(0.0001), "0.0001");
  EXPECT_EQ(PythonFloatRepr(0.00001), "1e-05");
  EXPECT_EQ(PythonFloatRepr(1.5e-7), "1.5e-07");
  EXPECT_EQ(PythonFloatRepr(0.1), "0.1");
  EXPECT_EQ(PythonFloatRepr(0), "0.0");
}

TEST(AssessmentMetricsTest, ValueTextIsPythonJsonDumpsWithFloats) {
  EXPECT_EQ(AssessmentValueText(bj::parse("true")), "true");
  EXPECT_EQ(AssessmentValueText(bj::parse("1")), "1.0");
  EXPECT_EQ(AssessmentValueText(bj::parse("null")), "null");
  EXPECT_EQ(AssessmentValueText(bj::parse(R"("yes")")), R"("yes")");
  EXPECT_EQ(AssessmentValueText(bj::parse(R"({"a":[1,"x"]})")), R"({"a": [1.0, "x"]})");
  EXPECT_EQ(AssessmentValueText(bj::value("caf\xc3\xa9")), R"("caf\u00e9")");
}

TEST(AssessmentMetricsTest, AggregateValueAsMlflow) {
  EXPECT_EQ(AssessmentAggregateValue(bj::parse("true")), 1.0);
  EXPECT_EQ(AssessmentAggregateValue(bj::parse("false")), 0.0);
  EXPECT_EQ(AssessmentAggregateValue(bj::parse("0.5")), 0.5);
  EXPECT_EQ(AssessmentAggregateValue(bj::parse(R"(" Yes ")")), 1.0);
  EXPECT_EQ(AssessmentAggregateValue(bj::parse(R"("no")")), 0.0);
  EXPECT_FALSE(AssessmentAggregateValue(bj::parse(R"("maybe")")).has_value());
  EXPECT_FALSE(AssessmentAggregateValue(bj::parse("null")).has_value());
  EXPECT_FALSE(AssessmentAggregateValue(bj::parse("[1]")).has_value());
}

TEST(AssessmentMetricsTest, CountsValidAssessmentsByNameAndValue) {
  std::vector<TraceInfo> traces = {
      T(kBase, {A("correct", "true"), A("correct", "false", /*valid=*/false), A("score", "0.5")}),
      T(kBase + 1000, {A("correct", "true"), A("score", "1")}),
  };
  auto q = Query("assessment_count", {{AggregationType::kCount, {}}},
                 {"assessment_name", "assessment_value"});
  ASSERT_OK_AND_ASSIGN(auto points, ComputeAssessmentMetrics(q, traces));
  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(points[0].dimensions,
            (std::vector<std::pair<std::string, std::string>>{{"assessment_name", "correct"},
                                                              {"assessment_value", "true"}}));
  EXPECT_EQ(points[0].values, (std::vector<std::pair<std::string, double>>{{"COUNT", 2}}));
  EXPECT_EQ(points[1].dimensions[1].second, "0.5");
  EXPECT_EQ(points[2].dimensions[1].second, "1.0");

  // Without dimensions: one row, even over nothing.
  q.dimensions.clear();
  ASSERT_OK_AND_ASSIGN(points, ComputeAssessmentMetrics(q, {}));
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points[0].values[0].second, 0);
}

TEST(AssessmentMetricsTest, ValueStatisticsSkipNonNumericValues) {
  std::vector<TraceInfo> traces = {
      T(kBase, {A("score", "0.5"), A("score", R"("n/a")"), A("ok", R"("yes")")}),
      T(kBase + 86'400'000, {A("score", "1"), A("ok", "false")}),
  };
  auto q =
      Query("assessment_value", {{AggregationType::kAvg, {}}, {AggregationType::kPercentile, 50.0}},
            {"assessment_name"});
  q.time_interval_seconds = 86400;
  ASSERT_OK_AND_ASSIGN(auto points, ComputeAssessmentMetrics(q, traces));
  ASSERT_EQ(points.size(), 4u);
  EXPECT_EQ(points[0].dimensions[0].second, "2026-01-01T00:00:00+00:00");
  EXPECT_EQ(points[0].dimensions[1].second, "ok");
  EXPECT_EQ(points[0].values[0].second, 1.0);
  EXPECT_EQ(points[1].dimensions[1].second, "score");
  EXPECT_EQ(points[1].values[0].second, 0.5);
  EXPECT_EQ(points[3].values[0].second, 1.0);
}

TEST(AssessmentMetricsTest, FiltersOnTheAssessmentAndItsTrace) {
  std::vector<TraceInfo> traces = {
      T(kBase, {A("correct", "true"), A("gt", "1", true, AssessmentKind::kExpectation)}),
      T(kBase, {A("correct", "true")}, metadata::TraceState::kError),
  };
  auto q = Query("assessment_count", {{AggregationType::kCount, {}}});
  q.filters = {"assessment.type = 'feedback'", "trace.status = 'OK'"};
  ASSERT_OK_AND_ASSIGN(auto points, ComputeAssessmentMetrics(q, traces));
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points[0].values[0].second, 1);
  q.filters = {"assessment.name = 'gt'"};
  ASSERT_OK_AND_ASSIGN(points, ComputeAssessmentMetrics(q, traces));
  EXPECT_EQ(points[0].values[0].second, 1);
  q.filters = {"span.name = 'x'"};
  EXPECT_FALSE(ComputeAssessmentMetrics(q, traces).ok());
}

}  // namespace
}  // namespace cairn::tracking
