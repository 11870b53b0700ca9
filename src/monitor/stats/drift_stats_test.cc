#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "base/status_testing.h"
#include "monitor/stats/column_drift.h"
#include "monitor/stats/drift_method.h"
#include "monitor/stats/drift_tests.h"
#include "monitor/stats/special_functions.h"

namespace cairn::monitor {
namespace {

namespace json = boost::json;

constexpr double kRelTol = 1e-9;
// 2 (1 - Phi(|z|)) and similar differences of numbers near 1 carry an absolute rounding error
// of about 1e-16 whatever the size of the result; below this floor values agree absolutely.
constexpr double kAbsFloor = 1e-15;

const json::value& Fixtures() {
  static const json::value* doc = [] {
    std::ifstream in(std::string(CAIRN_DRIFT_STATS_TESTDATA) + "/fixtures.json");
    std::stringstream buffer;
    buffer << in.rdbuf();
    return new json::value(json::parse(buffer.str()));
  }();
  return *doc;
}

double ToDouble(const json::value& v) {
  if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (v.is_string()) return std::stod(std::string(v.as_string()));
  return v.to_number<double>();
}

double max_relative_error = 0;  // reported by the fixture tests
int compared_values = 0;

::testing::AssertionResult Near(double expected, double actual) {
  ++compared_values;
  if (std::isnan(expected) && std::isnan(actual)) return ::testing::AssertionSuccess();
  if (expected == actual) return ::testing::AssertionSuccess();
  const double diff = std::abs(expected - actual);
  if (diff > kAbsFloor)
    max_relative_error = std::max(max_relative_error, diff / std::abs(expected));
  if (diff <= kRelTol * std::abs(expected) || diff <= kAbsFloor) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "expected " << expected << " got " << actual << " (rel "
                                       << diff / std::abs(expected) << ")";
}

ColumnValues ReadColumn(const json::object& c, const char* side) {
  ColumnValues col;
  col.kind =
      c.at("kind").as_string() == "numeric" ? FeatureKind::kNumeric : FeatureKind::kCategorical;
  for (const json::value& v : c.at(side).as_array()) {
    if (col.kind == FeatureKind::kNumeric) {
      if (v.is_null()) {
        ++col.missing;
      } else {
        col.numbers.push_back(ToDouble(v));
      }
    } else {
      col.strings.emplace_back(v.as_string());
    }
  }
  return col;
}

TEST(DriftStatsFixtureTest, EveryCaseMatchesEvidentlyAndScipy) {
  const json::array& cases = Fixtures().at("cases").as_array();
  ASSERT_GT(cases.size(), 30u);
  for (const json::value& cv : cases) {
    const json::object& c = cv.as_object();
    const std::string name(c.at("name").as_string());
    SCOPED_TRACE(name);
    const ColumnValues ref = ReadColumn(c, "reference");
    const ColumnValues cur = ReadColumn(c, "current");
    const json::object& expected = c.at("expected").as_object();

    ASSERT_OK_AND_ASSIGN(ColumnDrift auto_drift, DetectColumnDrift(ref, cur, {}));
    EXPECT_EQ(MethodName(auto_drift.method), expected.at("auto").as_string());

    for (const auto& [method_name, ev] : expected.at("methods").as_object()) {
      SCOPED_TRACE(std::string(method_name));
      std::optional<DriftMethod> method = ParseMethod(method_name);
      ASSERT_TRUE(method.has_value());
      const json::object& e = ev.as_object();
      const double score = ToDouble(e.at("score"));
      const bool drift = e.at("drift").as_bool();
      if (AllowedFor(*method, ref.kind)) {
        ASSERT_OK_AND_ASSIGN(ColumnDrift d, DetectColumnDrift(ref, cur, {.method = method}));
        EXPECT_TRUE(Near(score, d.score));
        EXPECT_EQ(d.drift, drift);
        EXPECT_EQ(d.p_value_test, IsPValueTest(*method));
        EXPECT_EQ(d.threshold, DefaultThreshold(*method));
        if (e.contains("statistic")) {
          EXPECT_TRUE(Near(ToDouble(e.at("statistic")), d.statistic));
        }
        if (*method == auto_drift.method) {
          EXPECT_EQ(auto_drift.score, d.score);
          EXPECT_EQ(auto_drift.drift, d.drift);
        }
      } else {
        // Evidently applies chi-square and Z to numeric columns only through its auto choice.
        EXPECT_FALSE(DetectColumnDrift(ref, cur, {.method = method}).ok());
        ColumnValues fref = ref, fcur = cur;
        std::erase_if(fref.numbers, [](double x) { return !std::isfinite(x); });
        std::erase_if(fcur.numbers, [](double x) { return !std::isfinite(x); });
        const TestResult t =
            *method == DriftMethod::kZ ? ZTestProportions(fref, fcur) : ChiSquareGof(fref, fcur);
        EXPECT_TRUE(Near(score, t.p_value));
        if (*method == auto_drift.method) {
          EXPECT_EQ(auto_drift.score, t.p_value);
          EXPECT_EQ(auto_drift.drift, drift);
        }
      }
    }
  }
  std::printf("%d values compared, max relative error %.3g\n", compared_values, max_relative_error);
}

TEST(DriftStatsFixtureTest, SpecialFunctionsMatchScipy) {
  const json::object& inputs = Fixtures().at("special").at("inputs").as_object();
  const json::object& expected = Fixtures().at("special").at("expected").as_object();
  auto check = [&](const char* key, auto fn) {
    const json::array& in = inputs.at(key).as_array();
    const json::array& out = expected.at(key).as_array();
    ASSERT_EQ(in.size(), out.size());
    for (size_t i = 0; i < in.size(); ++i) {
      SCOPED_TRACE(std::string(key) + " " + json::serialize(in[i]));
      EXPECT_TRUE(Near(ToDouble(out[i]), fn(in[i])));
    }
  };
  check("ndtr", [](const json::value& v) { return NormalCdf(ToDouble(v)); });
  check("chdtrc", [](const json::value& v) {
    return ChiSquaredSf(ToDouble(v.as_array()[1]), ToDouble(v.as_array()[0]));
  });
  check("kolmogorov", [](const json::value& v) { return KolmogorovSf(ToDouble(v)); });
  check("smirnov", [](const json::value& v) {
    return SmirnovSf(v.as_array()[0].to_number<int64_t>(), ToDouble(v.as_array()[1]));
  });
  check("kstwo_sf", [](const json::value& v) {
    return KolmogorovNSf(v.as_array()[0].to_number<int64_t>(), ToDouble(v.as_array()[1]));
  });
  std::printf("%d values compared, max relative error %.3g\n", compared_values, max_relative_error);
}

ColumnValues Numeric(std::vector<double> values) {
  ColumnValues c;
  c.numbers = std::move(values);
  return c;
}

ColumnValues Categorical(std::vector<std::string> values) {
  ColumnValues c;
  c.kind = FeatureKind::kCategorical;
  c.strings = std::move(values);
  return c;
}

TEST(DetectColumnDriftTest, RejectsAnEmptySide) {
  EXPECT_EQ(DetectColumnDrift(Numeric({}), Numeric({1, 2}), {}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(DetectColumnDrift(Numeric({1, 2}), Numeric({}), {}).status().code(),
            StatusCode::kInvalidArgument);
  // Only infinite values left: Evidently drops them like NaN.
  EXPECT_EQ(DetectColumnDrift(Numeric({1, 2}), Numeric({INFINITY}), {}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(DetectColumnDrift(Categorical({}), Categorical({"a"}), {}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(DetectColumnDriftTest, RejectsMismatchedKinds) {
  EXPECT_EQ(DetectColumnDrift(Numeric({1}), Categorical({"a"}), {}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(DetectColumnDriftTest, RejectsAMethodNotRegisteredForTheKind) {
  EXPECT_EQ(DetectColumnDrift(Categorical({"a"}), Categorical({"b"}), {.method = DriftMethod::kKs})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(DetectColumnDrift(Numeric({1}), Numeric({2}), {.method = DriftMethod::kChiSquare})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

TEST(DetectColumnDriftTest, ThresholdOverridesTheDefaultAndKsUsesLessOrEqual) {
  const ColumnValues a = Numeric({1, 2, 3, 4, 5, 6});
  ASSERT_OK_AND_ASSIGN(ColumnDrift d, DetectColumnDrift(a, a, {.threshold = 1.0}));
  EXPECT_EQ(d.method, DriftMethod::kKs);  // 6 unique values, n_ref <= 1000
  EXPECT_EQ(d.score, 1.0);
  EXPECT_EQ(d.threshold, 1.0);
  EXPECT_TRUE(d.drift);  // Evidently's KS: p <= threshold
  ASSERT_OK_AND_ASSIGN(
      ColumnDrift c, DetectColumnDrift(Numeric({1, 2, 3}), Numeric({1, 2, 3}), {.threshold = 1.0}));
  EXPECT_EQ(c.method, DriftMethod::kChiSquare);
  EXPECT_EQ(c.score, 1.0);
  EXPECT_FALSE(c.drift);  // chi-square: p < threshold
}

TEST(DriftMethodTest, NamesRoundTripAndAutoFollowsEvidently) {
  for (DriftMethod m :
       {DriftMethod::kKs, DriftMethod::kChiSquare, DriftMethod::kZ, DriftMethod::kPsi,
        DriftMethod::kKl, DriftMethod::kJensenShannon, DriftMethod::kWasserstein}) {
    EXPECT_EQ(ParseMethod(MethodName(m)), m);
  }
  EXPECT_FALSE(ParseMethod("KS").has_value());
  EXPECT_EQ(FeatureKindName(FeatureKind::kCategorical), "categorical");
  EXPECT_EQ(AutoMethod(FeatureKind::kNumeric, 1000, 6), DriftMethod::kKs);
  EXPECT_EQ(AutoMethod(FeatureKind::kNumeric, 1000, 5), DriftMethod::kChiSquare);
  EXPECT_EQ(AutoMethod(FeatureKind::kNumeric, 1000, 2), DriftMethod::kZ);
  EXPECT_EQ(AutoMethod(FeatureKind::kNumeric, 1001, 6), DriftMethod::kWasserstein);
  EXPECT_EQ(AutoMethod(FeatureKind::kNumeric, 1001, 5), DriftMethod::kJensenShannon);
  EXPECT_EQ(AutoMethod(FeatureKind::kCategorical, 1000, 3), DriftMethod::kChiSquare);
  EXPECT_EQ(AutoMethod(FeatureKind::kCategorical, 1000, 2), DriftMethod::kZ);
  EXPECT_EQ(AutoMethod(FeatureKind::kCategorical, 1001, 50), DriftMethod::kJensenShannon);
}

TEST(DatasetDriftTest, ShareAtTheThresholdCountsAsDrift) {
  std::vector<ColumnDrift> columns(4);
  columns[0].drift = columns[1].drift = true;
  const DatasetDrift d = SummarizeDatasetDrift(columns);
  EXPECT_EQ(d.drifted, 2);
  EXPECT_EQ(d.total, 4);
  EXPECT_EQ(d.share, 0.5);
  EXPECT_TRUE(d.drift);
  EXPECT_FALSE(SummarizeDatasetDrift(columns, 0.6).drift);
  EXPECT_FALSE(SummarizeDatasetDrift({}).drift);
}

}  // namespace
}  // namespace cairn::monitor
