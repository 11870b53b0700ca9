#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "monitor/stats/column_values.h"

namespace cairn::monitor {

// The drift tests Cairn offers, named and configured as Evidently 0.7's registered stattests.
enum class DriftMethod { kKs, kChiSquare, kZ, kPsi, kKl, kJensenShannon, kWasserstein };

// Evidently's stattest name: "ks", "chisquare", "z", "psi", "kl_div", "jensenshannon",
// "wasserstein".
std::string_view MethodName(DriftMethod method);

// The inverse of MethodName (exact match); nullopt for any other name.
std::optional<DriftMethod> ParseMethod(std::string_view name);

// Evidently's default_threshold: 0.05 for the p-value tests, 0.1 for the distances.
double DefaultThreshold(DriftMethod method);

// True for KS, chi-square and Z, whose score is a p-value (drift when it is small); false for
// the distances (drift when the distance is large).
bool IsPValueTest(DriftMethod method);

// Whether Evidently registers the method for the kind: KS and Wasserstein for numeric columns;
// chi-square and Z for categorical ones; PSI, K-L and Jensen-Shannon for both. AutoMethod may
// still pick chi-square or Z for a numeric column with few values, as Evidently does.
bool AllowedFor(DriftMethod method, FeatureKind kind);

// Evidently's `_get_default_stattest`: n_ref is the number of present reference values and
// n_unique the number of distinct present values in reference and current together.
//   n_ref <= 1000: numeric -> KS if n_unique > 5, chi-square if 3..5, Z if <= 2;
//                  categorical -> chi-square if n_unique > 2, else Z.
//   n_ref > 1000:  numeric -> Wasserstein if n_unique > 5, else Jensen-Shannon;
//                  categorical -> Jensen-Shannon.
DriftMethod AutoMethod(FeatureKind kind, size_t n_ref, size_t n_unique);

}  // namespace cairn::monitor
