#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace cairn::monitor {

// A concept-drift detector fed one value at a time, typically a model's error stream (1 for a
// wrong prediction and 0 for a right one, or a real-valued loss). Each implementation is a port
// of river 0.26.1's detector of the same name with the same parameters, defaults and arithmetic:
// on the same stream it flags drift and warning on exactly the same updates.
//
// Flag semantics, as in river:
//  - drift_detected() is true right after the Update() whose value completed a detected change.
//    The detector then resets its statistics at the start of the next Update(), so the flag
//    reads true for exactly one update and the following updates start from scratch.
//  - warning_detected() is true while the detector is in its warning zone (DDM and EDDM; the
//    others never warn). Between updates that do not re-evaluate it (warm-up, or EDDM on a
//    correct prediction) it keeps its last value.
//
// Not thread-safe: one owner feeds a detector; wrap it in a lock to share it.
class DriftDetector {
 public:
  virtual ~DriftDetector();
  DriftDetector(const DriftDetector&) = delete;
  DriftDetector& operator=(const DriftDetector&) = delete;

  // Feeds one value. DDM and EDDM expect 0 or 1 (EDDM counts an error only when x == 1; DDM
  // accepts error probabilities in [0, 1], and outside that range its statistics become NaN where
  // river would raise). ADWIN and Page-Hinkley take any finite value.
  virtual void Update(double x) = 0;

  bool drift_detected() const { return drift_detected_; }
  bool warning_detected() const { return warning_detected_; }

  // "adwin", "ddm", "eddm" or "page_hinkley": the name CreateDetector takes.
  virtual std::string_view name() const = 0;

  // The effective parameters as a JSON object with river's names, defaults filled in. Passing it
  // back to CreateDetector gives an equivalent detector.
  virtual std::string ParamsJson() const = 0;

  // The full internal state (flags included) as JSON text. RestoreDetector, given the same
  // name and parameters, rebuilds a detector that continues bit-identically.
  virtual std::string SaveState() const = 0;

 protected:
  DriftDetector() = default;

  void set_drift_detected(bool v) { drift_detected_ = v; }
  void set_warning_detected(bool v) { warning_detected_ = v; }

 private:
  bool drift_detected_ = false;
  bool warning_detected_ = false;
};

// The names CreateDetector accepts.
std::span<const std::string_view> DetectorNames();

// Creates a detector by name from a JSON object of river's parameter names ("{}" or empty text
// for all defaults). INVALID_ARGUMENT, naming the culprit, for an unknown detector name,
// malformed JSON, an unknown key, a value of the wrong type or one out of range.
StatusOr<std::unique_ptr<DriftDetector>> CreateDetector(std::string_view name,
                                                        std::string_view params_json);

// Rebuilds a detector from the parameters it was created with and the text its SaveState()
// returned. INVALID_ARGUMENT when the parameters are invalid, or the state is malformed, belongs
// to another kind of detector or is inconsistent with the parameters.
StatusOr<std::unique_ptr<DriftDetector>> RestoreDetector(std::string_view name,
                                                         std::string_view params_json,
                                                         std::string_view state_json);

}  // namespace cairn::monitor
