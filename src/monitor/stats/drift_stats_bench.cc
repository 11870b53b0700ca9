// Times DetectColumnDrift on 100k reference x 100k current rows: numeric KS, Wasserstein and
// PSI, categorical chi-square and Jensen-Shannon. Not a test; prints milliseconds per call.
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "monitor/stats/column_drift.h"

namespace {

using cairn::monitor::ColumnDrift;
using cairn::monitor::ColumnValues;
using cairn::monitor::DetectColumnDrift;
using cairn::monitor::DriftMethod;
using cairn::monitor::FeatureKind;

void Time(const char* label, const ColumnValues& ref, const ColumnValues& cur, DriftMethod m) {
  constexpr int kRuns = 5;
  double best_ms = 1e300;
  double score = 0;
  for (int r = 0; r < kRuns; ++r) {
    const auto start = std::chrono::steady_clock::now();
    auto result = DetectColumnDrift(ref, cur, {.method = m});
    const auto end = std::chrono::steady_clock::now();
    if (!result.ok()) {
      std::printf("%s: %s\n", label, result.status().ToString().c_str());
      return;
    }
    score = result->score;
    best_ms = std::min(best_ms, std::chrono::duration<double, std::milli>(end - start).count());
  }
  std::printf("%-28s %8.2f ms  (score %.6g)\n", label, best_ms, score);
}

}  // namespace

int main() {
  constexpr size_t kRows = 100000;
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal(0, 1), shifted(0.05, 1);
  ColumnValues num_ref, num_cur;
  num_ref.numbers.resize(kRows);
  num_cur.numbers.resize(kRows);
  for (double& x : num_ref.numbers) x = normal(rng);
  for (double& x : num_cur.numbers) x = shifted(rng);

  std::vector<std::string> categories;
  for (int i = 0; i < 50; ++i) categories.push_back("category_" + std::to_string(i));
  std::discrete_distribution<int> pick_ref({5, 4, 3, 2, 1, 1, 1, 1, 1, 1}),
      pick_cur({4, 4, 3, 2, 2, 1, 1, 1, 1, 1});
  std::uniform_int_distribution<int> tail(10, 49);
  ColumnValues cat_ref, cat_cur;
  cat_ref.kind = cat_cur.kind = FeatureKind::kCategorical;
  for (size_t i = 0; i < kRows; ++i) {
    cat_ref.strings.push_back(categories[i % 7 == 0 ? tail(rng) : pick_ref(rng)]);
    cat_cur.strings.push_back(categories[i % 7 == 0 ? tail(rng) : pick_cur(rng)]);
  }

  std::printf("100k reference x 100k current, best of 5\n");
  Time("numeric ks", num_ref, num_cur, DriftMethod::kKs);
  Time("numeric wasserstein", num_ref, num_cur, DriftMethod::kWasserstein);
  Time("numeric psi", num_ref, num_cur, DriftMethod::kPsi);
  Time("categorical chisquare", cat_ref, cat_cur, DriftMethod::kChiSquare);
  Time("categorical jensenshannon", cat_ref, cat_cur, DriftMethod::kJensenShannon);
  return 0;
}
