#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "monitor/detectors/drift_detector.h"

namespace cairn::monitor {

// river.drift.binary.EDDM's parameters and defaults.
struct EddmOptions {
  int64_t warm_start = 30;  // updates, and errors, before any test; >= 0
  double alpha = 0.95;      // warning level, in (0, 1]
  double beta = 0.9;        // drift level, in (0, 1] and <= alpha

  // INVALID_ARGUMENT naming the first parameter out of range.
  Status Validate() const;
  // Reads river's names ("{}" for defaults) and validates.
  static StatusOr<EddmOptions> FromJson(std::string_view params_json);
  std::string ToJson() const;
};

// Early Drift Detection Method (Baena-Garcia et al., 2006) on a 0/1 error stream, as river
// 0.26.1's drift.binary.EDDM. Tracks the mean m and standard deviation s of the distance between
// consecutive errors. On each error after warm_start updates, q = m + 2s either sets a new
// maximum or, once more than warm_start errors were seen, is compared as q / max(q): below beta
// flags drift (leaving the warning flag as it was), else below alpha warns, else clears the
// warning. Correct predictions (x != 1) change neither flag.
class Eddm final : public DriftDetector {
 public:
  static constexpr std::string_view kName = "eddm";

  // `options` must pass Validate().
  explicit Eddm(EddmOptions options = {});
  static StatusOr<std::unique_ptr<Eddm>> Restore(const EddmOptions& options,
                                                 std::string_view state_json);

  void Update(double x) override;
  std::string_view name() const override { return kName; }
  std::string ParamsJson() const override { return options_.ToJson(); }
  std::string SaveState() const override;

  const EddmOptions& options() const { return options_; }

 private:
  void Reset();

  EddmOptions options_;
  // river's stats.Var (ddof=1) of the distances: count, mean and sum of squared deviations.
  double dist_n_ = 0.0;
  double dist_mean_ = 0.0;
  double dist_m2_ = 0.0;
  int64_t n_ = 0;           // updates since the last reset
  int64_t last_error_ = 0;  // n_ at the last error
  int64_t n_errors_ = 0;
  double p2s_max_ = -1.0;
};

}  // namespace cairn::monitor
