#include "monitor/performance.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "monitor/event_features.h"

namespace cairn::monitor {
namespace {

namespace bj = boost::json;

constexpr double kTolerance = 1e-12;

// The fixtures of testdata/make_performance_fixtures.py: scikit-learn's metrics on labeled
// predictions.
bj::array LoadCases() {
  std::ifstream in(std::string(CAIRN_MONITOR_TESTDATA) + "/performance_fixtures.json");
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  bj::error_code ec;
  bj::value root = bj::parse(text, ec);
  if (ec || !root.is_object()) return {};
  return root.get_object().at("cases").get_array();
}

std::vector<LabeledPrediction> RowsOf(const bj::object& c) {
  const bj::array& labels = c.at("labels").get_array();
  const bj::array& predictions = c.at("predictions").get_array();
  const bj::value& scores = c.at("scores");
  std::vector<LabeledPrediction> rows;
  for (size_t i = 0; i < labels.size(); ++i) {
    LabeledPrediction row{.prediction = ParseLabel(bj::serialize(predictions[i])),
                          .label = ParseLabel(bj::serialize(labels[i])),
                          .score = std::nullopt};
    if (scores.is_array()) row.score = scores.get_array()[i].to_number<double>();
    rows.push_back(std::move(row));
  }
  return rows;
}

TEST(PerformanceTest, MatchesScikitLearnOnFixtures) {
  bj::array cases = LoadCases();
  ASSERT_EQ(cases.size(), 8u) << "run testdata/make_performance_fixtures.py";
  for (const bj::value& v : cases) {
    const bj::object& c = v.get_object();
    const std::string name(c.at("name").get_string());
    SCOPED_TRACE(name);
    std::vector<LabeledPrediction> rows = RowsOf(c);
    PerformanceMetrics m =
        ComputePerformance(rows, c.at("task").get_string(), c.at("positive_label").get_string());
    EXPECT_EQ(m.labels, static_cast<int64_t>(rows.size()));
    const bj::object& expected = c.at("expected").get_object();
    for (const char* metric : {"accuracy", "precision", "recall", "f1", "auc", "rmse", "mae"}) {
      std::optional<double> got = m.Get(metric);
      if (const bj::value* want = expected.if_contains(metric)) {
        ASSERT_TRUE(got.has_value()) << metric;
        EXPECT_NEAR(*got, want->to_number<double>(), kTolerance) << metric;
      } else {
        EXPECT_FALSE(got.has_value()) << metric << " = " << *got;
      }
    }
    EXPECT_EQ(m.task, name.starts_with("regression") ? "regression" : "classification");
  }
}

TEST(PerformanceTest, IntegralNumberLabelsAreClassesNotRegression) {
  std::vector<LabeledPrediction> rows = {
      {.prediction = ParseLabel("1.0"), .label = ParseLabel("1"), .score = std::nullopt},
      {.prediction = ParseLabel("0"), .label = ParseLabel("1"), .score = std::nullopt},
      {.prediction = ParseLabel("0"), .label = ParseLabel("0.0"), .score = std::nullopt},
  };
  PerformanceMetrics m = ComputePerformance(rows, "", "1");
  EXPECT_EQ(m.task, "classification");
  EXPECT_DOUBLE_EQ(*m.accuracy, 2.0 / 3.0);  // 1.0 and 1 are the same class
  EXPECT_DOUBLE_EQ(*m.precision, 1.0);
  EXPECT_DOUBLE_EQ(*m.recall, 0.5);
  EXPECT_FALSE(m.auc.has_value());  // no scores
}

TEST(PerformanceTest, MissingCellsAreSkipped) {
  std::vector<LabeledPrediction> rows = {
      {.prediction = ParseLabel("\"a\""), .label = ParseLabel("\"a\""), .score = 0.9},
      {.prediction = Cell{}, .label = ParseLabel("\"b\""), .score = 0.1},
      {.prediction = ParseLabel("\"b\""), .label = ParseLabel("null"), .score = 0.2},
  };
  PerformanceMetrics m = ComputePerformance(rows, "classification", "a");
  EXPECT_EQ(m.labels, 1);
  EXPECT_DOUBLE_EQ(*m.accuracy, 1.0);

  PerformanceMetrics empty = ComputePerformance({}, "", "1");
  EXPECT_EQ(empty.labels, 0);
  EXPECT_FALSE(empty.accuracy.has_value());
  EXPECT_FALSE(empty.rmse.has_value());

  std::vector<LabeledPrediction> text = {
      {.prediction = ParseLabel("\"x\""), .label = ParseLabel("1.5"), .score = std::nullopt},
      {.prediction = ParseLabel("2.5"), .label = ParseLabel("2.0"), .score = std::nullopt},
  };
  PerformanceMetrics r = ComputePerformance(text, "regression", "1");
  EXPECT_EQ(r.labels, 1);
  EXPECT_DOUBLE_EQ(*r.rmse, 0.5);
  EXPECT_DOUBLE_EQ(*r.mae, 0.5);
}

TEST(RocAucTest, TiesCountHalfAndOneClassHasNone) {
  EXPECT_DOUBLE_EQ(*RocAuc({0.1, 0.4, 0.35, 0.8}, {false, false, true, true}), 0.75);
  EXPECT_DOUBLE_EQ(*RocAuc({0.5, 0.5}, {false, true}), 0.5);
  EXPECT_DOUBLE_EQ(*RocAuc({0.2, 0.9}, {false, true}), 1.0);
  EXPECT_DOUBLE_EQ(*RocAuc({0.9, 0.2}, {false, true}), 0.0);
  EXPECT_FALSE(RocAuc({0.1, 0.2}, {true, true}).has_value());
  EXPECT_FALSE(RocAuc({}, {}).has_value());
}

}  // namespace
}  // namespace cairn::monitor
