#include "metadata/metric_chunk.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace cairn::metadata {
namespace {

std::vector<const Metric*> Pointers(const std::vector<Metric>& metrics) {
  std::vector<const Metric*> out;
  for (const Metric& m : metrics) out.push_back(&m);
  return out;
}

std::vector<ChunkPoint> DecodeAll(std::string_view chunk, Status* status = nullptr) {
  MetricChunkReader reader(chunk);
  std::vector<ChunkPoint> out;
  ChunkPoint p;
  while (reader.Next(p)) out.push_back(p);
  if (status != nullptr) *status = reader.status();
  return out;
}

TEST(MetricChunkTest, RoundTripsEveryFieldIncludingExtremes) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<Metric> metrics = {
      {"k", 0.5, 1700000000000, 0},
      {"k", std::nan(""), 1700000000000, 1},
      {"k", kInf, kMax, kMin},
      {"k", -kInf, kMin, kMax},
      {"k", -0.0, 0, -1},
      {"k", 0.1 + 0.2, -5, 3},
      {"k", std::numeric_limits<double>::denorm_min(), 7, 7},
  };
  metrics[1].model_id = "m-123";
  metrics[2].dataset_name = "";
  metrics[2].dataset_digest = std::string("d\0igest", 7);
  metrics[3].model_id = "m";
  metrics[3].dataset_name = "train";
  metrics[3].dataset_digest = "abc";

  std::string chunk = EncodeMetricChunk(Pointers(metrics));
  Status status;
  std::vector<ChunkPoint> points = DecodeAll(chunk, &status);
  ASSERT_TRUE(status.ok()) << status.ToString();
  ASSERT_EQ(points.size(), metrics.size());
  for (size_t i = 0; i < metrics.size(); ++i) {
    SCOPED_TRACE(i);
    const Metric& m = metrics[i];
    const ChunkPoint& p = points[i];
    EXPECT_EQ(p.timestamp, m.timestamp);
    EXPECT_EQ(p.step, m.step);
    if (std::isnan(m.value)) {
      EXPECT_TRUE(std::isnan(p.value));
    } else {
      EXPECT_EQ(std::signbit(p.value), std::signbit(m.value));
      EXPECT_EQ(p.value, m.value);
    }
    auto same = [](const std::optional<std::string_view>& a, const std::optional<std::string>& b) {
      return a.has_value() == b.has_value() && (!a || *a == *b);
    };
    EXPECT_TRUE(same(p.model_id, m.model_id));
    EXPECT_TRUE(same(p.dataset_name, m.dataset_name));
    EXPECT_TRUE(same(p.dataset_digest, m.dataset_digest));
  }
}

TEST(MetricChunkTest, EmptyChunkHasNoPoints) {
  std::string chunk = EncodeMetricChunk({});
  Status status;
  EXPECT_TRUE(DecodeAll(chunk, &status).empty());
  EXPECT_TRUE(status.ok());
}

TEST(MetricChunkTest, ABatchOfStepsIsSmall) {
  std::vector<Metric> metrics;
  for (int step = 0; step < 100; ++step)
    metrics.push_back({"loss", 1.0 / (step + 1), 1700000000000, step});
  // Format byte, count, then flags + one-byte deltas + 8 value bytes per point (the first
  // timestamp delta takes six bytes).
  EXPECT_LE(EncodeMetricChunk(Pointers(metrics)).size(), 2 + 100 * 11 + 5);
}

TEST(MetricChunkTest, EveryTruncationIsReportedNotCrashed) {
  std::vector<Metric> metrics = {{"k", 1.5, 12345, 6}, {"k", 2.5, 12346, 7}};
  metrics[1].dataset_name = "dataset";
  std::string chunk = EncodeMetricChunk(Pointers(metrics));
  for (size_t size = 0; size < chunk.size(); ++size) {
    SCOPED_TRACE(size);
    Status status;
    DecodeAll(std::string_view(chunk).substr(0, size), &status);
    EXPECT_EQ(status.code(), StatusCode::kInternal);
  }
}

TEST(MetricChunkTest, TrailingBytesUnknownFormatAndFlagsAreCorrupt) {
  std::vector<Metric> metrics = {{"k", 1.5, 12345, 6}};
  std::string chunk = EncodeMetricChunk(Pointers(metrics));
  Status status;
  DecodeAll(chunk + "x", &status);
  EXPECT_EQ(status.code(), StatusCode::kInternal);

  std::string bad_format = chunk;
  bad_format[0] = 2;
  DecodeAll(bad_format, &status);
  EXPECT_EQ(status.code(), StatusCode::kInternal);

  std::string bad_flags = chunk;
  bad_flags[2] = static_cast<char>(0x40);
  DecodeAll(bad_flags, &status);
  EXPECT_EQ(status.code(), StatusCode::kInternal);

  // A count far beyond what the bytes can hold is rejected up front.
  std::string huge_count = "\x01\xff\xff\xff\xff\x0f";
  DecodeAll(huge_count, &status);
  EXPECT_EQ(status.code(), StatusCode::kInternal);
}

TEST(MetricChunkTest, RandomBytesNeverCrashTheReader) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 20000; ++i) {
    std::string bytes(rng() % 64, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (!bytes.empty() && rng() % 2 == 0) bytes[0] = 1;
    MetricChunkReader reader(bytes);
    ChunkPoint p;
    size_t n = 0;
    while (reader.Next(p)) ++n;
    EXPECT_LE(n, bytes.size() / 3);
  }
}

}  // namespace
}  // namespace cairn::metadata
