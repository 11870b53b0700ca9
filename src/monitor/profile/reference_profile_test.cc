#include "monitor/profile/reference_profile.h"

#include <gtest/gtest.h>

#include <bit>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "base/status_testing.h"

namespace cairn::monitor {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

double ParseDouble(const boost::json::value& v) {
  const boost::json::string& s = v.as_string();
  double out = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  EXPECT_TRUE(ec == std::errc() && end == s.data() + s.size()) << s;
  return out;
}

std::vector<double> ParseDoubles(const boost::json::value& v) {
  std::vector<double> out;
  for (const boost::json::value& e : v.as_array()) out.push_back(ParseDouble(e));
  return out;
}

void ExpectClose(double actual, double expected, std::string_view what) {
  if (std::isnan(expected)) {
    EXPECT_TRUE(std::isnan(actual)) << what << ": " << actual;
    return;
  }
  if (actual == expected) return;
  EXPECT_LE(std::abs(actual - expected), 1e-12 * std::abs(expected))
      << what << ": " << actual << " vs numpy " << expected;
}

void ExpectAllClose(const std::vector<double>& actual, const std::vector<double>& expected,
                    std::string_view what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t i = 0; i < actual.size(); ++i) {
    ExpectClose(actual[i], expected[i], std::string(what) + "[" + std::to_string(i) + "]");
  }
}

void ExpectMatchesNumpy(const FeatureProfile& f, const boost::json::object& e) {
  SCOPED_TRACE(f.name);
  EXPECT_EQ(f.kind, FeatureKind::kNumeric);
  EXPECT_EQ(f.count, e.at("count").as_int64());
  ExpectClose(f.min, ParseDouble(e.at("min")), "min");
  ExpectClose(f.max, ParseDouble(e.at("max")), "max");
  ExpectClose(f.mean, ParseDouble(e.at("mean")), "mean");
  ExpectClose(f.std, ParseDouble(e.at("std")), "std");
  ExpectAllClose(f.quantiles, ParseDoubles(e.at("quantiles")), "quantiles");
  ExpectAllClose(f.histogram_edges, ParseDoubles(e.at("histogram_edges")), "edges");
  std::vector<int64_t> counts;
  for (const boost::json::value& c : e.at("histogram_counts").as_array()) {
    counts.push_back(c.as_int64());
  }
  EXPECT_EQ(f.histogram_counts, counts);
}

boost::json::object LoadFixtures() {
  std::ifstream in(std::string(CAIRN_PROFILE_TESTDATA) + "/fixtures.json");
  std::stringstream text;
  text << in.rdbuf();
  return boost::json::parse(text.str()).as_object();
}

const FeatureProfile* Find(const ReferenceProfile& p, std::string_view name) {
  for (const FeatureProfile& f : p.features) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

NamedColumn Numbers(std::string name, std::vector<double> values, int64_t missing = 0) {
  return NamedColumn{
      .name = std::move(name),
      .values = {.kind = FeatureKind::kNumeric, .numbers = std::move(values), .missing = missing}};
}

NamedColumn Strings(std::string name, std::vector<std::string> values, int64_t missing = 0) {
  return NamedColumn{
      .name = std::move(name),
      .values = {
          .kind = FeatureKind::kCategorical, .strings = std::move(values), .missing = missing}};
}

TEST(ReferenceProfileTest, CsvProfileMatchesNumpyAndPandas) {
  const boost::json::object fixtures = LoadFixtures();
  const boost::json::string& csv = fixtures.at("csv").as_string();
  ASSERT_OK_AND_ASSIGN(auto columns,
                       ReadTable(std::string_view(csv.data(), csv.size()), TableFormat::kCsv));
  ASSERT_OK_AND_ASSIGN(ReferenceProfile profile, BuildProfile(std::move(columns)));
  EXPECT_EQ(profile.row_count, 200);
  const boost::json::object& expected = fixtures.at("expected").as_object();
  for (std::string_view name : {"normal", "skewed", "ints", "constant"}) {
    const FeatureProfile* f = Find(profile, name);
    ASSERT_NE(f, nullptr) << name;
    const boost::json::object& e = expected.at(name).as_object();
    ExpectMatchesNumpy(*f, e);
    EXPECT_EQ(f->missing, e.at("missing").as_int64());
    EXPECT_DOUBLE_EQ(f->missing_rate, static_cast<double>(f->missing) / 200);
    EXPECT_EQ(f->sample.numbers.size(), static_cast<size_t>(f->count));
  }
  const FeatureProfile* city = Find(profile, "city");
  ASSERT_NE(city, nullptr);
  const boost::json::object& e = expected.at("city").as_object();
  EXPECT_EQ(city->kind, FeatureKind::kCategorical);
  EXPECT_EQ(city->count, e.at("count").as_int64());
  EXPECT_EQ(city->missing, e.at("missing").as_int64());
  EXPECT_EQ(city->n_unique, e.at("n_unique").as_int64());
  const boost::json::array& top = e.at("top_categories").as_array();
  ASSERT_EQ(city->top_categories.size(), top.size());
  for (size_t i = 0; i < top.size(); ++i) {
    EXPECT_EQ(city->top_categories[i].value, top[i].as_array()[0].as_string());
    EXPECT_EQ(city->top_categories[i].count, top[i].as_array()[1].as_int64());
  }
  EXPECT_EQ(city->other_count, 0);
}

TEST(ReferenceProfileTest, SmallArraysMatchNumpy) {
  const boost::json::object fixtures = LoadFixtures();
  const boost::json::object& arrays = fixtures.at("arrays").as_object();
  for (const auto& [name, values] : arrays) {
    ASSERT_OK_AND_ASSIGN(ReferenceProfile profile,
                         BuildProfile({Numbers(std::string(name), ParseDoubles(values))}));
    ExpectMatchesNumpy(profile.features[0],
                       fixtures.at("array_expected").as_object().at(name).as_object());
  }
}

TEST(ReferenceProfileTest, InfinitiesCountButStatisticsAreOverFiniteValues) {
  ASSERT_OK_AND_ASSIGN(ReferenceProfile profile,
                       BuildProfile({Numbers("x", {1.0, kInf, 3.0, -kInf, NAN}, 1)}));
  const FeatureProfile& f = profile.features[0];
  EXPECT_EQ(f.count, 4);
  EXPECT_EQ(f.missing, 2);  // the NaN counts as missing
  EXPECT_EQ(f.infinite, 2);
  EXPECT_EQ(f.min, -kInf);
  EXPECT_EQ(f.max, kInf);
  EXPECT_EQ(f.mean, 2.0);
  EXPECT_EQ(f.quantiles.front(), 1.0);
  EXPECT_EQ(f.quantiles.back(), 3.0);
  EXPECT_EQ(f.sample.numbers.size(), 4u);

  const std::string summary = ProfileSummaryJson(profile);
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(summary, ec);
  ASSERT_FALSE(ec) << summary;
  const boost::json::object& feature = parsed.at("features").as_array()[0].as_object();
  EXPECT_EQ(feature.at("min"), "-Infinity");
  EXPECT_EQ(feature.at("max"), "Infinity");
  EXPECT_EQ(feature.at("mean"), 2.0);
  EXPECT_EQ(feature.at("sample_size"), 4);
  EXPECT_FALSE(feature.contains("sample"));
  EXPECT_EQ(parsed.at("quantile_levels").as_array().size(), kQuantileCount);
}

TEST(ReferenceProfileTest, AllMissingColumn) {
  ASSERT_OK_AND_ASSIGN(ReferenceProfile profile, BuildProfile({Numbers("x", {}, 3)}));
  const FeatureProfile& f = profile.features[0];
  EXPECT_EQ(f.count, 0);
  EXPECT_EQ(f.missing_rate, 1.0);
  EXPECT_TRUE(std::isnan(f.mean));
  EXPECT_TRUE(f.quantiles.empty());
  EXPECT_TRUE(f.histogram_edges.empty());
}

TEST(ReferenceProfileTest, TopCategoriesAreCappedWithAnOtherCount) {
  ProfileOptions options;
  options.max_categories = 2;
  ASSERT_OK_AND_ASSIGN(
      ReferenceProfile profile,
      BuildProfile({Strings("c", {"b", "a", "c", "b", "a", "d", "b"}, 1)}, options));
  const FeatureProfile& f = profile.features[0];
  EXPECT_EQ(f.n_unique, 4);
  ASSERT_EQ(f.top_categories.size(), 2u);
  EXPECT_EQ(f.top_categories[0].value, "b");
  EXPECT_EQ(f.top_categories[0].count, 3);
  EXPECT_EQ(f.top_categories[1].value, "a");  // ties broken by value
  EXPECT_EQ(f.other_count, 2);
  EXPECT_DOUBLE_EQ(f.missing_rate, 1.0 / 8);
}

TEST(ReferenceProfileTest, RejectsDuplicateNamesAndUnequalRowCounts) {
  EXPECT_EQ(BuildProfile({Numbers("a", {1}), Numbers("a", {2})}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildProfile({Numbers("a", {1, 2}), Strings("b", {"x"})}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_OK(BuildProfile({Numbers("a", {1, 2}), Strings("b", {"x"}, 1)}));
}

TEST(ReferenceProfileTest, ReservoirSampleIsUniformAndDeterministic) {
  const size_t n = 200'000;
  std::vector<double> values(n);
  for (size_t i = 0; i < n; ++i) values[i] = static_cast<double>(i);
  ProfileOptions options;
  options.sample_cap = 5000;
  ASSERT_OK_AND_ASSIGN(ReferenceProfile a, BuildProfile({Numbers("x", values, 1000)}, options));
  ASSERT_OK_AND_ASSIGN(ReferenceProfile b, BuildProfile({Numbers("x", values, 1000)}, options));
  const std::vector<double>& sample = a.features[0].sample.numbers;
  EXPECT_EQ(sample.size(), 5000u);
  EXPECT_EQ(sample, b.features[0].sample.numbers);
  EXPECT_EQ(a.features[0].sample.missing, 25);  // 1000 * 5000 / 200000
  // Statistics are over every value, not the sample.
  EXPECT_EQ(a.features[0].count, static_cast<int64_t>(n));
  EXPECT_EQ(a.features[0].max, static_cast<double>(n - 1));

  std::set<double> distinct(sample.begin(), sample.end());
  EXPECT_EQ(distinct.size(), sample.size());
  // Uniform: the mean index is near n/2 (its standard error is about 820) and each quarter of
  // the input holds about a quarter of the sample.
  double sum = 0;
  std::vector<int> quarters(4);
  for (double v : sample) {
    sum += v;
    ++quarters[static_cast<size_t>(v) * 4 / n];
  }
  EXPECT_NEAR(sum / 5000, n / 2.0, 4000);
  for (int q : quarters) EXPECT_NEAR(q, 1250, 150);

  options.seed ^= 1;
  ASSERT_OK_AND_ASSIGN(ReferenceProfile c, BuildProfile({Numbers("x", values)}, options));
  EXPECT_NE(c.features[0].sample.numbers, sample);
}

ReferenceProfile SampleProfile() {
  std::vector<double> numbers;
  std::vector<std::string> strings;
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal(0.0, 1.0);
  for (int i = 0; i < 300; ++i) {
    numbers.push_back(i % 50 == 0 ? kInf : normal(rng));
    strings.push_back(i % 3 == 0 ? std::string("caf\xC3\xA9 \"q\"") : "v" + std::to_string(i % 7));
  }
  auto profile = BuildProfile(
      {Numbers("num", numbers, 5), Strings("cat", strings, 5), Numbers("empty", {}, 305)});
  EXPECT_OK(profile);
  ReferenceProfile p = std::move(profile).value();
  p.version = 3;
  p.created_ms = 1764700000123;
  p.source = "upload";
  p.source_detail = "train.csv";
  return p;
}

void ExpectSameDouble(double a, double b) {
  if (std::isnan(b)) {
    EXPECT_TRUE(std::isnan(a));
  } else {
    EXPECT_EQ(std::bit_cast<uint64_t>(a), std::bit_cast<uint64_t>(b)) << a << " vs " << b;
  }
}

TEST(ReferenceProfileTest, EncodeDecodeRoundTrip) {
  const ReferenceProfile p = SampleProfile();
  const std::string bytes = EncodeProfile(p);
  ASSERT_OK_AND_ASSIGN(ReferenceProfile d, DecodeProfile(bytes));
  EXPECT_EQ(d.version, p.version);
  EXPECT_EQ(d.created_ms, p.created_ms);
  EXPECT_EQ(d.source, p.source);
  EXPECT_EQ(d.source_detail, p.source_detail);
  EXPECT_EQ(d.row_count, p.row_count);
  ASSERT_EQ(d.features.size(), p.features.size());
  for (size_t i = 0; i < p.features.size(); ++i) {
    const FeatureProfile& a = d.features[i];
    const FeatureProfile& b = p.features[i];
    SCOPED_TRACE(b.name);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.count, b.count);
    EXPECT_EQ(a.missing, b.missing);
    ExpectSameDouble(a.missing_rate, b.missing_rate);
    EXPECT_EQ(a.infinite, b.infinite);
    ExpectSameDouble(a.min, b.min);
    ExpectSameDouble(a.max, b.max);
    ExpectSameDouble(a.mean, b.mean);
    ExpectSameDouble(a.std, b.std);
    ASSERT_EQ(a.quantiles.size(), b.quantiles.size());
    for (size_t j = 0; j < a.quantiles.size(); ++j)
      ExpectSameDouble(a.quantiles[j], b.quantiles[j]);
    ASSERT_EQ(a.histogram_edges.size(), b.histogram_edges.size());
    for (size_t j = 0; j < a.histogram_edges.size(); ++j) {
      ExpectSameDouble(a.histogram_edges[j], b.histogram_edges[j]);
    }
    EXPECT_EQ(a.histogram_counts, b.histogram_counts);
    EXPECT_EQ(a.n_unique, b.n_unique);
    ASSERT_EQ(a.top_categories.size(), b.top_categories.size());
    for (size_t j = 0; j < a.top_categories.size(); ++j) {
      EXPECT_EQ(a.top_categories[j].value, b.top_categories[j].value);
      EXPECT_EQ(a.top_categories[j].count, b.top_categories[j].count);
    }
    EXPECT_EQ(a.other_count, b.other_count);
    EXPECT_EQ(a.sample.kind, b.sample.kind);
    EXPECT_EQ(a.sample.numbers, b.sample.numbers);
    EXPECT_EQ(a.sample.strings, b.sample.strings);
    EXPECT_EQ(a.sample.missing, b.sample.missing);
  }
  EXPECT_EQ(EncodeProfile(d), bytes);
}

TEST(ReferenceProfileTest, DecodeRejectsOtherVersionsAndGarbage) {
  std::string bytes = EncodeProfile(SampleProfile());
  EXPECT_EQ(DecodeProfile("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeProfile("{\"version\":1}").status().code(), StatusCode::kInvalidArgument);
  bytes[4] = 2;  // format version 2
  Status s = DecodeProfile(bytes).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

// The FNV-1a 64 trailer, as reference_profile.h documents it.
void Reseal(std::string& bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i + 8 < bytes.size(); ++i) {
    hash ^= static_cast<unsigned char>(bytes[i]);
    hash *= 0x100000001b3ULL;
  }
  for (int i = 0; i < 8; ++i) {
    bytes[bytes.size() - 8 + i] = static_cast<char>((hash >> (8 * i)) & 0xff);
  }
}

TEST(ReferenceProfileTest, DecodeSurvivesTruncationAndBitFlips) {
  const std::string good = EncodeProfile(SampleProfile());
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(DecodeProfile(std::string_view(good).substr(0, n)).ok()) << n;
  }
  std::mt19937_64 rng(11);
  int decoded = 0;
  for (int trial = 0; trial < 5000; ++trial) {
    std::string bytes = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) {
      const size_t at = rng() % (bytes.size() - 8);
      bytes[at] = static_cast<char>(bytes[at] ^ (1 << (rng() % 8)));
    }
    // Without resealing, the checksum catches every flip.
    EXPECT_FALSE(DecodeProfile(bytes).ok());
    // Resealed, the parser itself meets the damage: it may accept (a flipped digit in a count,
    // a flipped sample bit) but must not crash or over-read.
    Reseal(bytes);
    if (DecodeProfile(bytes).ok()) ++decoded;
    // Resealed truncations and extensions of the body.
    const size_t keep = rng() % (good.size() - 8);  // short of the complete body
    std::string cut = good.substr(0, keep) + std::string(8, '\0');
    Reseal(cut);
    EXPECT_FALSE(DecodeProfile(cut).ok());
  }
  EXPECT_GT(decoded, 0);
  EXPECT_LT(decoded, 5000);
}

}  // namespace
}  // namespace cairn::monitor
