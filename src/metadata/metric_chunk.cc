#include "metadata/metric_chunk.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace cairn::metadata {
namespace {

constexpr uint8_t kFormat = 1;
constexpr uint8_t kNan = 1;
constexpr uint8_t kModelId = 2;
constexpr uint8_t kDatasetName = 4;
constexpr uint8_t kDatasetDigest = 8;
constexpr uint8_t kKnownFlags = kNan | kModelId | kDatasetName | kDatasetDigest;
constexpr int kMaxVarintBytes = 10;

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Deltas are computed in unsigned arithmetic so that extreme values wrap instead of overflowing.
uint64_t ZigZag(uint64_t delta) {
  auto s = static_cast<int64_t>(delta);
  return (delta << 1) ^ static_cast<uint64_t>(s >> 63);
}
uint64_t UnZigZag(uint64_t v) { return (v >> 1) ^ (~(v & 1) + 1); }

void PutString(std::string& out, const std::optional<std::string>& s) {
  if (!s) return;
  PutVarint(out, s->size());
  out.append(*s);
}

}  // namespace

std::string EncodeMetricChunk(std::span<const Metric* const> points) {
  std::string out;
  out.reserve(2 + points.size() * 12);
  out.push_back(static_cast<char>(kFormat));
  PutVarint(out, points.size());
  uint64_t timestamp = 0;
  uint64_t step = 0;
  for (const Metric* m : points) {
    bool nan = std::isnan(m->value);
    uint8_t flags = (nan ? kNan : 0) | (m->model_id ? kModelId : 0) |
                    (m->dataset_name ? kDatasetName : 0) | (m->dataset_digest ? kDatasetDigest : 0);
    out.push_back(static_cast<char>(flags));
    PutVarint(out, ZigZag(static_cast<uint64_t>(m->timestamp) - timestamp));
    PutVarint(out, ZigZag(static_cast<uint64_t>(m->step) - step));
    timestamp = static_cast<uint64_t>(m->timestamp);
    step = static_cast<uint64_t>(m->step);
    if (!nan) {
      auto bits = std::bit_cast<uint64_t>(m->value);
      for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
    }
    PutString(out, m->model_id);
    PutString(out, m->dataset_name);
    PutString(out, m->dataset_digest);
  }
  return out;
}

MetricChunkReader::MetricChunkReader(std::string_view chunk) : data_(chunk) {
  if (data_.empty() || static_cast<uint8_t>(data_[0]) != kFormat) {
    Fail("unknown format");
    return;
  }
  pos_ = 1;
  if (!ReadVarint(count_)) return;
  // Every point takes at least three bytes; a larger count is a corrupt header.
  if (count_ > (data_.size() - pos_) / 3) Fail("point count exceeds the chunk size");
}

bool MetricChunkReader::Fail(std::string_view what) {
  if (status_.ok()) status_ = Internal("corrupt metric history chunk: " + std::string(what));
  count_ = read_;
  return false;
}

bool MetricChunkReader::ReadVarint(uint64_t& value) {
  value = 0;
  for (int i = 0; i < kMaxVarintBytes; ++i) {
    if (pos_ >= data_.size()) return Fail("truncated varint");
    auto byte = static_cast<uint8_t>(data_[pos_++]);
    value |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) return true;
  }
  return Fail("varint too long");
}

bool MetricChunkReader::ReadString(std::optional<std::string_view>& out) {
  uint64_t size = 0;
  if (!ReadVarint(size)) return false;
  if (size > data_.size() - pos_) return Fail("truncated string");
  out = data_.substr(pos_, size);
  pos_ += size;
  return true;
}

bool MetricChunkReader::Next(ChunkPoint& point) {
  if (!status_.ok()) return false;
  if (read_ == count_) {
    if (pos_ != data_.size()) return Fail("trailing bytes");
    return false;
  }
  if (pos_ >= data_.size()) return Fail("truncated point");
  auto flags = static_cast<uint8_t>(data_[pos_++]);
  if ((flags & ~kKnownFlags) != 0) return Fail("unknown flags");
  uint64_t dt = 0;
  uint64_t ds = 0;
  if (!ReadVarint(dt) || !ReadVarint(ds)) return false;
  timestamp_ = static_cast<int64_t>(static_cast<uint64_t>(timestamp_) + UnZigZag(dt));
  step_ = static_cast<int64_t>(static_cast<uint64_t>(step_) + UnZigZag(ds));
  point.timestamp = timestamp_;
  point.step = step_;
  if ((flags & kNan) != 0) {
    point.value = std::numeric_limits<double>::quiet_NaN();
  } else {
    if (data_.size() - pos_ < 8) return Fail("truncated value");
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) {
      bits |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
    }
    pos_ += 8;
    point.value = std::bit_cast<double>(bits);
  }
  point.model_id.reset();
  point.dataset_name.reset();
  point.dataset_digest.reset();
  if ((flags & kModelId) != 0 && !ReadString(point.model_id)) return false;
  if ((flags & kDatasetName) != 0 && !ReadString(point.dataset_name)) return false;
  if ((flags & kDatasetDigest) != 0 && !ReadString(point.dataset_digest)) return false;
  ++read_;
  return true;
}

}  // namespace cairn::metadata
