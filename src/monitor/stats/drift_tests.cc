#include "monitor/stats/drift_tests.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string_view>
#include <unordered_map>

#include "monitor/stats/special_functions.h"

namespace cairn::monitor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<double> SortedCopy(std::span<const double> values) {
  std::vector<double> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

// scipy.special.rel_entr.
double RelEntr(double x, double y) {
  if (std::isnan(x) || std::isnan(y)) return kNaN;
  if (x > 0 && y > 0) return x * std::log(x / y);
  if (x == 0 && y >= 0) return 0;
  return std::numeric_limits<double>::infinity();
}

void FillZeroes(std::vector<double>& shares) {
  double min_nonzero = std::numeric_limits<double>::infinity();
  for (double s : shares) {
    if (s != 0) min_nonzero = std::min(min_nonzero, s);
  }
  const double fill = min_nonzero <= 0.0001 ? min_nonzero / 1000000 : 0.0001;
  for (double& s : shares) {
    if (s == 0) s = fill;
  }
}

std::vector<double> Normalised(std::span<const double> values) {
  const double total = PairwiseSum(values);
  std::vector<double> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) out[i] = values[i] / total;
  return out;
}

// np.histogram counts for ascending `edges` over sorted data: [e_i, e_i+1), last bin closed.
void HistogramSorted(std::span<const double> sorted, std::span<const double> edges,
                     std::vector<double>& shares) {
  const size_t bins = edges.size() - 1;
  shares.assign(bins, 0.0);
  size_t prev = std::lower_bound(sorted.begin(), sorted.end(), edges[0]) - sorted.begin();
  for (size_t i = 1; i <= bins; ++i) {
    const auto it = i == bins ? std::upper_bound(sorted.begin(), sorted.end(), edges[i])
                              : std::lower_bound(sorted.begin(), sorted.end(), edges[i]);
    const size_t cum = it - sorted.begin();
    shares[i - 1] = static_cast<double>(cum - prev) / static_cast<double>(sorted.size());
    prev = cum;
  }
}

}  // namespace

TestResult KsTwoSample(std::span<const double> a, std::span<const double> b) {
  const std::vector<double> sa = SortedCopy(a);
  const std::vector<double> sb = SortedCopy(b);
  return KsTwoSampleSorted(sa, sb);
}

TestResult KsTwoSampleSorted(std::span<const double> a, std::span<const double> b) {
  const int64_t n1 = static_cast<int64_t>(a.size());
  const int64_t n2 = static_cast<int64_t>(b.size());
  // cddiffs = searchsorted(a, x, 'right') / n1 - searchsorted(b, x, 'right') / n2 over every
  // x of both samples; only the last occurrence of each distinct value matters.
  double max_diff = -std::numeric_limits<double>::infinity();
  double min_diff = std::numeric_limits<double>::infinity();
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    double x;
    if (j == b.size() || (i < a.size() && a[i] <= b[j])) {
      x = a[i];
    } else {
      x = b[j];
    }
    while (i < a.size() && a[i] <= x) ++i;
    while (j < b.size() && b[j] <= x) ++j;
    const double diff = static_cast<double>(i) / static_cast<double>(n1) -
                        static_cast<double>(j) / static_cast<double>(n2);
    max_diff = std::max(max_diff, diff);
    min_diff = std::min(min_diff, diff);
  }
  const double min_s = std::clamp(-min_diff, 0.0, 1.0);
  double d = min_s > max_diff ? min_s : max_diff;

  double prob = -std::numeric_limits<double>::infinity();
  bool asymptotic = std::max(n1, n2) > 10000;
  if (!asymptotic) {
    const ExactKsResult exact = KsTwoSampleExact(n1, n2, d);
    d = exact.d;
    if (exact.ok) {
      prob = exact.p_value;
    } else {
      asymptotic = true;  // SciPy: "Exact calculation unsuccessful. Switching to method=asymp."
    }
  }
  if (asymptotic) {
    const double m = static_cast<double>(std::max(n1, n2));
    const double n = static_cast<double>(std::min(n1, n2));
    const double en = m * n / (m + n);
    prob = KolmogorovNSf(static_cast<int64_t>(std::nearbyint(en)), d);
  }
  return {d, std::clamp(prob, 0.0, 1.0)};
}

double WassersteinNormed(std::span<const double> reference, std::span<const double> current) {
  const std::vector<double> sr = SortedCopy(reference);
  const std::vector<double> sc = SortedCopy(current);
  return WassersteinNormedSorted(sr, sc);
}

double WassersteinNormedSorted(std::span<const double> u, std::span<const double> v) {
  // W1 = integral |U - V| over the merged support; sums in extended precision (SciPy uses a
  // dot product, which agrees to rounding).
  const double nu = static_cast<double>(u.size());
  const double nv = static_cast<double>(v.size());
  long double w = 0;
  size_t i = 0, j = 0;
  double prev = std::min(u.front(), v.front());
  while (i < u.size() || j < v.size()) {
    const double x = (j == v.size() || (i < u.size() && u[i] <= v[j])) ? u[i] : v[j];
    if (x != prev) {
      const double cdf_diff = std::abs(static_cast<double>(i) / nu - static_cast<double>(j) / nv);
      w += static_cast<long double>(cdf_diff) * (x - prev);
      prev = x;
    }
    while (i < u.size() && u[i] <= x) ++i;
    while (j < v.size() && v[j] <= x) ++j;
  }
  // pandas Series.std(ddof=0), two-pass.
  long double sum = 0;
  for (double x : u) sum += x;
  const long double mean = static_cast<double>(sum) / nu;
  long double sq = 0;
  for (double x : u) sq += (mean - x) * (mean - x);
  const double std_ref = std::sqrt(static_cast<double>(sq) / nu);
  return static_cast<double>(w) / std::max(std_ref, 0.001);
}

size_t CountDistinctSorted(std::span<const double> sorted) {
  size_t n = 0;
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (i == 0 || sorted[i] != sorted[i - 1]) ++n;
  }
  return n;
}

ValueCounts CountValuesSorted(std::span<const double> a, std::span<const double> b) {
  ValueCounts counts;
  counts.reference_size = a.size();
  counts.current_size = b.size();
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    const double x = (j == b.size() || (i < a.size() && a[i] <= b[j])) ? a[i] : b[j];
    size_t ci = 0, cj = 0;
    while (i < a.size() && a[i] == x) ++i, ++ci;
    while (j < b.size() && b[j] == x) ++j, ++cj;
    counts.reference.push_back(static_cast<double>(ci));
    counts.current.push_back(static_cast<double>(cj));
    counts.reference_distinct += ci > 0;
    counts.current_distinct += cj > 0;
  }
  counts.smallest = 0;
  return counts;
}

ValueCounts CountCategories(std::span<const std::string> a, std::span<const std::string> b) {
  ValueCounts counts;
  counts.reference_size = a.size();
  counts.current_size = b.size();
  std::unordered_map<std::string_view, size_t> index;
  std::vector<std::string_view> keys;
  auto add = [&](std::string_view key, bool reference) {
    auto [it, inserted] = index.try_emplace(key, keys.size());
    if (inserted) {
      keys.push_back(key);
      counts.reference.push_back(0);
      counts.current.push_back(0);
    }
    (reference ? counts.reference : counts.current)[it->second] += 1;
  };
  for (const std::string& s : a) add(s, true);
  for (const std::string& s : b) add(s, false);
  for (size_t k = 0; k < keys.size(); ++k) {
    counts.reference_distinct += counts.reference[k] > 0;
    counts.current_distinct += counts.current[k] > 0;
    if (keys[k] < keys[counts.smallest]) counts.smallest = k;
  }
  return counts;
}

ValueCounts CountValues(const ColumnValues& reference, const ColumnValues& current) {
  if (reference.kind == FeatureKind::kCategorical) {
    return CountCategories(reference.strings, current.strings);
  }
  return CountValuesSorted(SortedCopy(reference.numbers), SortedCopy(current.numbers));
}

TestResult ChiSquareGof(const ValueCounts& counts) {
  const double k_norm =
      static_cast<double>(counts.current_size) / static_cast<double>(counts.reference_size);
  std::vector<double> terms(counts.size());
  for (size_t k = 0; k < counts.size(); ++k) {
    const double expected = counts.reference[k] * k_norm;
    const double diff = counts.current[k] - expected;
    terms[k] = diff * diff / expected;
  }
  const double stat = PairwiseSum(terms);
  return {stat, ChiSquaredSf(stat, static_cast<double>(counts.size()) - 1)};
}

TestResult ZTestProportions(const ValueCounts& counts) {
  if (counts.reference_distinct == 1 && counts.current_distinct == 1 && counts.size() == 1) {
    return {0.0, 1.0};
  }
  const double n1 = static_cast<double>(counts.reference_size);
  const double n2 = static_cast<double>(counts.current_size);
  const double p1 = (n1 - counts.reference[counts.smallest]) / n1;
  const double p2 = (n2 - counts.current[counts.smallest]) / n2;
  const double pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
  const double z = (p1 - p2) / std::sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2));
  return {z, 2 * (1 - NormalCdf(std::abs(z)))};
}

BinnedShares SharesFromCounts(const ValueCounts& counts, bool fill_zeroes) {
  BinnedShares shares;
  shares.reference.resize(counts.size());
  shares.current.resize(counts.size());
  const double n1 = static_cast<double>(counts.reference_size);
  const double n2 = static_cast<double>(counts.current_size);
  for (size_t k = 0; k < counts.size(); ++k) {
    shares.reference[k] = counts.reference[k] / n1;
    shares.current[k] = counts.current[k] / n2;
  }
  if (fill_zeroes) {
    FillZeroes(shares.reference);
    FillZeroes(shares.current);
  }
  return shares;
}

BinnedShares GetBinnedDataSorted(std::span<const double> a, std::span<const double> b,
                                 bool fill_zeroes) {
  if (CountDistinctSorted(a) <= 20) return SharesFromCounts(CountValuesSorted(a, b), fill_zeroes);
  // np.histogram_bin_edges(concat(a, b), "sturges"), then np.linspace.
  const double first = std::min(a.front(), b.front());
  const double last = std::max(a.back(), b.back());
  const double ptp = last - first;
  const double width = ptp / (std::log2(static_cast<double>(a.size() + b.size())) + 1.0);
  const int64_t n_bins = width != 0 ? static_cast<int64_t>(std::ceil(ptp / width)) : 1;
  std::vector<double> edges(n_bins + 1);
  const double step = ptp / static_cast<double>(n_bins);
  for (int64_t i = 0; i <= n_bins; ++i) edges[i] = static_cast<double>(i) * step + first;
  edges[n_bins] = last;
  BinnedShares shares;
  HistogramSorted(a, edges, shares.reference);
  HistogramSorted(b, edges, shares.current);
  if (fill_zeroes) {
    FillZeroes(shares.reference);
    FillZeroes(shares.current);
  }
  return shares;
}

BinnedShares GetBinnedData(const ColumnValues& reference, const ColumnValues& current,
                           bool fill_zeroes) {
  if (reference.kind == FeatureKind::kCategorical) {
    return SharesFromCounts(CountCategories(reference.strings, current.strings), fill_zeroes);
  }
  return GetBinnedDataSorted(SortedCopy(reference.numbers), SortedCopy(current.numbers),
                             fill_zeroes);
}

double Psi(const BinnedShares& shares) {
  std::vector<double> terms(shares.reference.size());
  for (size_t k = 0; k < terms.size(); ++k) {
    const double r = shares.reference[k], c = shares.current[k];
    terms[k] = (r - c) * std::log(r / c);
  }
  return PairwiseSum(terms);
}

double KlDivergence(const BinnedShares& shares) {
  const std::vector<double> p = Normalised(shares.reference);
  const std::vector<double> q = Normalised(shares.current);
  std::vector<double> terms(p.size());
  for (size_t k = 0; k < p.size(); ++k) terms[k] = RelEntr(p[k], q[k]);
  return PairwiseSum(terms);
}

double JensenShannon(const BinnedShares& shares) {
  const std::vector<double> p = Normalised(shares.reference);
  const std::vector<double> q = Normalised(shares.current);
  std::vector<double> left(p.size()), right(p.size());
  for (size_t k = 0; k < p.size(); ++k) {
    const double m = (p[k] + q[k]) / 2.0;
    left[k] = RelEntr(p[k], m);
    right[k] = RelEntr(q[k], m);
  }
  const double js = PairwiseSum(left) + PairwiseSum(right);
  return std::sqrt(js / 2.0);
}

TestResult ChiSquareGof(const ColumnValues& reference, const ColumnValues& current) {
  return ChiSquareGof(CountValues(reference, current));
}

TestResult ZTestProportions(const ColumnValues& reference, const ColumnValues& current) {
  return ZTestProportions(CountValues(reference, current));
}

double Psi(const ColumnValues& reference, const ColumnValues& current) {
  return Psi(GetBinnedData(reference, current, true));
}

double KlDivergence(const ColumnValues& reference, const ColumnValues& current) {
  return KlDivergence(GetBinnedData(reference, current, true));
}

double JensenShannon(const ColumnValues& reference, const ColumnValues& current) {
  return JensenShannon(GetBinnedData(reference, current, false));
}

}  // namespace cairn::monitor
