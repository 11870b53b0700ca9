#include "cli/drift_report.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <random>

namespace cairn::cli {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;
using monitor::DriftMethod;

class DriftReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cairn_drift_report_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // `rows` rows of: x ~ N(shift, 1), c from {a, b, c} (weights differ with `shift`), id.
  std::string Table(const std::string& name, int rows, double shift, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal(shift, 1);
    std::discrete_distribution<int> pick = shift == 0 ? std::discrete_distribution<int>({5, 3, 2})
                                                      : std::discrete_distribution<int>({2, 3, 5});
    std::string text = "x,c,id\n";
    for (int i = 0; i < rows; ++i) {
      text += std::to_string(normal(rng)) + "," + std::string(1, "abc"[pick(rng)]) + "," +
              std::to_string(i) + "\n";
    }
    return Write(name, text);
  }

  fs::path dir_;
};

TEST_F(DriftReportTest, FindsTheShiftedColumnsAndTheDatasetVerdict) {
  std::string ref = Table("ref.csv", 2000, 0, 1);
  std::string same = Table("same.csv", 2000, 0, 2);
  std::string moved = Table("moved.csv", 2000, 1, 3);
  StatusOr<DriftReport> calm = RunDriftReport(ref, same, {.exclude = {"id"}});
  ASSERT_TRUE(calm.ok()) << calm.status().ToString();
  ASSERT_EQ(calm->features.size(), 2u);
  EXPECT_EQ(calm->reference_rows, 2000);
  EXPECT_EQ(calm->features[0].name, "x");
  EXPECT_EQ(calm->features[0].drift->method, DriftMethod::kWasserstein);  // n > 1000
  EXPECT_EQ(calm->features[1].drift->method, DriftMethod::kJensenShannon);
  EXPECT_FALSE(calm->dataset.drift);
  EXPECT_EQ(calm->dataset.drifted, 0);

  StatusOr<DriftReport> drifted = RunDriftReport(ref, moved, {.exclude = {"id"}, .threads = 2});
  ASSERT_TRUE(drifted.ok()) << drifted.status().ToString();
  EXPECT_TRUE(drifted->features[0].drift->drift);
  EXPECT_TRUE(drifted->features[1].drift->drift);
  EXPECT_TRUE(drifted->dataset.drift);
  EXPECT_EQ(drifted->dataset.drifted, 2);
}

TEST_F(DriftReportTest, SameVerdictsWhateverTheThreadCount) {
  std::string ref = Table("ref.csv", 500, 0, 4);
  std::string cur = Table("cur.csv", 500, 0.3, 5);
  StatusOr<DriftReport> one = RunDriftReport(ref, cur, {.method = DriftMethod::kPsi, .threads = 1});
  StatusOr<DriftReport> four =
      RunDriftReport(ref, cur, {.method = DriftMethod::kPsi, .threads = 4});
  ASSERT_TRUE(one.ok() && four.ok());
  ASSERT_EQ(one->features.size(), 3u);
  for (size_t i = 0; i < one->features.size(); ++i) {
    EXPECT_EQ(one->features[i].drift->score, four->features[i].drift->score) << i;
    EXPECT_EQ(one->features[i].drift->method, DriftMethod::kPsi);
  }
}

TEST_F(DriftReportTest, OneSidedColumnsKindMismatchAndUntestableColumns) {
  std::string ref = Write("ref.csv", "a,b,only_ref,code,empty\n1,x,1,A1,\n2,y,2,B2,\n3,x,3,7,\n");
  std::string cur = Write("cur.jsonl",
                          "{\"a\":1,\"b\":\"y\",\"only_cur\":1,\"code\":7,\"empty\":null}\n"
                          "{\"a\":5,\"b\":\"y\",\"code\":8}\n");
  StatusOr<DriftReport> report = RunDriftReport(ref, cur, {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->only_in_reference, std::vector<std::string>{"only_ref"});
  EXPECT_EQ(report->only_in_current, std::vector<std::string>{"only_cur"});
  ASSERT_EQ(report->features.size(), 4u);
  // "code" is text in the reference: the current numbers are read again as text.
  EXPECT_EQ(report->features[2].name, "code");
  ASSERT_TRUE(report->features[2].drift.has_value()) << report->features[2].error;
  EXPECT_EQ(report->features[2].kind, monitor::FeatureKind::kCategorical);
  EXPECT_FALSE(report->features[3].drift.has_value());
  EXPECT_NE(report->features[3].error.find("no present values"), std::string::npos);
  EXPECT_EQ(report->dataset.total, 3);

  std::string text = FormatDriftReport(*report, false);
  EXPECT_NE(text.find("FEATURE  KIND"), std::string::npos) << text;
  EXPECT_NE(text.find("Only in the reference (not compared): only_ref"), std::string::npos);
  EXPECT_NE(text.find("Dataset drift: "), std::string::npos);
  bj::value json = bj::parse(FormatDriftReport(*report, true));
  EXPECT_EQ(json.at("dataset").at("total"), 3);
  EXPECT_EQ(json.at("features").at("a").at("method"), "chisquare");  // few values
  EXPECT_TRUE(json.at("features").at("empty").as_object().contains("error"));
  EXPECT_TRUE(json.at("timing_ms").as_object().contains("compare"));
}

TEST_F(DriftReportTest, UnreadableOrMalformedFiles) {
  std::string good = Write("good.csv", "a\n1\n");
  EXPECT_EQ(RunDriftReport(good, (dir_ / "missing.csv").string(), {}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(RunDriftReport(good, Write("x.parquet", "a\n1\n"), {}).status().code(),
            StatusCode::kInvalidArgument);
  StatusOr<DriftReport> bad = RunDriftReport(good, Write("bad.csv", "a\n\"1\n"), {});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("bad.csv"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace cairn::cli
