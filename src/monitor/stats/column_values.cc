#include "monitor/stats/column_values.h"

namespace cairn::monitor {

std::string_view FeatureKindName(FeatureKind kind) {
  return kind == FeatureKind::kNumeric ? "numeric" : "categorical";
}

}  // namespace cairn::monitor
