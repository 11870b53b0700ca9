#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "monitor/profile/table_reader.h"
#include "monitor/stats/column_values.h"

namespace cairn::monitor {

// FeatureProfile::quantiles are taken at these levels: 0, 0.05, ..., 1 (numpy.linspace(0, 1,
// 21)).
inline constexpr size_t kQuantileCount = 21;
std::array<double, kQuantileCount> QuantileLevels();

struct CategoryCount {
  std::string value;
  int64_t count = 0;
};

// The summary of one feature of a reference dataset, plus the sample of raw values the drift
// tests compare live windows with.
struct FeatureProfile {
  std::string name;
  FeatureKind kind = FeatureKind::kNumeric;
  int64_t count = 0;          // present values
  int64_t missing = 0;        // null, NaN or empty
  double missing_rate = 0.0;  // missing / (count + missing); 0 when both are 0

  // kNumeric. min and max are over every present value, so they may be infinite; the rest are
  // over the finite values only (numpy would give NaN or refuse). Statistics that do not exist
  // (no finite values; std of fewer than 2) are NaN.
  int64_t infinite = 0;
  double min = 0.0;
  double max = 0.0;
  double mean = 0.0;
  double std = 0.0;  // ddof = 1, as pandas' Series.std
  // numpy.quantile(..., method="linear") at QuantileLevels(); empty when no finite values.
  std::vector<double> quantiles;
  // numpy.histogram(values, bins="sturges"): edges.size() == counts.size() + 1, both empty when
  // no finite values.
  std::vector<double> histogram_edges;
  std::vector<int64_t> histogram_counts;

  // kCategorical: distinct values, the most frequent (count descending, then value ascending)
  // up to ProfileOptions::max_categories, and the count of every value not listed.
  int64_t n_unique = 0;
  std::vector<CategoryCount> top_categories;
  int64_t other_count = 0;

  // The present values (all of them up to ProfileOptions::sample_cap, else a uniform sample of
  // sample_cap of them). sample.missing is the missing count scaled to the sample, so that the
  // sample's missing rate is the feature's.
  ColumnValues sample;
};

struct ReferenceProfile {
  int64_t version = 0;     // set by the store
  int64_t created_ms = 0;  // set by the caller
  std::string source;      // "upload", "run_artifact" or "predictions"
  std::string source_detail;
  int64_t row_count = 0;
  std::vector<FeatureProfile> features;
};

struct ProfileOptions {
  size_t sample_cap = 100'000;
  size_t max_categories = 1000;
  // Seeds the reservoir sampling (mixed with each feature's name), so that the same data gives
  // the same sample.
  uint64_t seed = 0x5eed'cafe'f00d'0001;
};

// Summarises each column. The columns are consumed (their values become the samples). Returns
// INVALID_ARGUMENT when two columns share a name or columns differ in their row counts (present
// plus missing). NaN in a numeric column counts as missing. version, created_ms and the source
// fields are left for the caller.
StatusOr<ReferenceProfile> BuildProfile(std::vector<NamedColumn> columns,
                                        const ProfileOptions& options = {});

// The storage form of a profile, for a database BLOB:
//   "CRPF", u32 format version (1), u32 header length, the header (JSON: every field but the
//   samples; doubles as strings in shortest round-trip form), then per feature its sample
//   (numeric: u64 count then little-endian IEEE doubles; categorical: u64 count then each value
//   as a u32 length and its bytes), then the FNV-1a 64 hash of all preceding bytes.
// All integers little-endian. Encoding then decoding gives back an equal profile, bit for bit.
std::string EncodeProfile(const ReferenceProfile& profile);

// Decodes EncodeProfile's output. Any other input (truncated, corrupted, another format
// version) gives INVALID_ARGUMENT; never crashes and never allocates more than a small multiple
// of the input size.
StatusOr<ReferenceProfile> DecodeProfile(std::string_view bytes);

// The profile as API JSON: every field but the sample values (sample_size and sample_missing
// instead), plus "quantile_levels". Finite doubles are JSON numbers; infinities and NaN are the
// strings "Infinity", "-Infinity" and "NaN" (proto3 JSON's spelling, as json::DoubleValue).
std::string ProfileSummaryJson(const ReferenceProfile& profile);

}  // namespace cairn::monitor
