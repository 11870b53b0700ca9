#include "monitor/profile/reference_profile.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <unordered_map>
#include <utility>

namespace cairn::monitor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Bounds the histogram of a pathological column; Sturges gives about log2(n) + 1 bins.
constexpr size_t kMaxHistogramBins = 4096;

// Compensated (Neumaier) summation: within an ulp or two of the exact sum, so it agrees with
// numpy's pairwise sum to far better than 1e-12 relative.
class Sum {
 public:
  void Add(double x) {
    const double t = sum_ + x;
    if (std::abs(sum_) >= std::abs(x)) {
      compensation_ += (sum_ - t) + x;
    } else {
      compensation_ += (x - t) + sum_;
    }
    sum_ = t;
  }
  double value() const { return sum_ + compensation_; }

 private:
  double sum_ = 0.0;
  double compensation_ = 0.0;
};

// numpy.quantile(sorted, q, method="linear"), including numpy's two-sided lerp.
double Quantile(const std::vector<double>& sorted, double q) {
  const size_t n = sorted.size();
  const double virtual_index = static_cast<double>(n - 1) * q;
  double previous = std::floor(virtual_index);
  const double gamma = virtual_index - previous;
  previous = std::clamp(previous, 0.0, static_cast<double>(n - 1));
  const auto lo = static_cast<size_t>(previous);
  const size_t hi = std::min(lo + 1, n - 1);
  const double a = sorted[lo];
  const double b = sorted[hi];
  const double diff = b - a;
  return gamma >= 0.5 ? b - diff * (1.0 - gamma) : a + diff * gamma;
}

// numpy.histogram(sorted, bins="sturges") over finite sorted values.
void SturgesHistogram(const std::vector<double>& sorted, FeatureProfile& feature) {
  const size_t n = sorted.size();
  double first = sorted.front();
  double last = sorted.back();
  const double ptp = last - first;
  if (first == last) {
    first -= 0.5;
    last += 0.5;
  }
  const double delta = last - first;
  const double width = ptp / (std::log2(static_cast<double>(n)) + 1.0);
  size_t bins = 1;
  if (width != 0.0) {
    const double ratio = std::ceil(delta / width);
    // numpy raises when the range overflows; fall back to Sturges' bin count then.
    bins = std::isfinite(ratio)
               ? static_cast<size_t>(std::min(ratio, static_cast<double>(kMaxHistogramBins)))
               : static_cast<size_t>(std::log2(static_cast<double>(n)) + 1.0);
    bins = std::max<size_t>(bins, 1);
  }
  // numpy.linspace(first, last, bins + 1).
  std::vector<double>& edges = feature.histogram_edges;
  edges.resize(bins + 1);
  const double div = static_cast<double>(bins);
  const double step = std::isfinite(delta) ? delta / div : last / div - first / div;
  for (size_t i = 0; i < bins; ++i) {
    const double y = static_cast<double>(i);
    edges[i] = (step == 0.0 ? (y / div) * delta : y * step) + first;
  }
  edges[bins] = last;

  std::vector<int64_t>& counts = feature.histogram_counts;
  counts.assign(bins, 0);
  const double norm_denom = delta;
  if (!std::isfinite(norm_denom)) {
    for (double x : sorted) {
      const auto it = std::upper_bound(edges.begin(), edges.end(), x);
      const size_t index =
          std::min<size_t>(std::max<ptrdiff_t>(it - edges.begin() - 1, 0), bins - 1);
      ++counts[index];
    }
    return;
  }
  for (double x : sorted) {
    // numpy's fast path for equal bins, with its corrections near the edges.
    auto index = static_cast<ptrdiff_t>(((x - first) / norm_denom) * div);
    const auto nbins = static_cast<ptrdiff_t>(bins);
    index = std::clamp<ptrdiff_t>(index, 0, nbins);
    if (index == nbins) --index;
    if (index > 0 && x < edges[index]) --index;
    if (index != nbins - 1 && x >= edges[index + 1]) ++index;
    ++counts[index];
  }
}

uint64_t Fnv1a(std::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Keeps a uniform sample of `cap` of `values` (Algorithm R), in place.
template <typename T>
void Reservoir(std::vector<T>& values, size_t cap, uint64_t seed) {
  if (values.size() <= cap) return;
  uint64_t state = seed;
  for (size_t i = cap; i < values.size(); ++i) {
    // A uniform index in [0, i] by multiply-shift (Lemire), independent of the platform.
    const auto j =
        static_cast<size_t>((static_cast<unsigned __int128>(SplitMix64(state)) * (i + 1)) >> 64);
    if (j < cap) values[j] = std::move(values[i]);
  }
  values.resize(cap);
  values.shrink_to_fit();
}

void ProfileNumeric(ColumnValues& values, FeatureProfile& feature) {
  std::vector<double> present;
  present.reserve(values.numbers.size());
  for (double x : values.numbers) {
    if (std::isnan(x)) {
      ++feature.missing;
    } else {
      present.push_back(x);
    }
  }
  values.numbers = std::move(present);
  feature.count = static_cast<int64_t>(values.numbers.size());
  std::vector<double> finite;
  finite.reserve(values.numbers.size());
  for (double x : values.numbers) {
    if (std::isfinite(x)) finite.push_back(x);
  }
  feature.infinite = feature.count - static_cast<int64_t>(finite.size());
  feature.min = feature.max = feature.mean = feature.std = kNaN;
  if (!values.numbers.empty()) {
    const auto [lo, hi] = std::minmax_element(values.numbers.begin(), values.numbers.end());
    feature.min = *lo;
    feature.max = *hi;
  }
  if (finite.empty()) return;
  Sum sum;
  for (double x : finite) sum.Add(x);
  const auto n = static_cast<double>(finite.size());
  feature.mean = sum.value() / n;
  if (finite.size() > 1) {
    Sum squares;
    for (double x : finite) squares.Add((x - feature.mean) * (x - feature.mean));
    feature.std = std::sqrt(squares.value() / (n - 1.0));
  }
  std::sort(finite.begin(), finite.end());
  for (double q : QuantileLevels()) feature.quantiles.push_back(Quantile(finite, q));
  SturgesHistogram(finite, feature);
}

void ProfileCategorical(const ColumnValues& values, size_t max_categories,
                        FeatureProfile& feature) {
  feature.count = static_cast<int64_t>(values.strings.size());
  std::unordered_map<std::string_view, int64_t> counts;
  for (const std::string& s : values.strings) ++counts[s];
  feature.n_unique = static_cast<int64_t>(counts.size());
  std::vector<std::pair<std::string_view, int64_t>> sorted(counts.begin(), counts.end());
  auto more_frequent = [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  };
  const size_t top = std::min(max_categories, sorted.size());
  std::partial_sort(sorted.begin(), sorted.begin() + static_cast<ptrdiff_t>(top), sorted.end(),
                    more_frequent);
  int64_t listed = 0;
  for (size_t i = 0; i < top; ++i) {
    feature.top_categories.push_back({std::string(sorted[i].first), sorted[i].second});
    listed += sorted[i].second;
  }
  feature.other_count = feature.count - listed;
}

}  // namespace

std::array<double, kQuantileCount> QuantileLevels() {
  // numpy.linspace(0, 1, 21): i * (1 / 20), the last exactly 1.
  std::array<double, kQuantileCount> levels{};
  const double step = 1.0 / static_cast<double>(kQuantileCount - 1);
  for (size_t i = 0; i < kQuantileCount; ++i) levels[i] = static_cast<double>(i) * step;
  levels[kQuantileCount - 1] = 1.0;
  return levels;
}

StatusOr<ReferenceProfile> BuildProfile(std::vector<NamedColumn> columns,
                                        const ProfileOptions& options) {
  ReferenceProfile profile;
  std::set<std::string_view> names;
  for (size_t i = 0; i < columns.size(); ++i) {
    const NamedColumn& column = columns[i];
    if (!names.insert(column.name).second) {
      return InvalidArgument("two columns are named '" + column.name + "'");
    }
    const int64_t rows = static_cast<int64_t>(column.values.size()) + column.values.missing;
    if (i == 0) {
      profile.row_count = rows;
    } else if (rows != profile.row_count) {
      return InvalidArgument("column '" + column.name + "' has " + std::to_string(rows) +
                             " rows, column '" + columns[0].name + "' has " +
                             std::to_string(profile.row_count));
    }
  }
  profile.features.reserve(columns.size());
  for (NamedColumn& column : columns) {
    FeatureProfile& feature = profile.features.emplace_back();
    feature.name = std::move(column.name);
    feature.kind = column.values.kind;
    feature.missing = column.values.missing;
    ColumnValues& values = column.values;
    if (feature.kind == FeatureKind::kNumeric) {
      values.strings = {};
      ProfileNumeric(values, feature);
    } else {
      values.numbers = {};
      ProfileCategorical(values, options.max_categories, feature);
    }
    const int64_t total = feature.count + feature.missing;
    feature.missing_rate = total == 0 ? 0.0 : static_cast<double>(feature.missing) / total;

    const uint64_t seed = options.seed ^ Fnv1a(feature.name);
    if (feature.kind == FeatureKind::kNumeric) {
      Reservoir(values.numbers, options.sample_cap, seed);
    } else {
      Reservoir(values.strings, options.sample_cap, seed);
    }
    const auto kept = static_cast<int64_t>(values.size());
    values.missing = kept == feature.count
                         ? feature.missing
                         : std::llround(static_cast<double>(feature.missing) * kept /
                                        static_cast<double>(std::max<int64_t>(feature.count, 1)));
    feature.sample = std::move(values);
  }
  return profile;
}

}  // namespace cairn::monitor
