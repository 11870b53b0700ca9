#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "monitor/detectors/drift_detector.h"

namespace cairn::monitor {

// river.drift.binary.DDM's parameters and defaults.
struct DdmOptions {
  int64_t warm_start = 30;         // updates before any test, >= 0
  double warning_threshold = 2.0;  // > 0
  double drift_threshold = 3.0;    // > 0

  // INVALID_ARGUMENT naming the first parameter out of range.
  Status Validate() const;
  // Reads river's names ("{}" for defaults) and validates.
  static StatusOr<DdmOptions> FromJson(std::string_view params_json);
  std::string ToJson() const;
};

// Drift Detection Method (Gama et al., SBIA 2004) on a 0/1 error stream, as river 0.26.1's
// drift.binary.DDM. With p the running error rate over n updates and s = sqrt(p(1-p)/n), once
// n > warm_start it records (p_min, s_min) where p + s is lowest, warns while
// p + s > p_min + warning_threshold * s_min and flags drift (clearing the warning) when
// p + s > p_min + drift_threshold * s_min.
class Ddm final : public DriftDetector {
 public:
  static constexpr std::string_view kName = "ddm";

  // `options` must pass Validate().
  explicit Ddm(DdmOptions options = {});
  static StatusOr<std::unique_ptr<Ddm>> Restore(const DdmOptions& options,
                                                std::string_view state_json);

  void Update(double x) override;
  std::string_view name() const override { return kName; }
  std::string ParamsJson() const override { return options_.ToJson(); }
  std::string SaveState() const override;

  const DdmOptions& options() const { return options_; }

 private:
  void Reset();

  DdmOptions options_;
  // river's stats.Mean of the input: count (a float, as river keeps it) and mean.
  double n_ = 0.0;
  double p_ = 0.0;
  double p_min_ = 0.0;  // meaningful once ps_min_ is finite
  double s_min_ = 0.0;
  double ps_min_ = std::numeric_limits<double>::infinity();
};

}  // namespace cairn::monitor
