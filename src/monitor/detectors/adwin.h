#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "monitor/detectors/drift_detector.h"

namespace cairn::monitor {

// river.drift.ADWIN's parameters and defaults.
struct AdwinOptions {
  double delta = 0.002;           // significance, in (0, 1)
  int64_t clock = 32;             // test for a cut every `clock` updates, in [1, 2^31 - 1]
  int64_t max_buckets = 5;        // buckets of each size kept before merging, in [2, 2^31 - 1]
  int64_t min_window_length = 5;  // smallest sub-window a cut may leave, in [1, 2^31 - 1]
  int64_t grace_period = 10;      // window width before any test, in [0, 2^31 - 1]

  // INVALID_ARGUMENT naming the first parameter out of range.
  Status Validate() const;
  // Reads river's names ("{}" for defaults) and validates.
  static StatusOr<AdwinOptions> FromJson(std::string_view params_json);
  std::string ToJson() const;
};

// ADaptive WINdowing (ADWIN2, Bifet & Gavaldà, SDM 2007) as river 0.26.1 runs it (its Rust
// AdaptiveWindowing behind drift.ADWIN). The window is an exponential histogram: row r holds up
// to max_buckets summaries (total, variance) of 2^r values each, oldest first; when a row gets
// one more, its two oldest merge into the next row. Every `clock`-th update, once the window is
// wider than grace_period, every split into an older W0 and a newer W1 (both at least
// min_window_length wide) is tested with |mean(W0) - mean(W1)| > epsilon(delta); on a cut the
// oldest bucket is dropped and the test restarts. Any cut in an update flags drift, and, as in
// river, the next update starts from an empty window.
class Adwin final : public DriftDetector {
 public:
  static constexpr std::string_view kName = "adwin";

  // `options` must pass Validate().
  explicit Adwin(AdwinOptions options = {});
  static StatusOr<std::unique_ptr<Adwin>> Restore(const AdwinOptions& options,
                                                  std::string_view state_json);

  void Update(double x) override;
  std::string_view name() const override { return kName; }
  std::string ParamsJson() const override { return options_.ToJson(); }
  std::string SaveState() const override;

  const AdwinOptions& options() const { return options_; }

  // river's read-outs: the window's width, sum, sum of squared deviations and mean (0 when
  // empty), and the cuts counted since the last reset.
  double width() const { return width_; }
  double total() const { return total_; }
  double variance() const { return variance_; }
  double estimation() const { return width_ == 0.0 ? 0.0 : total_ / width_; }
  int64_t n_detections() const { return n_detections_; }

 private:
  struct Bucket {
    double total;
    double variance;
  };

  void Reset();
  void InsertElement(double value);
  void CompressBuckets();
  void DeleteElement();
  bool DetectChange();
  bool EvaluateCut(double n0, double n1, double delta_mean) const;

  AdwinOptions options_;
  double total_ = 0.0;
  double variance_ = 0.0;
  double width_ = 0.0;
  double total_width_ = 0.0;
  // river keeps these as 32-bit integers; tick_ wraps as it does there.
  int32_t n_buckets_ = 0;
  int32_t max_n_buckets_ = 0;
  int32_t tick_ = 0;
  int32_t n_detections_ = 0;
  std::vector<std::vector<Bucket>> rows_;  // rows_[r]: summaries of 2^r values, oldest first
};

}  // namespace cairn::monitor
