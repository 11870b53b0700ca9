#include "monitor/stats/special_functions.h"

#include <algorithm>
#include <boost/math/policies/policy.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <cmath>
#include <limits>
#include <numbers>
#include <numeric>
#include <vector>

namespace cairn::monitor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kPi = std::numbers::pi;

// Boost.Math reports domain errors through errno rather than exceptions.
using NoThrowPolicy = boost::math::policies::policy<
    boost::math::policies::domain_error<boost::math::policies::errno_on_error>,
    boost::math::policies::overflow_error<boost::math::policies::errno_on_error>,
    boost::math::policies::evaluation_error<boost::math::policies::errno_on_error>>;

double Clip01(double p) { return std::clamp(p, 0.0, 1.0); }

// numpy pairwise_sum over a strided-free array.
double PairwiseSumImpl(const double* a, size_t n) {
  if (n < 8) {
    double res = 0.;
    for (size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    }
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return PairwiseSumImpl(a, n2) + PairwiseSumImpl(a + n2, n - n2);
}

// _ksstats._log_nfactorial_div_n_pow_n: log(n!) - n log n by Stirling's series.
double LogNFactorialDivNPowN(double n) {
  static constexpr double kStirling[] = {-2.955065359477124183e-2,  6.4102564102564102564e-3,
                                         -1.9175269175269175269e-3, 8.4175084175084175084e-4,
                                         -5.952380952380952381e-4,  7.9365079365079365079e-4,
                                         -2.7777777777777777778e-3, 8.3333333333333333333e-2};
  double rn = 1.0 / n;
  double x = rn / n;
  double poly = 0.0;
  for (double c : kStirling) poly = poly * x + c;
  return std::log(n) / 2 - n + std::log(2 * kPi) / 2 + rn * poly;
}

// _ksstats._kolmogn_DMTW: Pr(D_n <= d) by the Durbin matrix (Marsaglia-Tsang-Wang).
double KolmogornDurbinCdf(int64_t n, double d) {
  if (d >= 1.0) return 1.0;
  double nd = static_cast<double>(n) * d;
  if (nd <= 0.5) return 0.0;
  const int k = static_cast<int>(std::ceil(nd));
  const double h = k - nd;
  const int m = 2 * k - 1;
  std::vector<double> v(m), w(m);
  double fac = 1.0;
  for (int j = 1; j <= m; ++j) {
    v[j - 1] = 1.0 - std::pow(h, j);
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] *= fac;
  }
  double tt = std::pow(std::max(2 * h - 1.0, 0.0), m) - 2 * std::pow(h, m);
  v[m - 1] = (1.0 + tt) * fac;
  auto at = [m](std::vector<double>& a, int r, int c) -> double& { return a[r * m + c]; };
  std::vector<double> big_h(static_cast<size_t>(m) * m, 0.0);
  for (int i = 1; i < m; ++i) {
    for (int r = i - 1; r < m; ++r) at(big_h, r, i) = w[r - (i - 1)];
  }
  for (int r = 0; r < m; ++r) at(big_h, r, 0) = v[r];
  for (int c = 0; c < m; ++c) at(big_h, m - 1, c) = v[m - 1 - c];

  std::vector<double> power(static_cast<size_t>(m) * m, 0.0), tmp(power.size());
  for (int i = 0; i < m; ++i) at(power, i, i) = 1.0;
  auto matmul = [&](const std::vector<double>& a, const std::vector<double>& b) {
    std::fill(tmp.begin(), tmp.end(), 0.0);
    for (int i = 0; i < m; ++i) {
      for (int l = 0; l < m; ++l) {
        double ail = a[i * m + l];
        if (ail == 0.0) continue;
        for (int j = 0; j < m; ++j) tmp[i * m + j] += ail * b[l * m + j];
      }
    }
  };
  const long double kEp128 = std::ldexp(1.0L, 128);
  const long double kEm128 = std::ldexp(1.0L, -128);
  int expnt = 0;
  int h_expnt = 0;
  for (int64_t nn = n; nn > 0; nn /= 2) {
    if (nn % 2) {
      matmul(power, big_h);
      power.swap(tmp);
      expnt += h_expnt;
    }
    matmul(big_h, big_h);
    big_h.swap(tmp);
    h_expnt *= 2;
    if (std::abs(at(big_h, k - 1, k - 1)) > kEp128) {
      for (double& x : big_h) x = static_cast<double>(x / kEp128);
      h_expnt += 128;
    }
  }
  long double p = at(power, k - 1, k - 1);
  for (int64_t i = 1; i <= n; ++i) {
    p = i * p / n;
    if (std::abs(p) < kEm128) {
      p *= kEp128;
      expnt -= 128;
    }
  }
  if (expnt != 0) p = std::ldexp(p, expnt);
  return Clip01(static_cast<double>(p));
}

std::pair<int64_t, int64_t> PomeranzJ1J2(int64_t i, int64_t n, int64_t ll, int64_t ceilf,
                                         int64_t roundf) {
  int64_t j1, j2;
  if (i == 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    int64_t ip1div2 = (i + 1) / 2, ip1mod2 = (i + 1) % 2;
    if (ip1mod2 == 0) {
      if (ip1div2 == n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = ip1div2 - 1 - ll - roundf - 1;
        j2 = ip1div2 + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = ip1div2 - 1 - ll - 1;
      j2 = ip1div2 + ll + roundf - 1;
    }
  }
  return {std::max<int64_t>(j1 + 2, 0), std::min(j2, n)};
}

// _ksstats._kolmogn_Pomeranz: Pr(D_n <= x) by Pomeranz's recursion.
double KolmogornPomeranzCdf(int64_t n, double x) {
  const double t = n * x;
  const int64_t ll = static_cast<int64_t>(std::floor(t));
  const double f = 1.0 * (t - ll);
  const double g = std::min(f, 1.0 - f);
  const int64_t ceilf = f > 0 ? 1 : 0;
  const int64_t roundf = f > 0.5 ? 1 : 0;
  const int64_t npwrs = 2 * (ll + 1);
  std::vector<double> gpower(npwrs), twogpower(npwrs), onem2gpower(npwrs);
  gpower[0] = twogpower[0] = onem2gpower[0] = 1.0;
  const double g_over_n = g / n, two_g_over_n = 2 * g / n, one_minus = (1 - 2 * g) / n;
  for (int64_t m = 1; m < npwrs; ++m) {
    gpower[m] = gpower[m - 1] * g_over_n / m;
    twogpower[m] = twogpower[m - 1] * two_g_over_n / m;
    onem2gpower[m] = onem2gpower[m - 1] * one_minus / m;
  }
  const long double kEp128 = std::ldexp(1.0L, 128);
  const long double kEm128 = std::ldexp(1.0L, -128);
  std::vector<double> v0(npwrs, 0.0), v1(npwrs, 0.0), conv;
  v1[0] = 1;
  int64_t v0s = 0, v1s = 0;
  int expnt = 0;
  auto [j1, j2] = PomeranzJ1J2(0, n, ll, ceilf, roundf);
  for (int64_t i = 1; i < 2 * n + 2; ++i) {
    const int64_t k1 = j1;
    std::swap(v0, v1);
    std::swap(v0s, v1s);
    std::fill(v1.begin(), v1.end(), 0.0);
    std::tie(j1, j2) = PomeranzJ1J2(i, n, ll, ceilf, roundf);
    const std::vector<double>& pwrs =
        (i == 1 || i == 2 * n + 1) ? gpower : (i % 2 ? twogpower : onem2gpower);
    const int64_t ln2 = j2 - k1 + 1;
    if (ln2 > 0) {
      conv.assign(2 * ln2 - 1, 0.0);
      const double* a = v0.data() + (k1 - v0s);
      for (int64_t p = 0; p < ln2; ++p) {
        for (int64_t q = 0; q < ln2; ++q) conv[p + q] += a[p] * pwrs[q];
      }
      const int64_t conv_start = j1 - k1;
      const int64_t conv_len = j2 - j1 + 1;
      for (int64_t q = 0; q < conv_len; ++q) v1[q] = conv[conv_start + q];
      double vmax = *std::max_element(v1.begin(), v1.end());
      if (0 < vmax && vmax < kEm128) {
        for (double& e : v1) e = static_cast<double>(e * kEp128);
        expnt -= 128;
      }
      v1s = v0s + j1 - k1;
    }
  }
  long double ans = v1[n - v1s];
  for (int64_t m = 1; m <= n; ++m) {
    if (std::abs(ans) > kEp128) {
      ans *= kEm128;
      expnt += 128;
    }
    ans *= m;
  }
  if (expnt != 0) ans = std::ldexp(ans, expnt);
  return Clip01(static_cast<double>(ans));
}

// _ksstats._kolmogn_PelzGood: the Pelz-Good approximation to Pr(D_n <= x).
double KolmogornPelzGoodCdf(int64_t n, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double pi2 = kPi * kPi, pi4 = pi2 * pi2, pi6 = pi4 * pi2;
  const double sqrt2pi = std::sqrt(2 * kPi);
  const double z = std::sqrt(static_cast<double>(n)) * x;
  const double zsquared = z * z, zthree = std::pow(z, 3), zfour = std::pow(z, 4),
               zsix = std::pow(z, 6);
  const double qlog = -pi2 / 8 / zsquared;
  if (qlog < -708) return 0.0;
  double q = std::exp(qlog);
  const double k1a = -zsquared;
  const double k1b = pi2 / 4;
  const double k2a = 6 * zsix + 2 * zfour;
  const double k2b = (2 * zfour - 5 * zsquared) * pi2 / 4;
  const double k2c = pi4 * (1 - 2 * zsquared) / 16;
  const double k3d = pi6 * (5 - 30 * zsquared) / 64;
  const double k3c = pi4 * (-60 * zsquared + 212 * zfour) / 16;
  const double k3b = pi2 * (135 * zfour - 96 * zsix) / 4;
  const double k3a = -30 * zsix - 90 * std::pow(z, 8);
  double k0to3[4] = {0, 0, 0, 0};
  const int64_t maxk = static_cast<int64_t>(std::ceil(16 * z / kPi));
  for (int64_t k = maxk; k > 0; --k) {
    const double m = 2.0 * k - 1;
    const double msquared = m * m, mfour = msquared * msquared, msix = mfour * msquared;
    const double qpower = std::pow(q, static_cast<double>(8 * k));
    const double coeffs[4] = {1.0, k1a + k1b * msquared, k2a + k2b * msquared + k2c * mfour,
                              k3a + k3b * msquared + k3c * mfour + k3d * msix};
    for (int i = 0; i < 4; ++i) k0to3[i] = k0to3[i] * qpower + coeffs[i];
  }
  const double denom[4] = {z, 6 * zfour, 72 * std::pow(z, 7), 6480 * std::pow(z, 10)};
  for (int i = 0; i < 4; ++i) k0to3[i] = k0to3[i] * q * sqrt2pi / denom[i];
  q = std::exp(-pi2 / 2 / zsquared);
  const double sqrt3z = std::sqrt(3.0) * z;
  double k2extra = 0, k3extra = 0;
  for (int64_t k = maxk; k > 0; --k) {
    const double ksquared = static_cast<double>(k * k);
    const double qpwer = std::pow(q, ksquared);
    const double kspi = kPi * k;
    k2extra += ksquared * qpwer;
    k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksquared * qpwer;
  }
  k2extra *= pi2 * sqrt2pi / (-36 * zthree);
  k0to3[2] += k2extra;
  k3extra *= pi2 * sqrt2pi / (216 * zsix);
  k0to3[3] += k3extra;
  double sum = 0;
  for (int i = 0; i < 4; ++i) sum += k0to3[i] / std::pow(static_cast<double>(n), i / 2.0);
  return sum;
}

}  // namespace

double PairwiseSum(std::span<const double> values) {
  return PairwiseSumImpl(values.data(), values.size());
}

double NormalCdf(double a) {
  if (std::isnan(a)) return kNaN;
  const double x = a * std::numbers::sqrt2 / 2;
  const double z = std::abs(x);
  if (z < std::numbers::sqrt2 / 2) return 0.5 + 0.5 * std::erf(x);
  const double y = 0.5 * std::erfc(z);
  return x > 0 ? 1.0 - y : y;
}

double NormalSf(double x) { return NormalCdf(-x); }

double ChiSquaredSf(double x, double dof) {
  if (std::isnan(x) || std::isnan(dof) || dof < 0 || x < 0) return kNaN;
  if (dof == 0) return x > 0 ? 0.0 : kNaN;
  if (std::isinf(x)) return 0.0;
  if (x == 0) return 1.0;
  return boost::math::gamma_q(dof / 2, x / 2, NoThrowPolicy());
}

double KolmogorovSf(double x) {
  if (std::isnan(x)) return kNaN;
  if (x <= 0) return 1.0;
  if (x <= kPi / std::sqrt((708.0 + 38.0) * 8)) return 1.0;
  double p = 1.0;
  if (x <= 0.82) {
    const double w = std::sqrt(2 * kPi) / x;
    const double logu8 = -kPi * kPi / (x * x);
    const double u = std::exp(logu8 / 8);
    if (u == 0) {
      p = std::exp(logu8 / 8 + std::log(w));
    } else {
      const double u8 = std::exp(logu8);
      const double u8cub = std::pow(u8, 3);
      p = 1 + u8cub * p;
      p = 1 + u8 * u8 * p;
      p = 1 + u8 * p;
      p = w * u * p;
    }
    return Clip01(1 - p);
  }
  const double v = std::exp(-2 * x * x);
  const double vsq = v * v;
  const double v3 = std::pow(v, 3);
  p = 1 - v3 * v3 * v * p;
  p = 1 - v3 * vsq * p;
  p = 1 - v3 * p;
  return Clip01(2 * v * p);
}

double SmirnovSf(int64_t n, double x) {
  if (std::isnan(x) || n <= 0) return kNaN;
  if (x <= 0) return 1.0;
  if (x >= 1) return 0.0;
  // Birnbaum-Tingey: P(D+ >= x) = x sum_{v=0}^{floor(n(1-x))} C(n,v) (x + v/n)^(v-1)
  // (1 - x - v/n)^(n-v); every term is positive, so extended precision is enough.
  const long double ln = static_cast<long double>(n);
  const long double lx = x;
  const long double nx = ln * lx;
  const long double log_x = std::log(lx);
  long double log_binom = 0;  // log C(n, v)
  long double sum = 0;
  for (int64_t v = 0; v < n; ++v) {
    const long double rest = (static_cast<long double>(n - v) - nx) / ln;  // 1 - x - v/n
    if (rest <= 0) break;
    const long double base = lx + static_cast<long double>(v) / ln;
    const long double log_term =
        log_x + log_binom + (v - 1) * std::log(base) + (n - v) * std::log(rest);
    sum += std::exp(log_term);
    log_binom += std::log(static_cast<long double>(n - v) / static_cast<long double>(v + 1));
  }
  return Clip01(static_cast<double>(sum));
}

double KolmogorovNSf(int64_t n, double x) {
  if (n <= 0 || std::isnan(x)) return kNaN;
  if (x >= 1.0) return 0.0;
  if (x <= 0.0) return 1.0;
  const double t = n * x;
  if (t <= 1.0) {
    if (t <= 0.5) return 1.0;
    double prob;
    if (n <= 140) {
      prob = 1.0;
      for (int64_t i = 1; i <= n; ++i) prob *= i * (1.0 / n) * (2 * t - 1);
    } else {
      prob = std::exp(LogNFactorialDivNPowN(static_cast<double>(n)) + n * std::log(2 * t - 1));
    }
    return Clip01(1.0 - prob);
  }
  if (t >= n - 1) return Clip01(2 * std::pow(1.0 - x, static_cast<double>(n)));
  if (x >= 0.5) return Clip01(2 * SmirnovSf(n, x));
  const double nxsquared = t * x;
  if (n <= 140) {
    if (nxsquared <= 0.754693) return Clip01(1.0 - KolmogornDurbinCdf(n, x));
    if (nxsquared <= 4) return Clip01(1.0 - KolmogornPomeranzCdf(n, x));
    return Clip01(2 * SmirnovSf(n, x));
  }
  if (nxsquared >= 370.0) return 0.0;
  if (nxsquared >= 2.2) return Clip01(2 * SmirnovSf(n, x));
  double cdf;
  if (n <= 100000 && n * std::pow(x, 1.5) <= 1.4) {
    cdf = KolmogornDurbinCdf(n, x);
  } else {
    cdf = KolmogornPelzGoodCdf(n, x);
  }
  return Clip01(1.0 - cdf);
}

namespace {

// SciPy's _compute_prob_outside_square: Pr(D_{n,n} >= h/n) by a Horner-like alternating sum.
double ProbOutsideSquare(int64_t n, int64_t h) {
  double p = 0.0;
  for (int64_t k = n / h; k >= 0; --k) {
    double p1 = 1.0;
    for (int64_t j = 0; j < h; ++j) {
      p1 = static_cast<double>(n - k * h - j) * p1 / static_cast<double>(n + k * h + j + 1);
    }
    p = p1 * (1.0 - p);
  }
  return 2 * p;
}

// SciPy's _compute_outer_prob_inside_method (Hodges' inside method, Viehmann's recursion).
double OuterProbInsideMethod(int64_t m, int64_t n, int64_t g, int64_t h) {
  if (m < n) std::swap(m, n);
  const int64_t mg = m / g;
  const int64_t ng = n / g;
  int64_t minj = 0;
  int64_t maxj = std::min(static_cast<int64_t>(std::ceil(static_cast<double>(h) / mg)), n + 1);
  int64_t curlen = maxj - minj;
  const int64_t len_a = std::min(2 * maxj + 2, n + 1);
  std::vector<double> a(len_a, 1.0);
  std::fill(a.begin() + minj, a.begin() + maxj, 0.0);
  for (int64_t i = 1; i <= m; ++i) {
    const int64_t lastminj = minj, lastlen = curlen;
    minj = std::max(static_cast<int64_t>(std::floor(static_cast<double>(ng * i - h) / mg)) + 1,
                    int64_t{0});
    minj = std::min(minj, n);
    maxj = std::min(static_cast<int64_t>(std::ceil(static_cast<double>(ng * i + h) / mg)), n + 1);
    if (maxj <= minj) return 1.0;
    double val = minj == 0 ? 0.0 : 1.0;
    const double di = static_cast<double>(i);
    for (int64_t jj = 0; jj < maxj - minj; ++jj) {
      const int64_t j = jj + minj;
      val = (a[jj + minj - lastminj] * di + val * static_cast<double>(j)) /
            static_cast<double>(i + j);
      a[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) {
      const int64_t begin = std::min(maxj - minj, len_a);
      const int64_t end = std::min(maxj - minj + (lastlen - curlen), len_a);
      std::fill(a.begin() + begin, a.begin() + end, 1.0);
    }
  }
  return a[maxj - minj - 1];
}

}  // namespace

ExactKsResult KsTwoSampleExact(int64_t n1, int64_t n2, double d) {
  const int64_t g = std::gcd(n1, n2);
  const int64_t lcm = (n1 / g) * n2;
  const int64_t h = static_cast<int64_t>(std::nearbyint(d * static_cast<double>(lcm)));
  ExactKsResult result;
  result.d = h * 1.0 / static_cast<double>(lcm);
  if (h == 0) {
    result.ok = true;
    result.p_value = 1.0;
    return result;
  }
  const double prob = n1 == n2 ? ProbOutsideSquare(n1, h) : OuterProbInsideMethod(n1, n2, g, h);
  result.p_value = prob;
  result.ok = 0 <= prob && prob <= 1;
  return result;
}

}  // namespace cairn::monitor
