#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "metadata/types.h"

// The storage encoding of metric history: the points one write logs for one (run, key), in
// one blob. A 1000-metric batch over 10 keys becomes 10 rows of ~1 KiB instead of 1000 rows,
// which is what makes log-batch cheap on a single SQL writer. Backend-neutral: any SQL store
// keeps the bytes in a BLOB/bytea column.
//
// Format 1: a format byte (1), a varint point count, then per point a flags byte (bit 0 NaN,
// bits 1-3 model_id, dataset_name and dataset_digest present), the zigzag varint deltas of
// timestamp and step from the previous point (the first from 0), the value as 8 little-endian
// IEEE-754 bytes unless NaN, and each present string as a varint length and its bytes.
namespace cairn::metadata {

// One decoded point. The string views point into the chunk being read.
struct ChunkPoint {
  int64_t timestamp = 0;
  int64_t step = 0;
  double value = 0;  // NaN for a NaN point; +-inf as logged
  std::optional<std::string_view> model_id;
  std::optional<std::string_view> dataset_name;
  std::optional<std::string_view> dataset_digest;
};

// Encodes `points` in order (the run id and key are not stored; the row holds them).
std::string EncodeMetricChunk(std::span<const Metric* const> points);

// Reads a chunk point by point. A malformed chunk (bad format byte, truncated, trailing
// bytes, unknown flags) stops the reader with an internal error in status().
class MetricChunkReader {
 public:
  explicit MetricChunkReader(std::string_view chunk);

  // Decodes the next point into `point`; false at the end or on an error.
  bool Next(ChunkPoint& point);
  const Status& status() const { return status_; }

 private:
  bool Fail(std::string_view what);
  bool ReadVarint(uint64_t& value);
  bool ReadString(std::optional<std::string_view>& out);

  std::string_view data_;
  size_t pos_ = 0;
  uint64_t count_ = 0;
  uint64_t read_ = 0;
  int64_t timestamp_ = 0;
  int64_t step_ = 0;
  Status status_;
};

}  // namespace cairn::metadata
