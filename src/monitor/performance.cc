#include "monitor/performance.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

namespace cairn::monitor {

std::optional<double> PerformanceMetrics::Get(std::string_view metric) const {
  if (metric == "accuracy") return accuracy;
  if (metric == "precision") return precision;
  if (metric == "recall") return recall;
  if (metric == "f1") return f1;
  if (metric == "auc") return auc;
  if (metric == "rmse") return rmse;
  if (metric == "mae") return mae;
  return std::nullopt;
}

std::optional<double> RocAuc(const std::vector<double>& scores,
                             const std::vector<bool>& positives) {
  const size_t n = scores.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  double rank_sum = 0;
  double n_pos = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && scores[order[j]] == scores[order[i]]) ++j;
    const double rank = (static_cast<double>(i) + static_cast<double>(j) + 1) / 2;  // 1-based mean
    for (size_t k = i; k < j; ++k) {
      if (positives[order[k]]) {
        rank_sum += rank;
        n_pos += 1;
      }
    }
    i = j;
  }
  const double n_neg = static_cast<double>(n) - n_pos;
  if (n_pos == 0 || n_neg == 0) return std::nullopt;
  return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg);
}

PerformanceMetrics ComputePerformance(const std::vector<LabeledPrediction>& rows,
                                      std::string_view task, std::string_view positive_label) {
  PerformanceMetrics m;
  std::string chosen(task);
  if (chosen.empty()) {
    bool fractional = false;
    bool all_numbers = !rows.empty();
    for (const LabeledPrediction& r : rows) {
      if (r.label.type != Cell::Type::kNumber) {
        all_numbers = false;
        break;
      }
      fractional = fractional || r.label.number != std::floor(r.label.number);
    }
    chosen = all_numbers && fractional ? "regression" : "classification";
  }
  m.task = chosen;
  if (chosen == "regression") {
    double se = 0;
    double ae = 0;
    for (const LabeledPrediction& r : rows) {
      if (r.label.type != Cell::Type::kNumber || r.prediction.type != Cell::Type::kNumber) continue;
      const double d = r.prediction.number - r.label.number;
      se += d * d;
      ae += std::fabs(d);
      ++m.labels;
    }
    if (m.labels > 0) {
      m.rmse = std::sqrt(se / static_cast<double>(m.labels));
      m.mae = ae / static_cast<double>(m.labels);
    }
    return m;
  }
  std::vector<std::pair<std::string, std::string>> pairs;  // (label, prediction)
  std::set<std::string> classes;
  std::vector<double> scores;
  std::vector<bool> positives;
  bool all_scored = true;
  for (const LabeledPrediction& r : rows) {
    if (r.label.type == Cell::Type::kMissing || r.prediction.type == Cell::Type::kMissing) continue;
    pairs.emplace_back(CellKey(r.label), CellKey(r.prediction));
    classes.insert(pairs.back().first);
    classes.insert(pairs.back().second);
    if (r.score) {
      scores.push_back(*r.score);
      positives.push_back(pairs.back().first == positive_label);
    } else {
      all_scored = false;
    }
  }
  m.labels = static_cast<int64_t>(pairs.size());
  if (pairs.empty()) return m;
  int64_t correct = 0;
  for (const auto& [label, prediction] : pairs) correct += label == prediction ? 1 : 0;
  m.accuracy = static_cast<double>(correct) / static_cast<double>(pairs.size());
  auto scores_for = [&](const std::string& positive, double& p, double& r, double& f) {
    double tp = 0, fp = 0, fn = 0;
    for (const auto& [label, prediction] : pairs) {
      if (prediction == positive && label == positive) tp += 1;
      if (prediction == positive && label != positive) fp += 1;
      if (prediction != positive && label == positive) fn += 1;
    }
    p = tp + fp > 0 ? tp / (tp + fp) : 0;
    r = tp + fn > 0 ? tp / (tp + fn) : 0;
    f = p + r > 0 ? 2 * p * r / (p + r) : 0;
  };
  if (classes.size() <= 2) {
    // scikit-learn refuses a pos_label that is not one of the classes; so does this (no
    // precision, recall or F1 rather than zeros that look like a broken model).
    if (classes.count(std::string(positive_label)) == 0 && classes.size() == 2) {
      m.note = "positive_label '" + std::string(positive_label) + "' is not one of the classes";
      return m;
    }
    double p = 0, r = 0, f = 0;
    scores_for(std::string(positive_label), p, r, f);
    m.precision = p;
    m.recall = r;
    m.f1 = f;
    if (all_scored) m.auc = RocAuc(scores, positives);
  } else {
    // Macro averages over the labels present in either column, as sklearn's average="macro".
    double sp = 0, sr = 0, sf = 0;
    for (const std::string& c : classes) {
      double p = 0, r = 0, f = 0;
      scores_for(c, p, r, f);
      sp += p;
      sr += r;
      sf += f;
    }
    const double k = static_cast<double>(classes.size());
    m.precision = sp / k;
    m.recall = sr / k;
    m.f1 = sf / k;
  }
  return m;
}

}  // namespace cairn::monitor
