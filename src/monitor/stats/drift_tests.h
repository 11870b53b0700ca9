#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "monitor/stats/column_values.h"

// The drift statistics on raw samples, each reproducing the Evidently 0.7 stattest (and the
// SciPy 1.17 function it calls) named in its comment. Inputs hold present values only: the
// caller drops missing values (Evidently drops NaN and +-inf before testing). Every function
// requires both samples non-empty; numeric values must be finite except for KS. Pure and
// thread-safe.
namespace cairn::monitor {

struct TestResult {
  double statistic = 0;
  double p_value = 0;
};

// scipy.stats.ks_2samp(a, b) with method='auto', two-sided: D = sup |F_a - F_b| over all
// values (ties handled by right-continuous ECDFs); the exact p-value when max(n, m) <= 10000,
// else kstwo.sf(D, round(n m / (n + m))). Where the exact computation fails SciPy warns and
// falls back to the asymptotic distribution; so does this. On the exact path the statistic is
// the lattice value SciPy returns (round(D lcm) / lcm).
TestResult KsTwoSample(std::span<const double> a, std::span<const double> b);
// The same on samples already sorted ascending (no copy, no allocation for n == m).
TestResult KsTwoSampleSorted(std::span<const double> a, std::span<const double> b);

// Evidently's "wasserstein": scipy.stats.wasserstein_distance(ref, cur) divided by
// max(np.std(ref) (ddof = 0), 0.001).
double WassersteinNormed(std::span<const double> reference, std::span<const double> current);
double WassersteinNormedSorted(std::span<const double> reference, std::span<const double> current);

// Counts of each distinct value of the union of the two samples (pandas value_counts over
// Evidently's key set). `smallest` indexes the smallest key (numeric order, or byte order for
// strings), which the Z-test treats as the "0" category.
struct ValueCounts {
  std::vector<double> reference;  // count of each key in the reference sample
  std::vector<double> current;
  size_t smallest = 0;
  size_t reference_size = 0;
  size_t current_size = 0;
  size_t reference_distinct = 0;  // keys with a non-zero reference count
  size_t current_distinct = 0;

  size_t size() const { return reference.size(); }
};
ValueCounts CountValuesSorted(std::span<const double> reference, std::span<const double> current);
ValueCounts CountCategories(std::span<const std::string> reference,
                            std::span<const std::string> current);
// Dispatches on the kind; numeric values are sorted into a copy first.
ValueCounts CountValues(const ColumnValues& reference, const ColumnValues& current);

// Evidently's "chisquare": scipy.stats.chisquare(f_obs = current counts, f_exp = reference
// counts * n_cur / n_ref) over the union of values; dof = keys - 1. A key seen only in the
// current sample has an expected count of 0, making the statistic infinite and p = 0.
TestResult ChiSquareGof(const ValueCounts& counts);

// Evidently's "z": two-proportion Z-test of "not the smallest key" between the samples,
// p = 2 (1 - Phi(|z|)); p = 1 when both samples hold the same single value.
TestResult ZTestProportions(const ValueCounts& counts);

// Evidently's get_binned_data: bin shares of the reference and current samples. A numeric
// column with more than 20 distinct reference values gets numpy's Sturges edges over both
// samples together (last bin closed); any other column one bin per value of the union. With
// fill_zeroes, zero shares become 1e-4, or min non-zero share / 1e6 when that share is
// <= 1e-4 (per sample).
struct BinnedShares {
  std::vector<double> reference;
  std::vector<double> current;
};
BinnedShares GetBinnedData(const ColumnValues& reference, const ColumnValues& current,
                           bool fill_zeroes);
// Numeric samples already sorted ascending.
BinnedShares GetBinnedDataSorted(std::span<const double> reference, std::span<const double> current,
                                 bool fill_zeroes);
// One bin per key of `counts` (the categorical path).
BinnedShares SharesFromCounts(const ValueCounts& counts, bool fill_zeroes);
size_t CountDistinctSorted(std::span<const double> sorted);

// Evidently's "psi" on shares binned with fill_zeroes: sum (r - c) ln(r / c).
double Psi(const BinnedShares& shares);
// Evidently's "kl_div" on shares binned with fill_zeroes: scipy.stats.entropy(r, c), which
// renormalises both to sum 1; natural log.
double KlDivergence(const BinnedShares& shares);
// Evidently's "jensenshannon" on shares binned without fill_zeroes:
// scipy.spatial.distance.jensenshannon(r, c), the square root of the natural-log divergence.
double JensenShannon(const BinnedShares& shares);

// Conveniences that bin as Evidently does for each test.
TestResult ChiSquareGof(const ColumnValues& reference, const ColumnValues& current);
TestResult ZTestProportions(const ColumnValues& reference, const ColumnValues& current);
double Psi(const ColumnValues& reference, const ColumnValues& current);
double KlDivergence(const ColumnValues& reference, const ColumnValues& current);
double JensenShannon(const ColumnValues& reference, const ColumnValues& current);

}  // namespace cairn::monitor
