#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "monitor/detectors/drift_detector.h"

namespace cairn::monitor {

// Which changes of the mean Page-Hinkley reports.
enum class PageHinkleyMode { kUp, kDown, kBoth };

std::string_view PageHinkleyModeName(PageHinkleyMode mode);  // "up", "down", "both"

// river.drift.PageHinkley's parameters and defaults.
struct PageHinkleyOptions {
  int64_t min_instances = 30;  // updates before any test, >= 0
  double delta = 0.005;        // tolerated change of the mean, finite and >= 0
  double threshold = 50.0;     // lambda, finite and > 0
  double alpha = 1 - 0.0001;   // forgetting factor, in (0, 1]
  PageHinkleyMode mode = PageHinkleyMode::kBoth;

  // INVALID_ARGUMENT naming the first parameter out of range.
  Status Validate() const;
  // Reads river's names ("{}" for defaults; "mode" is "up", "down" or "both") and validates.
  static StatusOr<PageHinkleyOptions> FromJson(std::string_view params_json);
  std::string ToJson() const;
};

// Page-Hinkley test (Page, Biometrika 1954), as river 0.26.1's drift.PageHinkley. With x̄ the
// running mean, keeps S+ = alpha*S+ + (x - x̄) - delta and S- = alpha*S- + (x - x̄) + delta with
// their running minimum and maximum; once min_instances values were seen it flags drift when
// S+ - min(S+) > threshold (mode up), max(S-) - S- > threshold (mode down), or either (both).
// Never warns.
class PageHinkley final : public DriftDetector {
 public:
  static constexpr std::string_view kName = "page_hinkley";

  // `options` must pass Validate().
  explicit PageHinkley(PageHinkleyOptions options = {});
  static StatusOr<std::unique_ptr<PageHinkley>> Restore(const PageHinkleyOptions& options,
                                                        std::string_view state_json);

  void Update(double x) override;
  std::string_view name() const override { return kName; }
  std::string ParamsJson() const override { return options_.ToJson(); }
  std::string SaveState() const override;

  const PageHinkleyOptions& options() const { return options_; }

 private:
  void Reset();

  PageHinkleyOptions options_;
  double n_ = 0.0;  // river's stats.Mean: count (a float) and mean
  double mean_ = 0.0;
  double sum_increase_ = 0.0;
  double sum_decrease_ = 0.0;
  double min_increase_ = std::numeric_limits<double>::infinity();
  double max_decrease_ = -1.0;
};

}  // namespace cairn::monitor
