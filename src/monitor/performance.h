#pragma once

#include <optional>
#include <string>
#include <vector>

#include "monitor/event_features.h"

namespace cairn::monitor {

// One prediction joined with its ground truth.
struct LabeledPrediction {
  Cell prediction;
  Cell label;
  std::optional<double> score;  // positive-class probability, when the model gave one
};

// Realised performance over labeled predictions, as scikit-learn computes it.
//   classification: accuracy; precision, recall and F1 of `positive_label` when the labels and
//   predictions hold at most two classes, else macro averages over the classes seen
//   (zero_division=0); ROC AUC from the scores (binary only, ties averaged; absent when every
//   label is one class or no scores were logged).
//   regression: RMSE and MAE (labels and predictions must be numbers; others are skipped).
struct PerformanceMetrics {
  std::string task;  // "classification" or "regression"
  int64_t labels = 0;
  std::optional<double> accuracy, precision, recall, f1, auc;
  std::optional<double> rmse, mae;
  std::string note;  // why a metric is missing, when it is not obvious

  // The named metric (accuracy, precision, recall, f1, auc, rmse, mae), if computed.
  std::optional<double> Get(std::string_view metric) const;
};

// `task` empty: regression when every label is a number with a fraction, else classification.
PerformanceMetrics ComputePerformance(const std::vector<LabeledPrediction>& rows,
                                      std::string_view task, std::string_view positive_label);

// ROC AUC of `scores` against binary `positives` (Mann-Whitney, ties counted half); nullopt
// when either class is empty.
std::optional<double> RocAuc(const std::vector<double>& scores, const std::vector<bool>& positives);

}  // namespace cairn::monitor
