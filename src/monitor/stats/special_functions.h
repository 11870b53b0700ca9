#pragma once

#include <cstdint>
#include <span>

// Special functions behind the drift tests, each reproducing the SciPy 1.17 function named in
// its comment (same branches, same order of floating-point operations where that matters), so
// that p-values agree with SciPy and Evidently to about 1e-12 relative. All are pure and
// thread-safe; none allocates except the two-sample KS paths, which use O(n) scratch.
namespace cairn::monitor {

// scipy.special.ndtr: the standard normal CDF, with cephes' split between erf and erfc.
double NormalCdf(double x);

// scipy.stats.norm.sf: 1 - NormalCdf(x) without cancellation (= NormalCdf(-x)).
double NormalSf(double x);

// scipy.stats.chi2.sf(x, dof) = scipy.special.chdtrc: the regularized upper incomplete gamma
// Q(dof / 2, x / 2), accurate to about 1e-14 relative in the far tail. dof == 0 gives 0 for
// x > 0 and NaN for x == 0, as SciPy does; NaN for negative arguments.
double ChiSquaredSf(double x, double dof);

// scipy.special.kolmogorov: the survival function of the limiting Kolmogorov distribution,
// P(sqrt(n) D_n > x) as n -> infinity.
double KolmogorovSf(double x);

// scipy.special.smirnov(n, x): P(D+_n >= x) for the one-sided one-sample statistic. Computed
// from the Birnbaum-Tingey sum in extended precision (SciPy uses double-double); exact for
// n <= 1e6, where SciPy is exact too.
double SmirnovSf(int64_t n, double x);

// scipy.stats.kstwo.sf(x, n): P(D_n > x) for the two-sided one-sample statistic, through the
// same branches as scipy.stats._ksstats._kolmogn (Ruben-Gambino, Durbin matrix, Pomeranz,
// Pelz-Good, 2 * smirnov).
double KolmogorovNSf(int64_t n, double x);

// SciPy's exact two-sided two-sample KS p-value (`_attempt_exact_2kssamp`). The statistic d
// is snapped to the lattice h / lcm(n1, n2) first; `d` returns the snapped value. `ok` is
// false where SciPy gives up (a probability outside [0, 1]) and falls back to the asymptotic
// distribution. Costs O(n1 * n2 * d) time for n1 != n2, O(n) for n1 == n2.
struct ExactKsResult {
  bool ok = false;
  double d = 0;
  double p_value = 0;
};
ExactKsResult KsTwoSampleExact(int64_t n1, int64_t n2, double d);

// numpy's pairwise summation (what np.sum does for a contiguous float64 array), so sums of
// many terms round the way NumPy's do.
double PairwiseSum(std::span<const double> values);

}  // namespace cairn::monitor
