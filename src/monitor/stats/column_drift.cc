#include "monitor/stats/column_drift.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "monitor/stats/drift_tests.h"

namespace cairn::monitor {
namespace {

std::vector<double> FiniteSorted(const std::vector<double>& values) {
  std::vector<double> out;
  out.reserve(values.size());
  for (double v : values) {
    if (std::isfinite(v)) out.push_back(v);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Number of distinct values in the union of two sorted samples.
size_t CountUnionDistinct(std::span<const double> a, std::span<const double> b) {
  size_t n = 0, i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    const double x = (j == b.size() || (i < a.size() && a[i] <= b[j])) ? a[i] : b[j];
    while (i < a.size() && a[i] == x) ++i;
    while (j < b.size() && b[j] == x) ++j;
    ++n;
  }
  return n;
}

}  // namespace

StatusOr<ColumnDrift> DetectColumnDrift(const ColumnValues& reference, const ColumnValues& current,
                                        const ColumnDriftOptions& options) {
  if (reference.kind != current.kind) {
    return InvalidArgument("reference column is " + std::string(FeatureKindName(reference.kind)) +
                           " but current column is " + std::string(FeatureKindName(current.kind)));
  }
  const FeatureKind kind = reference.kind;
  if (options.method && !AllowedFor(*options.method, kind)) {
    return InvalidArgument("drift method '" + std::string(MethodName(*options.method)) +
                           "' does not apply to " + std::string(FeatureKindName(kind)) +
                           " columns");
  }
  if (options.threshold && !std::isfinite(*options.threshold)) {
    return InvalidArgument("drift threshold must be finite");
  }

  ColumnDrift result;
  if (kind == FeatureKind::kNumeric) {
    const std::vector<double> ref = FiniteSorted(reference.numbers);
    const std::vector<double> cur = FiniteSorted(current.numbers);
    if (ref.empty()) return InvalidArgument("reference column has no present values");
    if (cur.empty()) return InvalidArgument("current column has no present values");
    result.method = options.method ? *options.method
                                   : AutoMethod(kind, ref.size(), CountUnionDistinct(ref, cur));
    switch (result.method) {
      case DriftMethod::kKs: {
        const TestResult t = KsTwoSampleSorted(ref, cur);
        result.statistic = t.statistic;
        result.score = t.p_value;
        break;
      }
      case DriftMethod::kChiSquare:
      case DriftMethod::kZ: {
        const ValueCounts counts = CountValuesSorted(ref, cur);
        const TestResult t =
            result.method == DriftMethod::kZ ? ZTestProportions(counts) : ChiSquareGof(counts);
        result.statistic = t.statistic;
        result.score = t.p_value;
        break;
      }
      case DriftMethod::kPsi:
        result.score = Psi(GetBinnedDataSorted(ref, cur, true));
        break;
      case DriftMethod::kKl:
        result.score = KlDivergence(GetBinnedDataSorted(ref, cur, true));
        break;
      case DriftMethod::kJensenShannon:
        result.score = JensenShannon(GetBinnedDataSorted(ref, cur, false));
        break;
      case DriftMethod::kWasserstein:
        result.score = WassersteinNormedSorted(ref, cur);
        break;
    }
  } else {
    if (reference.strings.empty()) {
      return InvalidArgument("reference column has no present values");
    }
    if (current.strings.empty()) return InvalidArgument("current column has no present values");
    const ValueCounts counts = CountCategories(reference.strings, current.strings);
    result.method =
        options.method ? *options.method : AutoMethod(kind, counts.reference_size, counts.size());
    switch (result.method) {
      case DriftMethod::kChiSquare:
      case DriftMethod::kZ: {
        const TestResult t =
            result.method == DriftMethod::kZ ? ZTestProportions(counts) : ChiSquareGof(counts);
        result.statistic = t.statistic;
        result.score = t.p_value;
        break;
      }
      case DriftMethod::kPsi:
        result.score = Psi(SharesFromCounts(counts, true));
        break;
      case DriftMethod::kKl:
        result.score = KlDivergence(SharesFromCounts(counts, true));
        break;
      case DriftMethod::kJensenShannon:
        result.score = JensenShannon(SharesFromCounts(counts, false));
        break;
      case DriftMethod::kKs:
      case DriftMethod::kWasserstein:
        return InvalidArgument("numeric-only method on a categorical column");
    }
  }

  result.p_value_test = IsPValueTest(result.method);
  if (!result.p_value_test) result.statistic = result.score;
  result.threshold = options.threshold.value_or(DefaultThreshold(result.method));
  if (result.method == DriftMethod::kKs) {
    result.drift = result.score <= result.threshold;
  } else if (result.p_value_test) {
    result.drift = result.score < result.threshold;
  } else {
    result.drift = result.score >= result.threshold;
  }
  return result;
}

DatasetDrift SummarizeDatasetDrift(std::span<const ColumnDrift> columns, double drift_share) {
  DatasetDrift summary;
  summary.total = static_cast<int>(columns.size());
  for (const ColumnDrift& c : columns) summary.drifted += c.drift ? 1 : 0;
  if (summary.total == 0) return summary;
  summary.share = static_cast<double>(summary.drifted) / summary.total;
  summary.drift = summary.share >= drift_share;
  return summary;
}

}  // namespace cairn::monitor
