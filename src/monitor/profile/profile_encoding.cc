// EncodeProfile, DecodeProfile and ProfileSummaryJson (declared in reference_profile.h).

#include <array>
#include <bit>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <cstring>
#include <utility>

#include "base/json.h"
#include "monitor/profile/reference_profile.h"

namespace cairn::monitor {
namespace {

constexpr std::string_view kMagic = "CRPF";
constexpr uint32_t kFormatVersion = 1;

// How doubles are written: API JSON numbers (non-finite as proto3 strings), or, in the storage
// header, strings in shortest round-trip form (Boost.JSON 1.81 does not parse every double back
// to the same bits; std::from_chars does).
enum class DoubleStyle { kApi, kStorage };

boost::json::value Double(double v, DoubleStyle style) {
  if (style == DoubleStyle::kApi) return json::DoubleValue(v);
  std::array<char, 32> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  (void)ec;  // 32 bytes hold any double
  return boost::json::string(std::string_view(buf.data(), static_cast<size_t>(end - buf.data())));
}

boost::json::array Doubles(const std::vector<double>& values, DoubleStyle style) {
  boost::json::array out;
  out.reserve(values.size());
  for (double v : values) out.push_back(Double(v, style));
  return out;
}

std::string_view KindName(FeatureKind kind) {
  return kind == FeatureKind::kCategorical ? "categorical" : "numeric";
}

boost::json::object FeatureJson(const FeatureProfile& f, DoubleStyle style) {
  boost::json::object o;
  o["name"] = f.name;
  o["kind"] = KindName(f.kind);
  o["count"] = f.count;
  o["missing"] = f.missing;
  o["missing_rate"] = Double(f.missing_rate, style);
  if (f.kind == FeatureKind::kNumeric) {
    o["infinite"] = f.infinite;
    o["min"] = Double(f.min, style);
    o["max"] = Double(f.max, style);
    o["mean"] = Double(f.mean, style);
    o["std"] = Double(f.std, style);
    o["quantiles"] = Doubles(f.quantiles, style);
    boost::json::object histogram;
    histogram["edges"] = Doubles(f.histogram_edges, style);
    boost::json::array counts;
    for (int64_t c : f.histogram_counts) counts.push_back(c);
    histogram["counts"] = std::move(counts);
    o["histogram"] = std::move(histogram);
  } else {
    o["n_unique"] = f.n_unique;
    boost::json::array top;
    top.reserve(f.top_categories.size());
    for (const CategoryCount& c : f.top_categories) {
      top.push_back(boost::json::object{{"value", c.value}, {"count", c.count}});
    }
    o["top_categories"] = std::move(top);
    o["other_count"] = f.other_count;
  }
  o["sample_size"] = static_cast<int64_t>(f.sample.size());
  o["sample_missing"] = f.sample.missing;
  return o;
}

boost::json::object ProfileJson(const ReferenceProfile& p, DoubleStyle style) {
  boost::json::object o;
  o["version"] = p.version;
  o["created_ms"] = p.created_ms;
  o["source"] = p.source;
  o["source_detail"] = p.source_detail;
  o["row_count"] = p.row_count;
  boost::json::array features;
  features.reserve(p.features.size());
  for (const FeatureProfile& f : p.features) features.push_back(FeatureJson(f, style));
  o["features"] = std::move(features);
  return o;
}

void PutU32(std::string& out, uint32_t v) {
  std::array<char, 4> bytes{};
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out.append(bytes.data(), bytes.size());
}
void PutU64(std::string& out, uint64_t v) {
  std::array<char, 8> bytes{};
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out.append(bytes.data(), bytes.size());
}

uint64_t Fnv1a(std::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// Bounds-checked little-endian reads over untrusted bytes.
class ByteReader {
 public:
  explicit ByteReader(std::string_view data) : data_(data) {}
  size_t remaining() const { return data_.size() - pos_; }
  bool ReadU32(uint32_t& v) {
    if (remaining() < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i)
      v |= uint32_t{static_cast<unsigned char>(data_[pos_ + i])} << (8 * i);
    pos_ += 4;
    return true;
  }
  bool ReadU64(uint64_t& v) {
    if (remaining() < 8) return false;
    v = 0;
    for (int i = 0; i < 8; ++i)
      v |= uint64_t{static_cast<unsigned char>(data_[pos_ + i])} << (8 * i);
    pos_ += 8;
    return true;
  }
  bool ReadBytes(size_t n, std::string_view& out) {
    if (remaining() < n) return false;
    out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

Status Corrupt(std::string_view what) {
  return InvalidArgument("corrupt reference profile: " + std::string(what));
}

StatusOr<int64_t> RequireInt64(const boost::json::object& o, std::string_view key) {
  ASSIGN_OR_RETURN(std::optional<int64_t> v, json::GetInt64(o, key));
  if (!v.has_value()) return Corrupt("missing '" + std::string(key) + "'");
  return *v;
}

StatusOr<int64_t> RequireCount(const boost::json::object& o, std::string_view key) {
  ASSIGN_OR_RETURN(int64_t v, RequireInt64(o, key));
  if (v < 0) return Corrupt("negative '" + std::string(key) + "'");
  return v;
}

StatusOr<std::string> RequireString(const boost::json::object& o, std::string_view key) {
  ASSIGN_OR_RETURN(std::optional<std::string> v, json::GetString(o, key));
  if (!v.has_value()) return Corrupt("missing '" + std::string(key) + "'");
  return std::move(*v);
}

StatusOr<double> StorageDouble(const boost::json::value& v) {
  const boost::json::string* s = v.if_string();
  if (s == nullptr) return Corrupt("a double is not a string");
  double out = 0;
  auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), out);
  if (ec != std::errc() || end != s->data() + s->size()) return Corrupt("bad double");
  return out;
}

StatusOr<double> RequireDouble(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  if (v == nullptr) return Corrupt("missing '" + std::string(key) + "'");
  return StorageDouble(*v);
}

StatusOr<const boost::json::array*> RequireArray(const boost::json::object& o,
                                                 std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_array()) return Corrupt("'" + std::string(key) + "' is no array");
  return &v->get_array();
}

StatusOr<std::vector<double>> RequireDoubles(const boost::json::object& o, std::string_view key) {
  ASSIGN_OR_RETURN(const boost::json::array* a, RequireArray(o, key));
  std::vector<double> out;
  out.reserve(a->size());
  for (const boost::json::value& v : *a) {
    ASSIGN_OR_RETURN(double d, StorageDouble(v));
    out.push_back(d);
  }
  return out;
}

StatusOr<FeatureProfile> DecodeFeature(const boost::json::object& o) {
  FeatureProfile f;
  ASSIGN_OR_RETURN(f.name, RequireString(o, "name"));
  ASSIGN_OR_RETURN(std::string kind, RequireString(o, "kind"));
  if (kind == "numeric") {
    f.kind = FeatureKind::kNumeric;
  } else if (kind == "categorical") {
    f.kind = FeatureKind::kCategorical;
  } else {
    return Corrupt("unknown kind");
  }
  ASSIGN_OR_RETURN(f.count, RequireCount(o, "count"));
  ASSIGN_OR_RETURN(f.missing, RequireCount(o, "missing"));
  ASSIGN_OR_RETURN(f.missing_rate, RequireDouble(o, "missing_rate"));
  f.sample.kind = f.kind;
  ASSIGN_OR_RETURN(f.sample.missing, RequireCount(o, "sample_missing"));
  if (f.kind == FeatureKind::kNumeric) {
    ASSIGN_OR_RETURN(f.infinite, RequireCount(o, "infinite"));
    ASSIGN_OR_RETURN(f.min, RequireDouble(o, "min"));
    ASSIGN_OR_RETURN(f.max, RequireDouble(o, "max"));
    ASSIGN_OR_RETURN(f.mean, RequireDouble(o, "mean"));
    ASSIGN_OR_RETURN(f.std, RequireDouble(o, "std"));
    ASSIGN_OR_RETURN(f.quantiles, RequireDoubles(o, "quantiles"));
    if (!f.quantiles.empty() && f.quantiles.size() != kQuantileCount) {
      return Corrupt("wrong number of quantiles");
    }
    const boost::json::value* h = o.if_contains("histogram");
    if (h == nullptr || !h->is_object()) return Corrupt("'histogram' is no object");
    ASSIGN_OR_RETURN(f.histogram_edges, RequireDoubles(h->get_object(), "edges"));
    ASSIGN_OR_RETURN(const boost::json::array* counts, RequireArray(h->get_object(), "counts"));
    for (const boost::json::value& c : *counts) {
      ASSIGN_OR_RETURN(int64_t n, json::AsInt64(c, "histogram count"));
      f.histogram_counts.push_back(n);
    }
    const bool empty = f.histogram_edges.empty() && f.histogram_counts.empty();
    if (!empty && f.histogram_edges.size() != f.histogram_counts.size() + 1) {
      return Corrupt("histogram edges and counts disagree");
    }
  } else {
    ASSIGN_OR_RETURN(f.n_unique, RequireCount(o, "n_unique"));
    ASSIGN_OR_RETURN(f.other_count, RequireCount(o, "other_count"));
    ASSIGN_OR_RETURN(const boost::json::array* top, RequireArray(o, "top_categories"));
    for (const boost::json::value& v : *top) {
      if (!v.is_object()) return Corrupt("a top category is no object");
      CategoryCount c;
      ASSIGN_OR_RETURN(c.value, RequireString(v.get_object(), "value"));
      ASSIGN_OR_RETURN(c.count, RequireCount(v.get_object(), "count"));
      f.top_categories.push_back(std::move(c));
    }
  }
  return f;
}

Status DecodeSample(ByteReader& in, int64_t declared_size, ColumnValues& sample) {
  uint64_t n = 0;
  if (!in.ReadU64(n)) return Corrupt("truncated sample");
  if (n != static_cast<uint64_t>(declared_size)) return Corrupt("sample size mismatch");
  if (sample.kind == FeatureKind::kNumeric) {
    if (n > in.remaining() / 8) return Corrupt("truncated sample");
    sample.numbers.resize(n);
    for (double& v : sample.numbers) {
      uint64_t bits = 0;
      if (!in.ReadU64(bits)) return Corrupt("truncated sample");
      v = std::bit_cast<double>(bits);
      if (std::isnan(v)) return Corrupt("NaN in a sample");
    }
    return Status::Ok();
  }
  // Each string takes at least its 4-byte length.
  if (n > in.remaining() / 4) return Corrupt("truncated sample");
  sample.strings.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    uint32_t length = 0;
    std::string_view bytes;
    if (!in.ReadU32(length) || !in.ReadBytes(length, bytes)) return Corrupt("truncated sample");
    sample.strings.emplace_back(bytes);
  }
  return Status::Ok();
}

}  // namespace

std::string EncodeProfile(const ReferenceProfile& profile) {
  const std::string header = json::Serialize(ProfileJson(profile, DoubleStyle::kStorage));
  size_t size = kMagic.size() + 8 + header.size() + 8;
  for (const FeatureProfile& f : profile.features) {
    size += 8 + 8 * f.sample.numbers.size() + 4 * f.sample.strings.size();
    for (const std::string& s : f.sample.strings) size += s.size();
  }
  std::string out;
  out.reserve(size);
  out.append(kMagic);
  PutU32(out, kFormatVersion);
  PutU32(out, static_cast<uint32_t>(header.size()));
  out.append(header);
  for (const FeatureProfile& f : profile.features) {
    PutU64(out, f.sample.size());
    if (f.kind == FeatureKind::kNumeric) {
      for (double v : f.sample.numbers) PutU64(out, std::bit_cast<uint64_t>(v));
    } else {
      for (const std::string& s : f.sample.strings) {
        PutU32(out, static_cast<uint32_t>(s.size()));
        out.append(s);
      }
    }
  }
  PutU64(out, Fnv1a(out));
  return out;
}

StatusOr<ReferenceProfile> DecodeProfile(std::string_view bytes) {
  if (bytes.size() < kMagic.size() + 4 + 4 + 8 || !bytes.starts_with(kMagic)) {
    return Corrupt("not a reference profile");
  }
  ByteReader tail(bytes.substr(bytes.size() - 8));
  uint64_t hash = 0;
  if (!tail.ReadU64(hash)) return Corrupt("truncated");
  const std::string_view body = bytes.substr(0, bytes.size() - 8);
  if (hash != Fnv1a(body)) return Corrupt("checksum mismatch");

  ByteReader in(body.substr(kMagic.size()));
  uint32_t format_version = 0;
  uint32_t header_size = 0;
  if (!in.ReadU32(format_version) || !in.ReadU32(header_size)) return Corrupt("truncated");
  if (format_version != kFormatVersion) {
    return InvalidArgument("reference profile format version " + std::to_string(format_version) +
                           " is not supported (expected " + std::to_string(kFormatVersion) + ")");
  }
  std::string_view header_text;
  if (!in.ReadBytes(header_size, header_text)) return Corrupt("truncated header");
  boost::system::error_code ec;
  boost::json::parse_options parse_options;
  parse_options.max_depth = 8;
  const boost::json::value parsed = boost::json::parse(header_text, ec, {}, parse_options);
  if (ec || !parsed.is_object()) return Corrupt("header is not a JSON object");
  const boost::json::object& header = parsed.get_object();

  ReferenceProfile profile;
  ASSIGN_OR_RETURN(profile.version, RequireInt64(header, "version"));
  ASSIGN_OR_RETURN(profile.created_ms, RequireInt64(header, "created_ms"));
  ASSIGN_OR_RETURN(profile.source, RequireString(header, "source"));
  ASSIGN_OR_RETURN(profile.source_detail, RequireString(header, "source_detail"));
  ASSIGN_OR_RETURN(profile.row_count, RequireCount(header, "row_count"));
  ASSIGN_OR_RETURN(const boost::json::array* features, RequireArray(header, "features"));
  for (const boost::json::value& v : *features) {
    if (!v.is_object()) return Corrupt("a feature is no object");
    ASSIGN_OR_RETURN(FeatureProfile feature, DecodeFeature(v.get_object()));
    ASSIGN_OR_RETURN(int64_t sample_size, RequireCount(v.get_object(), "sample_size"));
    RETURN_IF_ERROR(DecodeSample(in, sample_size, feature.sample));
    profile.features.push_back(std::move(feature));
  }
  if (in.remaining() != 0) return Corrupt("trailing bytes");
  return profile;
}

std::string ProfileSummaryJson(const ReferenceProfile& profile) {
  boost::json::object o = ProfileJson(profile, DoubleStyle::kApi);
  boost::json::array levels;
  for (double q : QuantileLevels()) levels.push_back(q);
  o["quantile_levels"] = std::move(levels);
  return json::Serialize(o);
}

}  // namespace cairn::monitor
