#pragma once

#include <optional>
#include <span>

#include "base/status.h"
#include "monitor/stats/column_values.h"
#include "monitor/stats/drift_method.h"

namespace cairn::monitor {

struct ColumnDriftOptions {
  std::optional<DriftMethod> method;  // nullopt: Evidently's automatic choice (AutoMethod)
  std::optional<double> threshold;    // nullopt: DefaultThreshold(method)
};

struct ColumnDrift {
  DriftMethod method = DriftMethod::kKs;
  double score = 0;      // the p-value for p-value tests, else the distance
  double statistic = 0;  // KS D, chi-square statistic, z; the distance itself for distances
  double threshold = 0;
  bool drift = false;  // p-value tests: score < threshold (KS: <=); distances: score >= threshold
  bool p_value_test = false;
};

// Compares one feature's current values with its reference values as Evidently's
// get_one_column_drift does: infinite numeric values are dropped like missing ones, the method
// is chosen (or checked) for the kind, and the verdict uses the method's comparison.
// INVALID_ARGUMENT when the kinds differ, when either side has no present value, or when the
// requested method is not registered for the kind (AllowedFor). Sorts each numeric column
// once; categorical columns are counted by hashing.
StatusOr<ColumnDrift> DetectColumnDrift(const ColumnValues& reference, const ColumnValues& current,
                                        const ColumnDriftOptions& options);

struct DatasetDrift {
  int drifted = 0;
  int total = 0;
  double share = 0;  // drifted / total; 0 when there are no columns
  bool drift = false;
};

// Evidently's get_dataset_drift: drift when drifted / total >= drift_share (the
// DataDriftPreset default is 0.5). No columns means no drift.
DatasetDrift SummarizeDatasetDrift(std::span<const ColumnDrift> columns, double drift_share = 0.5);

}  // namespace cairn::monitor
