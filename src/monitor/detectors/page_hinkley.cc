#include "monitor/detectors/page_hinkley.h"

#include <cmath>

#include "monitor/detectors/detector_json.h"

namespace cairn::monitor {

namespace dj = detector_json;

std::string_view PageHinkleyModeName(PageHinkleyMode mode) {
  switch (mode) {
    case PageHinkleyMode::kUp:
      return "up";
    case PageHinkleyMode::kDown:
      return "down";
    case PageHinkleyMode::kBoth:
      return "both";
  }
  return "both";
}

Status PageHinkleyOptions::Validate() const {
  constexpr std::string_view kName = PageHinkley::kName;
  if (min_instances < 0) return dj::OutOfRange(kName, "min_instances", ">= 0", min_instances);
  if (!(delta >= 0) || std::isinf(delta)) {
    return dj::OutOfRange(kName, "delta", "finite and >= 0", delta);
  }
  if (!(threshold > 0) || std::isinf(threshold)) {
    return dj::OutOfRange(kName, "threshold", "finite and > 0", threshold);
  }
  if (!(alpha > 0 && alpha <= 1)) return dj::OutOfRange(kName, "alpha", "in (0, 1]", alpha);
  return Status::Ok();
}

StatusOr<PageHinkleyOptions> PageHinkleyOptions::FromJson(std::string_view params_json) {
  constexpr std::string_view kName = PageHinkley::kName;
  ASSIGN_OR_RETURN(boost::json::object params,
                   dj::ParseParams(kName, params_json,
                                   {"min_instances", "delta", "threshold", "alpha", "mode"}));
  PageHinkleyOptions o;
  ASSIGN_OR_RETURN(o.min_instances,
                   dj::IntegerParam(params, kName, "min_instances", o.min_instances));
  ASSIGN_OR_RETURN(o.delta, dj::NumberParam(params, kName, "delta", o.delta));
  ASSIGN_OR_RETURN(o.threshold, dj::NumberParam(params, kName, "threshold", o.threshold));
  ASSIGN_OR_RETURN(o.alpha, dj::NumberParam(params, kName, "alpha", o.alpha));
  ASSIGN_OR_RETURN(std::string mode, dj::StringParam(params, kName, "mode", "both"));
  if (mode == "up") {
    o.mode = PageHinkleyMode::kUp;
  } else if (mode == "down") {
    o.mode = PageHinkleyMode::kDown;
  } else if (mode == "both") {
    o.mode = PageHinkleyMode::kBoth;
  } else {
    return InvalidArgument(std::string(kName) +
                           ": parameter 'mode' must be \"up\", \"down\" or \"both\", got \"" +
                           mode + "\"");
  }
  RETURN_IF_ERROR(o.Validate());
  return o;
}

std::string PageHinkleyOptions::ToJson() const {
  return dj::ObjectWriter()
      .Integer("min_instances", min_instances)
      .Number("delta", delta)
      .Number("threshold", threshold)
      .Number("alpha", alpha)
      .String("mode", PageHinkleyModeName(mode))
      .Finish();
}

PageHinkley::PageHinkley(PageHinkleyOptions options) : options_(options) {}

void PageHinkley::Reset() {
  set_drift_detected(false);
  n_ = 0.0;
  mean_ = 0.0;
  sum_increase_ = 0.0;
  sum_decrease_ = 0.0;
  min_increase_ = std::numeric_limits<double>::infinity();
  max_decrease_ = -1.0;
}

void PageHinkley::Update(double x) {
  if (drift_detected()) Reset();

  // stats.Mean.update, operation for operation.
  n_ += 1.0;
  mean_ += (1.0 / n_) * (x - mean_);
  const double dev = x - mean_;

  sum_increase_ = options_.alpha * sum_increase_ + dev - options_.delta;
  sum_decrease_ = options_.alpha * sum_decrease_ + dev + options_.delta;
  if (sum_increase_ < min_increase_) min_increase_ = sum_increase_;
  if (sum_decrease_ > max_decrease_) max_decrease_ = sum_decrease_;

  if (n_ >= static_cast<double>(options_.min_instances)) {
    const bool up = sum_increase_ - min_increase_ > options_.threshold;
    const bool down = max_decrease_ - sum_decrease_ > options_.threshold;
    switch (options_.mode) {
      case PageHinkleyMode::kUp:
        set_drift_detected(up);
        break;
      case PageHinkleyMode::kDown:
        set_drift_detected(down);
        break;
      case PageHinkleyMode::kBoth:
        set_drift_detected(up || down);
        break;
    }
  }
}

std::string PageHinkley::SaveState() const {
  return dj::ObjectWriter()
      .String("detector", kName)
      .Integer("version", 1)
      .Bool("drift_detected", drift_detected())
      .Number("n", n_)
      .Number("mean", mean_)
      .Number("sum_increase", sum_increase_)
      .Number("sum_decrease", sum_decrease_)
      .Number("min_increase", min_increase_)
      .Number("max_decrease", max_decrease_)
      .Finish();
}

StatusOr<std::unique_ptr<PageHinkley>> PageHinkley::Restore(const PageHinkleyOptions& options,
                                                            std::string_view state_json) {
  RETURN_IF_ERROR(options.Validate());
  ASSIGN_OR_RETURN(boost::json::object state, dj::ParseState(kName, state_json));
  auto ph = std::make_unique<PageHinkley>(options);
  ASSIGN_OR_RETURN(bool drift, dj::StateBool(state, kName, "drift_detected"));
  ph->set_drift_detected(drift);
  ASSIGN_OR_RETURN(ph->n_, dj::StateNumber(state, kName, "n"));
  ASSIGN_OR_RETURN(ph->mean_, dj::StateNumber(state, kName, "mean"));
  ASSIGN_OR_RETURN(ph->sum_increase_, dj::StateNumber(state, kName, "sum_increase"));
  ASSIGN_OR_RETURN(ph->sum_decrease_, dj::StateNumber(state, kName, "sum_decrease"));
  ASSIGN_OR_RETURN(ph->min_increase_, dj::StateNumber(state, kName, "min_increase"));
  ASSIGN_OR_RETURN(ph->max_decrease_, dj::StateNumber(state, kName, "max_decrease"));
  if (!(ph->n_ >= 0) || std::trunc(ph->n_) != ph->n_) {
    return dj::BadState(kName, "'n' must be a count");
  }
  return ph;
}

}  // namespace cairn::monitor
