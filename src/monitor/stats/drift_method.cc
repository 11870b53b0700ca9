#include "monitor/stats/drift_method.h"

#include <array>
#include <utility>

namespace cairn::monitor {
namespace {

constexpr std::array<std::pair<DriftMethod, std::string_view>, 7> kNames = {{
    {DriftMethod::kKs, "ks"},
    {DriftMethod::kChiSquare, "chisquare"},
    {DriftMethod::kZ, "z"},
    {DriftMethod::kPsi, "psi"},
    {DriftMethod::kKl, "kl_div"},
    {DriftMethod::kJensenShannon, "jensenshannon"},
    {DriftMethod::kWasserstein, "wasserstein"},
}};

}  // namespace

std::string_view MethodName(DriftMethod method) {
  for (const auto& [m, name] : kNames) {
    if (m == method) return name;
  }
  return "unknown";
}

std::optional<DriftMethod> ParseMethod(std::string_view name) {
  for (const auto& [m, n] : kNames) {
    if (n == name) return m;
  }
  return std::nullopt;
}

bool IsPValueTest(DriftMethod method) {
  return method == DriftMethod::kKs || method == DriftMethod::kChiSquare ||
         method == DriftMethod::kZ;
}

double DefaultThreshold(DriftMethod method) { return IsPValueTest(method) ? 0.05 : 0.1; }

bool AllowedFor(DriftMethod method, FeatureKind kind) {
  switch (method) {
    case DriftMethod::kKs:
    case DriftMethod::kWasserstein:
      return kind == FeatureKind::kNumeric;
    case DriftMethod::kChiSquare:
    case DriftMethod::kZ:
      return kind == FeatureKind::kCategorical;
    case DriftMethod::kPsi:
    case DriftMethod::kKl:
    case DriftMethod::kJensenShannon:
      return true;
  }
  return false;
}

DriftMethod AutoMethod(FeatureKind kind, size_t n_ref, size_t n_unique) {
  if (n_ref <= 1000) {
    if (kind == FeatureKind::kNumeric && n_unique > 5) return DriftMethod::kKs;
    return n_unique > 2 ? DriftMethod::kChiSquare : DriftMethod::kZ;
  }
  if (kind == FeatureKind::kNumeric && n_unique > 5) return DriftMethod::kWasserstein;
  return DriftMethod::kJensenShannon;
}

}  // namespace cairn::monitor
