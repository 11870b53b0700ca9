#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/status_testing.h"
#include "monitor/detectors/adwin.h"
#include "monitor/detectors/ddm.h"
#include "monitor/detectors/drift_detector.h"
#include "monitor/detectors/eddm.h"
#include "monitor/detectors/page_hinkley.h"

namespace cairn::monitor {
namespace {

// One case of testdata/fixtures.json (see make_fixtures.py): a stream and the updates after
// which river 0.26.1 reported drift and warning.
struct FixtureCase {
  std::string name;
  std::string detector;
  std::string params_json;
  std::vector<double> stream;
  std::vector<int64_t> drift;
  std::vector<int64_t> warning;
};

struct Fixtures {
  std::string river_version;
  std::vector<FixtureCase> cases;
};

std::vector<int64_t> Indices(const boost::json::value& v) {
  std::vector<int64_t> out;
  for (const boost::json::value& i : v.as_array()) out.push_back(i.as_int64());
  return out;
}

// Parsed with json::ParseObject, whose number parsing is exact: the streams reach the detectors
// as the same doubles river saw.
const Fixtures& LoadFixtures() {
  static const Fixtures* fixtures = [] {
    std::ifstream in(std::string(CAIRN_DETECTORS_TESTDATA) + "/fixtures.json");
    std::stringstream text;
    text << in.rdbuf();
    auto doc = json::ParseObject(text.str());
    EXPECT_TRUE(doc.ok()) << doc.status().ToString();
    auto* out = new Fixtures;
    if (!doc.ok()) return out;
    out->river_version = std::string(doc->at("river_version").as_string());
    const boost::json::object& streams = doc->at("streams").as_object();
    for (const boost::json::value& c : doc->at("cases").as_array()) {
      const boost::json::object& obj = c.as_object();
      FixtureCase fc;
      fc.name = std::string(obj.at("name").as_string());
      fc.detector = std::string(obj.at("detector").as_string());
      fc.params_json = boost::json::serialize(obj.at("params"));
      for (const boost::json::value& x : streams.at(obj.at("stream").as_string()).as_array()) {
        fc.stream.push_back(x.is_double() ? x.as_double() : static_cast<double>(x.as_int64()));
      }
      fc.drift = Indices(obj.at("drift"));
      fc.warning = Indices(obj.at("warning"));
      out->cases.push_back(std::move(fc));
    }
    return out;
  }();
  return *fixtures;
}

const FixtureCase& FindCase(std::string_view name) {
  static const FixtureCase kMissing;
  for (const FixtureCase& c : LoadFixtures().cases) {
    if (c.name == name) return c;
  }
  ADD_FAILURE() << "no fixture case " << name;
  return kMissing;
}

struct Flags {
  std::vector<int64_t> drift;
  std::vector<int64_t> warning;
};

// Feeds stream[begin, end) and records the indices whose update left a flag set.
void Feed(DriftDetector& detector, const std::vector<double>& stream, size_t begin, size_t end,
          Flags& flags) {
  for (size_t i = begin; i < end; ++i) {
    detector.Update(stream[i]);
    if (detector.drift_detected()) flags.drift.push_back(static_cast<int64_t>(i));
    if (detector.warning_detected()) flags.warning.push_back(static_cast<int64_t>(i));
  }
}

TEST(DriftDetectorFixtureTest, EveryCaseFlagsTheUpdatesRiverFlags) {
  const Fixtures& fixtures = LoadFixtures();
  EXPECT_EQ(fixtures.river_version, "0.26.1");
  ASSERT_GE(fixtures.cases.size(), 25u);
  for (const FixtureCase& c : fixtures.cases) {
    SCOPED_TRACE(c.name + " " + c.detector + c.params_json);
    ASSERT_OK_AND_ASSIGN(auto detector, CreateDetector(c.detector, c.params_json));
    Flags flags;
    Feed(*detector, c.stream, 0, c.stream.size(), flags);
    EXPECT_EQ(flags.drift, c.drift);
    EXPECT_EQ(flags.warning, c.warning);
  }
}

// river's docstring examples, asserted here as well so a regenerated fixture cannot drift off.
TEST(DriftDetectorFixtureTest, RiverDocstringExamples) {
  const FixtureCase& ddm = FindCase("ddm_doc_example");
  EXPECT_EQ(ddm.drift, std::vector<int64_t>({1334}));
  ASSERT_FALSE(ddm.warning.empty());
  EXPECT_EQ(ddm.warning.front(), 1084);
  auto after_drift = std::upper_bound(ddm.warning.begin(), ddm.warning.end(), 1334);
  ASSERT_NE(after_drift, ddm.warning.end());
  EXPECT_EQ(*after_drift, 1492);

  const FixtureCase& eddm = FindCase("eddm_doc_example");
  EXPECT_EQ(eddm.drift, std::vector<int64_t>({1278}));
  ASSERT_FALSE(eddm.warning.empty());
  EXPECT_EQ(eddm.warning.front(), 1059);

  EXPECT_EQ(FindCase("page_hinkley_doc_example").drift.front(), 1006);
  EXPECT_EQ(FindCase("adwin_doc_example").drift, std::vector<int64_t>({1023}));
}

TEST(DriftDetectorFixtureTest, DriftFlagLastsOneUpdateAndResetsTheDetector) {
  Adwin adwin;
  for (int i = 0; i < 1000; ++i) adwin.Update(i % 2);
  int64_t drift_at = -1;
  for (int i = 0; i < 1000 && drift_at < 0; ++i) {
    adwin.Update(5.0);
    if (adwin.drift_detected()) drift_at = i;
  }
  ASSERT_GE(drift_at, 0);
  EXPECT_GT(adwin.n_detections(), 0);
  adwin.Update(5.0);
  EXPECT_FALSE(adwin.drift_detected());
  EXPECT_EQ(adwin.width(), 1.0);  // the window restarted with this value
  EXPECT_EQ(adwin.estimation(), 5.0);
  EXPECT_EQ(adwin.n_detections(), 0);
}

TEST(DriftDetectorStateTest, RestoreMidStreamContinuesBitIdentically) {
  for (const FixtureCase& c : LoadFixtures().cases) {
    const size_t n = c.stream.size();
    std::vector<size_t> cuts = {0, 1, 31, 32, n / 3, n / 2, n - 1};
    for (int64_t d : c.drift) {  // right on a drift (the reset is pending) and just after
      cuts.push_back(static_cast<size_t>(d) + 1);
      cuts.push_back(static_cast<size_t>(d) + 2);
    }
    ASSERT_OK_AND_ASSIGN(auto whole, CreateDetector(c.detector, c.params_json));
    Flags expected;
    Feed(*whole, c.stream, 0, n, expected);

    for (size_t cut : cuts) {
      if (cut > n) continue;
      SCOPED_TRACE(c.name + " cut at " + std::to_string(cut));
      ASSERT_OK_AND_ASSIGN(auto first, CreateDetector(c.detector, c.params_json));
      Flags flags;
      Feed(*first, c.stream, 0, cut, flags);
      const std::string state = first->SaveState();
      ASSERT_OK_AND_ASSIGN(auto second, RestoreDetector(c.detector, first->ParamsJson(), state));
      EXPECT_EQ(second->SaveState(), state);
      EXPECT_EQ(second->drift_detected(), first->drift_detected());
      EXPECT_EQ(second->warning_detected(), first->warning_detected());
      Feed(*second, c.stream, cut, n, flags);
      EXPECT_EQ(flags.drift, expected.drift);
      EXPECT_EQ(flags.warning, expected.warning);
      EXPECT_EQ(second->SaveState(), whole->SaveState());
    }
  }
}

TEST(DriftDetectorStateTest, NonFiniteStatisticsSurviveARoundTrip) {
  // A fresh DDM and Page-Hinkley hold infinities; ADWIN sums can overflow to them.
  for (std::string_view name : DetectorNames()) {
    ASSERT_OK_AND_ASSIGN(auto detector, CreateDetector(name, "{}"));
    detector->Update(name == "adwin" || name == "page_hinkley" ? 1e308 : 1.0);
    detector->Update(name == "adwin" || name == "page_hinkley" ? 1e308 : 0.0);
    const std::string state = detector->SaveState();
    ASSERT_OK_AND_ASSIGN(auto restored, RestoreDetector(name, "{}", state));
    EXPECT_EQ(restored->SaveState(), state) << name;
  }
}

TEST(DriftDetectorStateTest, RestoreRejectsBadStates) {
  ASSERT_OK_AND_ASSIGN(auto ddm, CreateDetector("ddm", "{}"));
  ASSERT_OK_AND_ASSIGN(auto adwin, CreateDetector("adwin", "{}"));
  for (int i = 0; i < 100; ++i) adwin->Update(i % 3);
  const std::string adwin_state = adwin->SaveState();

  struct BadCase {
    std::string name;
    std::string params;
    std::string state;
    std::string message;
  };
  std::string wide = adwin_state;
  wide.replace(wide.find("\"width\":"), 9, "\"width\":7");  // 100 -> 700
  std::string bad_version = ddm->SaveState();
  bad_version.replace(bad_version.find("\"version\":1"), 11, "\"version\":2");
  const std::vector<BadCase> cases = {
      {"ddm", "{}", "not json", "ddm state"},
      {"ddm", "{}", adwin_state, "\"detector\" must be \"ddm\""},
      {"ddm", "{}", R"({"detector":"ddm","version":1})", "missing 'drift_detected'"},
      {"ddm", "{}", bad_version, "unsupported version 2"},
      {"ddm", R"({"warm_start":-1})", ddm->SaveState(), "warm_start"},
      {"adwin", "{}", wide, "'width' does not match"},
      {"adwin", R"({"max_buckets":2})", adwin_state, "at most max_buckets (2)"},
      {"eddm", "{}",
       R"({"detector":"eddm","version":1,"drift_detected":false,"warning_detected":false,)"
       R"("dist_n":0,"dist_mean":0,"dist_m2":0,"n":5,"last_error":9,"n_errors":0,"p2s_max":-1})",
       "inconsistent counts"},
      {"page_hinkley", "{}", R"({"detector":"page_hinkley","version":1,"drift_detected":"no"})",
       "'drift_detected' must be a boolean"},
  };
  for (const BadCase& c : cases) {
    auto restored = RestoreDetector(c.name, c.params, c.state);
    ASSERT_FALSE(restored.ok()) << c.name << " " << c.state;
    EXPECT_EQ(restored.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(restored.status().message().find(c.message), std::string::npos)
        << restored.status().message();
  }
}

TEST(DriftDetectorParamsTest, DefaultsAreRivers) {
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"adwin", R"({"delta":0.002,"clock":32,"max_buckets":5,"min_window_length":5,)"
                R"("grace_period":10})"},
      {"ddm", R"({"warm_start":30,"warning_threshold":2.0,"drift_threshold":3.0})"},
      {"eddm", R"({"warm_start":30,"alpha":0.95,"beta":0.9})"},
      {"page_hinkley",
       R"({"min_instances":30,"delta":0.005,"threshold":50.0,"alpha":0.9999,"mode":"both"})"},
  };
  ASSERT_EQ(DetectorNames().size(), expected.size());
  for (const auto& [name, params] : expected) {
    for (std::string_view given : {"{}", "", " "}) {
      ASSERT_OK_AND_ASSIGN(auto detector, CreateDetector(name, given));
      EXPECT_EQ(detector->name(), name);
      EXPECT_EQ(detector->ParamsJson(), params);
      EXPECT_FALSE(detector->drift_detected());
      EXPECT_FALSE(detector->warning_detected());
    }
  }
}

TEST(DriftDetectorParamsTest, ParamsJsonRoundTrips) {
  const std::vector<std::pair<std::string, std::string>> given = {
      {"adwin", R"({"delta":0.1,"clock":1,"max_buckets":3,"min_window_length":1,)"
                R"("grace_period":0})"},
      {"ddm", R"({"warm_start":0,"warning_threshold":1.5,"drift_threshold":2.25})"},
      {"eddm", R"({"warm_start":5,"alpha":1.0,"beta":1.0})"},
      {"page_hinkley",
       R"({"min_instances":0,"delta":0.0,"threshold":0.1,"alpha":1.0,"mode":"down"})"},
  };
  for (const auto& [name, params] : given) {
    ASSERT_OK_AND_ASSIGN(auto detector, CreateDetector(name, params));
    EXPECT_EQ(detector->ParamsJson(), params);
  }
  // Integers may be written as 32.0; integral doubles print with a fraction.
  ASSERT_OK_AND_ASSIGN(auto adwin, CreateDetector("adwin", R"({"clock":32.0,"delta":1e-3})"));
  EXPECT_EQ(adwin->ParamsJson(),
            R"({"delta":0.001,"clock":32,"max_buckets":5,"min_window_length":5,)"
            R"("grace_period":10})");
}

TEST(DriftDetectorParamsTest, RejectsBadParametersNamingThem) {
  struct BadCase {
    std::string name;
    std::string params;
    std::string message;
  };
  const std::vector<BadCase> cases = {
      {"kswin", "{}", "unknown drift detector 'kswin'"},
      {"ddm", "[1]", "ddm: parameters must be a JSON object"},
      {"ddm", "{", "ddm: parameters must be a JSON object"},
      {"ddm", R"({"warmstart":3})", "unknown parameter 'warmstart'"},
      {"ddm", R"({"warm_start":-1})", "'warm_start' must be >= 0"},
      {"ddm", R"({"warm_start":1.5})", "'warm_start' must be an integer"},
      {"ddm", R"({"warm_start":"30"})", "'warm_start' must be an integer"},
      {"ddm", R"({"warning_threshold":0})", "'warning_threshold' must be finite and > 0"},
      {"ddm", R"({"drift_threshold":-3})", "'drift_threshold' must be finite and > 0"},
      {"ddm", R"({"drift_threshold":true})", "'drift_threshold' must be a number"},
      {"eddm", R"({"alpha":0.8,"beta":0.9})", "'beta' must be <= alpha (0.8)"},
      {"eddm", R"({"alpha":1.5})", "'alpha' must be in (0, 1]"},
      {"eddm", R"({"beta":0})", "'beta' must be in (0, 1]"},
      {"eddm", R"({"warm_start":-5})", "'warm_start' must be >= 0"},
      {"adwin", R"({"delta":0})", "'delta' must be in (0, 1)"},
      {"adwin", R"({"delta":1})", "'delta' must be in (0, 1)"},
      {"adwin", R"({"clock":0})", "'clock' must be in [1, 2147483647]"},
      {"adwin", R"({"clock":2147483648})", "'clock' must be in [1, 2147483647]"},
      {"adwin", R"({"max_buckets":1})", "'max_buckets' must be in [2, 2147483647]"},
      {"adwin", R"({"min_window_length":0})", "'min_window_length' must be in [1, 2147483647]"},
      {"adwin", R"({"grace_period":-1})", "'grace_period' must be in [0, 2147483647]"},
      {"adwin", R"({"clock":null})", "'clock' must be an integer"},
      {"page_hinkley", R"({"mode":"sideways"})", "'mode' must be \"up\", \"down\" or \"both\""},
      {"page_hinkley", R"({"mode":1})", "'mode' must be a string"},
      {"page_hinkley", R"({"alpha":0})", "'alpha' must be in (0, 1]"},
      {"page_hinkley", R"({"threshold":0})", "'threshold' must be finite and > 0"},
      {"page_hinkley", R"({"delta":-0.1})", "'delta' must be finite and >= 0"},
      {"page_hinkley", R"({"min_instances":-1})", "'min_instances' must be >= 0"},
      {"page_hinkley", R"({"lambda":5})", "unknown parameter 'lambda'"},
  };
  for (const BadCase& c : cases) {
    auto detector = CreateDetector(c.name, c.params);
    ASSERT_FALSE(detector.ok()) << c.name << " " << c.params;
    EXPECT_EQ(detector.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(detector.status().message().find(c.message), std::string::npos)
        << c.name << " " << c.params << ": " << detector.status().message();
  }
}

TEST(DriftDetectorParamsTest, OptionsValidateDirectly) {
  EXPECT_OK(AdwinOptions{}.Validate());
  EXPECT_OK(DdmOptions{}.Validate());
  EXPECT_OK(EddmOptions{}.Validate());
  EXPECT_OK(PageHinkleyOptions{}.Validate());
  EXPECT_FALSE(
      PageHinkleyOptions{.threshold = std::numeric_limits<double>::infinity()}.Validate().ok());
  EXPECT_FALSE(DdmOptions{.warning_threshold = std::nan("")}.Validate().ok());
}

}  // namespace
}  // namespace cairn::monitor
