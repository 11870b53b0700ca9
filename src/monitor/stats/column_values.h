#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::monitor {

// How a feature is compared: numeric values by their distribution, categorical values by their
// category frequencies. Inferred from the model signature (strings and booleans are
// categorical), else from the data.
enum class FeatureKind { kNumeric, kCategorical };

std::string_view FeatureKindName(FeatureKind kind);  // "numeric" / "categorical"

// The present values of one feature in one dataset (a reference sample or a window), missing
// values counted but not stored. Only the vector matching `kind` is used.
struct ColumnValues {
  FeatureKind kind = FeatureKind::kNumeric;
  std::vector<double> numbers;       // kNumeric: finite or infinite, never NaN
  std::vector<std::string> strings;  // kCategorical
  int64_t missing = 0;               // values that were null, NaN or empty

  size_t size() const { return kind == FeatureKind::kNumeric ? numbers.size() : strings.size(); }
};

}  // namespace cairn::monitor
