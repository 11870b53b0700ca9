#include "monitor/window.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "base/status_testing.h"
#include "monitor/profile/table_reader.h"

namespace cairn::monitor {
namespace {

namespace bj = boost::json;

Cell Num(double v) { return Cell{.type = Cell::Type::kNumber, .number = v}; }
Cell Text(std::string s) { return Cell{.type = Cell::Type::kString, .text = std::move(s)}; }

// Rows of named columns, with optional predictions.
EventRows Rows(std::vector<std::string> names, std::vector<std::vector<Cell>> columns,
               std::vector<Cell> predictions = {}) {
  EventRows rows;
  rows.rows = columns.empty() ? predictions.size() : columns[0].size();
  rows.names = std::move(names);
  rows.columns = std::move(columns);
  rows.predictions = std::move(predictions);
  rows.scores.assign(rows.predictions.size(), std::nullopt);
  return rows;
}

ColumnValues NumericColumn(std::vector<double> values) {
  ColumnValues c;
  c.kind = FeatureKind::kNumeric;
  c.numbers = std::move(values);
  return c;
}

ColumnValues CategoricalColumn(std::vector<std::string> values) {
  ColumnValues c;
  c.kind = FeatureKind::kCategorical;
  c.strings = std::move(values);
  return c;
}

TEST(WindowSampleTest, KeepsEveryRowUpToCapacityThenASampleOfPairedRows) {
  WindowSample sample(100, 7);
  for (int batch = 0; batch < 100; ++batch) {
    std::vector<Cell> a, b, p;
    for (int i = 0; i < 10; ++i) {
      const double v = batch * 10 + i;
      a.push_back(Num(v));
      b.push_back(Num(2 * v));
      p.push_back(Num(v + 0.5));
    }
    sample.AddRows(Rows({"a", "b"}, {a, b}, p));
    if (batch == 9) {
      // Exactly at capacity: every row, in order.
      ColumnValues kept = sample.Values("a", FeatureKind::kNumeric);
      ASSERT_EQ(kept.numbers.size(), 100u);
      for (size_t i = 0; i < 100; ++i) EXPECT_EQ(kept.numbers[i], static_cast<double>(i));
    }
  }
  EXPECT_EQ(sample.rows_seen(), 1000);
  EXPECT_EQ(sample.rows_kept(), 100u);
  ColumnValues a = sample.Values("a", FeatureKind::kNumeric);
  ColumnValues b = sample.Values("b", FeatureKind::kNumeric);
  ColumnValues p = sample.PredictionValues(FeatureKind::kNumeric);
  ASSERT_EQ(a.numbers.size(), 100u);
  ASSERT_EQ(b.numbers.size(), 100u);
  ASSERT_EQ(p.numbers.size(), 100u);
  double sum = 0;
  int late_rows = 0;
  for (size_t i = 0; i < 100; ++i) {
    EXPECT_EQ(b.numbers[i], 2 * a.numbers[i]) << i;
    EXPECT_EQ(p.numbers[i], a.numbers[i] + 0.5) << i;
    sum += a.numbers[i];
    late_rows += a.numbers[i] >= 100 ? 1 : 0;
  }
  // A uniform sample of 0..999: most rows come from beyond the first 100, the mean near 500.
  EXPECT_GT(late_rows, 75);
  EXPECT_NEAR(sum / 100, 499.5, 120);
}

TEST(WindowSampleTest, ReservoirIsUniformOverManySeeds) {
  // How often each of 20 rows is kept in a sample of 5, over 4000 seeds: 1000 expected each.
  std::vector<int> kept(20, 0);
  for (uint64_t seed = 1; seed <= 4000; ++seed) {
    WindowSample sample(5, seed);
    for (int i = 0; i < 20; ++i) sample.AddRows(Rows({"x"}, {{Num(i)}}));
    for (double v : sample.Values("x", FeatureKind::kNumeric).numbers) {
      ++kept[static_cast<size_t>(v)];
    }
  }
  for (int i = 0; i < 20; ++i) EXPECT_NEAR(kept[i], 1000, 150) << "row " << i;
}

TEST(WindowSampleTest, ColumnsSeenLateAreMissingBeforeAndAbsentOnesAfter) {
  WindowSample sample(1000, 1);
  sample.AddRows(Rows({"a"}, {{Num(1), Num(2), Num(3)}}));
  sample.AddRows(Rows({"a", "c"}, {{Num(4), Num(5)}, {Num(40), Num(50)}}));
  sample.AddRows(Rows({"c"}, {{Num(60)}}));
  EXPECT_EQ(sample.names(), (std::vector<std::string>{"a", "c"}));
  ColumnValues a = sample.Values("a", FeatureKind::kNumeric);
  EXPECT_EQ(a.numbers, (std::vector<double>{1, 2, 3, 4, 5}));
  EXPECT_EQ(a.missing, 1);
  ColumnValues c = sample.Values("c", FeatureKind::kNumeric);
  EXPECT_EQ(c.numbers, (std::vector<double>{40, 50, 60}));
  EXPECT_EQ(c.missing, 3);
  ColumnValues none = sample.Values("zzz", FeatureKind::kNumeric);
  EXPECT_EQ(none.size(), 0u);
  EXPECT_EQ(none.missing, 0);
  // No predictions were given: every row's prediction is missing.
  EXPECT_EQ(sample.PredictionValues(FeatureKind::kCategorical).missing, 6);
}

TEST(WindowSampleTest, TextColumnsKeepTextAndReadNumbersBothWays) {
  WindowSample sample(1000, 1);
  sample.AddRows(Rows({"t"}, {{Num(1), Num(2.5), Cell{}}}));
  sample.AddRows(Rows({"t"}, {{Text("x"), Text(" 3.5 "), Num(4)}}));
  ColumnValues categorical = sample.Values("t", FeatureKind::kCategorical);
  EXPECT_EQ(categorical.strings, (std::vector<std::string>{"1", "2.5", "x", " 3.5 ", "4"}));
  EXPECT_EQ(categorical.missing, 1);
  ColumnValues numeric = sample.Values("t", FeatureKind::kNumeric);
  EXPECT_EQ(numeric.numbers, (std::vector<double>{1, 2.5, 3.5, 4}));
  EXPECT_EQ(numeric.missing, 2);  // the missing cell and "x"
}

TEST(WindowSampleTest, CategoricalColumnsKeepEveryValue) {
  // One string per request, as a categorical feature arrives: every value must be kept.
  WindowSample sample(1000, 1);
  std::vector<std::string> expected;
  for (int i = 0; i < 200; ++i) {
    std::string city = i % 3 == 0 ? "Oslo" : (i % 3 == 1 ? "Rome" : "a city with a long name");
    expected.push_back(city);
    sample.AddRows(Rows({"city"}, {{Text(city)}}));
  }
  ColumnValues values = sample.Values("city", FeatureKind::kCategorical);
  EXPECT_EQ(values.strings, expected);
  EXPECT_EQ(values.missing, 0);
}

TEST(WindowSampleTest, ReplacedRowsOfATextColumnDoNotKeepOldText) {
  // Capacity 1: every later row may replace the one kept; the text must follow the number.
  WindowSample sample(1, 3);
  sample.AddRows(Rows({"t"}, {{Text("first")}}));
  for (int i = 0; i < 50; ++i) sample.AddRows(Rows({"t"}, {{Num(i)}}));
  ColumnValues numeric = sample.Values("t", FeatureKind::kNumeric);
  ColumnValues categorical = sample.Values("t", FeatureKind::kCategorical);
  ASSERT_EQ(categorical.strings.size(), 1u);
  if (numeric.numbers.empty()) {
    EXPECT_EQ(categorical.strings[0], "first");
  } else {
    EXPECT_EQ(categorical.strings[0], CellKey(Num(numeric.numbers[0])));
  }
}

TEST(QuantileTest, MatchesNumpyLinear) {
  // numpy.quantile(v, q) with the default method="linear".
  std::vector<double> v = {4, 1, 3, 2};
  EXPECT_DOUBLE_EQ(Quantile(v, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(Quantile(v, 0.95), 3.85);
  EXPECT_DOUBLE_EQ(Quantile(v, 0.99), 3.97);
  EXPECT_DOUBLE_EQ(Quantile(v, 0.0), 1);
  EXPECT_DOUBLE_EQ(Quantile(v, 1.0), 4);
  std::vector<double> ten = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
  EXPECT_DOUBLE_EQ(Quantile(ten, 0.99), 9.91);
  EXPECT_DOUBLE_EQ(Quantile(ten, 0.25), 3.25);
  std::vector<double> one = {7};
  EXPECT_DOUBLE_EQ(Quantile(one, 0.99), 7);
  std::vector<double> none;
  EXPECT_EQ(Quantile(none, 0.5), 0);
}

// A reference of two numeric features a ~ U(0, 1), b ~ U(0, 1) and a 0/1 prediction column.
ReferenceProfile Reference() {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> a, b;
  std::vector<std::string> p;
  for (int i = 0; i < 500; ++i) {
    a.push_back(u(rng));
    b.push_back(u(rng));
    p.push_back(i % 2 == 0 ? "0" : "1");
  }
  std::vector<NamedColumn> columns;
  columns.push_back({"a", NumericColumn(a)});
  columns.push_back({"b", NumericColumn(b)});
  columns.push_back({"prediction", CategoricalColumn(p)});
  StatusOr<ReferenceProfile> profile = BuildProfile(std::move(columns));
  EXPECT_TRUE(profile.ok()) << profile.status().ToString();
  return profile.ok() ? *profile : ReferenceProfile{};
}

// A window of `n` rows under `names`: the first column like the reference, the second shifted
// by `shift`; predictions all `prediction`.
WindowSample Window(std::vector<std::string> names, int n, double shift, double prediction) {
  WindowSample sample(10'000, 5);
  std::mt19937_64 rng(23);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<Cell> a, b, p;
  for (int i = 0; i < n; ++i) {
    a.push_back(Num(u(rng)));
    b.push_back(Num(u(rng) + shift));
    p.push_back(Num(prediction));
  }
  sample.AddRows(Rows(std::move(names), {a, b}, p));
  return sample;
}

DriftConfig Config(std::string json) {
  StatusOr<DriftConfig> c = ParseDriftConfig(json);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : DriftConfig{};
}

TEST(WindowResultsTest, CountersLatencyAndThroughput) {
  WindowCounters counters;
  counters.requests = 4;
  counters.rows = 9;
  counters.errors = 1;
  counters.late = 2;
  counters.unreadable = 1;
  counters.latencies_ms = {4, 1, 3, 2};
  WindowSample sample(10, 1);
  bj::object r = WindowResults(Config("{}"), nullptr, 0, sample, counters, 2000);
  EXPECT_EQ(r.at("requests").as_int64(), 4);
  EXPECT_EQ(r.at("rows").as_int64(), 9);
  EXPECT_EQ(r.at("errors").as_int64(), 1);
  EXPECT_DOUBLE_EQ(r.at("error_rate").as_double(), 0.25);
  EXPECT_EQ(r.at("late").as_int64(), 2);
  EXPECT_EQ(r.at("unreadable").as_int64(), 1);
  const bj::object& latency = r.at("latency_ms").as_object();
  EXPECT_DOUBLE_EQ(latency.at("p50").as_double(), 2.5);
  EXPECT_DOUBLE_EQ(latency.at("p95").as_double(), 3.85);
  EXPECT_DOUBLE_EQ(latency.at("p99").as_double(), 3.97);
  EXPECT_DOUBLE_EQ(latency.at("max").as_double(), 4);
  EXPECT_DOUBLE_EQ(r.at("throughput_rps").as_double(), 2.0);
  // Without a reference: no drift verdict, and no reference version.
  EXPECT_EQ(r.at("data_drift").at("status").as_string(), "no_reference");
  EXPECT_EQ(r.at("prediction_drift").at("status").as_string(), "no_reference");
  EXPECT_FALSE(r.contains("reference_version"));
  bj::object off =
      WindowResults(Config(R"({"prediction_drift": false})"), nullptr, 0, sample, counters, 2000);
  EXPECT_FALSE(off.contains("prediction_drift"));
}

TEST(WindowResultsTest, NamedColumnsDriftAndPredictionDrift) {
  ReferenceProfile reference = Reference();
  WindowSample sample = Window({"a", "b"}, 300, 0.8, 1);
  bj::object r = WindowResults(Config("{}"), &reference, 3, sample, WindowCounters{}, 1000);
  EXPECT_EQ(r.at("reference_version").as_int64(), 3);
  const bj::object& drift = r.at("data_drift").as_object();
  EXPECT_EQ(drift.at("status").as_string(), "ok");
  EXPECT_FALSE(drift.contains("columns_matched_by_position"));
  const bj::object& features = drift.at("features").as_object();
  ASSERT_EQ(features.size(), 2u);  // the prediction column is not a feature
  EXPECT_EQ(features.at("a").at("method").as_string(), "ks");
  EXPECT_FALSE(features.at("a").at("drift").as_bool());
  EXPECT_TRUE(features.at("b").at("drift").as_bool());
  EXPECT_EQ(features.at("b").at("n_current").as_int64(), 300);
  EXPECT_EQ(features.at("b").at("n_reference").as_int64(), 500);
  EXPECT_EQ(drift.at("drifted").as_int64(), 1);
  EXPECT_EQ(drift.at("total").as_int64(), 2);
  EXPECT_DOUBLE_EQ(drift.at("share").as_double(), 0.5);
  EXPECT_TRUE(drift.at("drift").as_bool());  // 0.5 >= drift_share 0.5
  // Every prediction is 1 against a 50/50 reference: prediction drift (Z test on two values).
  const bj::object& prediction = r.at("prediction_drift").as_object();
  EXPECT_EQ(prediction.at("status").as_string(), "ok");
  EXPECT_EQ(prediction.at("kind").as_string(), "categorical");
  EXPECT_TRUE(prediction.at("drift").as_bool());

  bj::object same =
      WindowResults(Config("{}"), &reference, 3, Window({"a", "b"}, 300, 0, 0.5), {}, 1000);
  EXPECT_FALSE(same.at("data_drift").at("drift").as_bool());
}

TEST(WindowResultsTest, TensorColumnsMatchReferenceColumnsByPosition) {
  ReferenceProfile reference = Reference();
  WindowSample sample = Window({"X[0]", "X[1]"}, 300, 0.8, 1);
  bj::object r = WindowResults(Config("{}"), &reference, 1, sample, {}, 1000);
  const bj::object& drift = r.at("data_drift").as_object();
  EXPECT_TRUE(drift.at("columns_matched_by_position").as_bool());
  EXPECT_FALSE(drift.at("features").at("a").at("drift").as_bool());
  EXPECT_TRUE(drift.at("features").at("b").at("drift").as_bool());

  // A count that does not match: nothing is matched, every feature is short of samples.
  WindowSample three(1000, 1);
  three.AddRows(Rows({"X[0]", "X[1]", "X[2]"}, {{Num(1)}, {Num(2)}, {Num(3)}}));
  bj::object unmatched = WindowResults(Config("{}"), &reference, 1, three, {}, 1000);
  EXPECT_FALSE(unmatched.at("data_drift").as_object().contains("columns_matched_by_position"));
  EXPECT_EQ(unmatched.at("data_drift").at("status").as_string(), "insufficient_data");
}

TEST(WindowResultsTest, SmallWindowsAreInsufficientData) {
  ReferenceProfile reference = Reference();
  WindowSample sample = Window({"a", "b"}, 20, 0.8, 1);
  bj::object r = WindowResults(Config("{}"), &reference, 1, sample, {}, 1000);
  const bj::object& drift = r.at("data_drift").as_object();
  EXPECT_EQ(drift.at("status").as_string(), "insufficient_data");
  EXPECT_EQ(drift.at("features").at("a").at("status").as_string(), "insufficient_data");
  EXPECT_EQ(drift.at("features").at("a").at("n_current").as_int64(), 20);
  EXPECT_EQ(drift.at("features").at("a").at("min_samples").as_int64(), 30);
  EXPECT_EQ(r.at("prediction_drift").at("status").as_string(), "insufficient_data");
  // A lower min_samples gives a verdict on the same window.
  bj::object lower =
      WindowResults(Config(R"({"min_samples": 10})"), &reference, 1, sample, {}, 1000);
  EXPECT_EQ(lower.at("data_drift").at("status").as_string(), "ok");
}

TEST(WindowResultsTest, FeaturesFilterAndPerFeatureMethods) {
  ReferenceProfile reference = Reference();
  WindowSample sample = Window({"a", "b"}, 300, 0.8, 1);
  bj::object only_a =
      WindowResults(Config(R"({"features": ["a"]})"), &reference, 1, sample, {}, 1000);
  const bj::object& drift = only_a.at("data_drift").as_object();
  EXPECT_EQ(drift.at("features").as_object().size(), 1u);
  EXPECT_TRUE(drift.at("features").as_object().contains("a"));
  EXPECT_EQ(drift.at("total").as_int64(), 1);
  EXPECT_FALSE(drift.at("drift").as_bool());

  bj::object methods =
      WindowResults(Config(R"({"method": "wasserstein", "per_feature": {"b": {"method": "psi",
                 "threshold": 5}}, "prediction_drift": {"method": "jensenshannon"}})"),
                    &reference, 1, sample, {}, 1000);
  const bj::object& features = methods.at("data_drift").at("features").as_object();
  EXPECT_EQ(features.at("a").at("method").as_string(), "wasserstein");
  EXPECT_EQ(features.at("b").at("method").as_string(), "psi");
  EXPECT_DOUBLE_EQ(features.at("b").at("threshold").as_double(), 5);
  EXPECT_EQ(features.at("b").at("drift").as_bool(), features.at("b").at("score").as_double() >= 5);
  EXPECT_EQ(methods.at("prediction_drift").at("method").as_string(), "jensenshannon");

  // A method not allowed for the kind is reported for that feature.
  bj::object wrong = WindowResults(Config(R"({"per_feature": {"a": {"method": "chisquare"}}})"),
                                   &reference, 1, sample, {}, 1000);
  EXPECT_EQ(wrong.at("data_drift").at("features").at("a").at("status").as_string(), "error");
}

TEST(WindowResultsTest, PredictionColumnMissingFromTheReference) {
  ReferenceProfile reference = Reference();
  WindowSample sample = Window({"a", "b"}, 300, 0, 1);
  bj::object r =
      WindowResults(Config(R"({"prediction_column": "target"})"), &reference, 1, sample, {}, 1000);
  EXPECT_EQ(r.at("prediction_drift").at("status").as_string(), "no_reference");
  // "prediction" is now an ordinary feature of the reference, absent from the window.
  EXPECT_TRUE(r.at("data_drift").at("features").as_object().contains("prediction"));
}

TEST(PerformanceJsonTest, WritesOnlyComputedMetrics) {
  PerformanceMetrics m;
  m.task = "regression";
  m.labels = 3;
  m.rmse = 1.5;
  m.mae = std::numeric_limits<double>::infinity();
  bj::object o = PerformanceJson(m);
  EXPECT_EQ(o.at("task").as_string(), "regression");
  EXPECT_EQ(o.at("labels").as_int64(), 3);
  EXPECT_DOUBLE_EQ(o.at("rmse").as_double(), 1.5);
  EXPECT_TRUE(o.at("mae").is_null());
  EXPECT_FALSE(o.contains("accuracy"));
}

}  // namespace
}  // namespace cairn::monitor
