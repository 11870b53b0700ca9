#include "monitor/detectors/ddm.h"

#include <cmath>

#include "monitor/detectors/detector_json.h"

namespace cairn::monitor {

namespace dj = detector_json;

Status DdmOptions::Validate() const {
  if (warm_start < 0) return dj::OutOfRange(Ddm::kName, "warm_start", ">= 0", warm_start);
  if (!(warning_threshold > 0) || std::isinf(warning_threshold)) {
    return dj::OutOfRange(Ddm::kName, "warning_threshold", "finite and > 0", warning_threshold);
  }
  if (!(drift_threshold > 0) || std::isinf(drift_threshold)) {
    return dj::OutOfRange(Ddm::kName, "drift_threshold", "finite and > 0", drift_threshold);
  }
  return Status::Ok();
}

StatusOr<DdmOptions> DdmOptions::FromJson(std::string_view params_json) {
  ASSIGN_OR_RETURN(boost::json::object params,
                   dj::ParseParams(Ddm::kName, params_json,
                                   {"warm_start", "warning_threshold", "drift_threshold"}));
  DdmOptions o;
  ASSIGN_OR_RETURN(o.warm_start, dj::IntegerParam(params, Ddm::kName, "warm_start", o.warm_start));
  ASSIGN_OR_RETURN(o.warning_threshold,
                   dj::NumberParam(params, Ddm::kName, "warning_threshold", o.warning_threshold));
  ASSIGN_OR_RETURN(o.drift_threshold,
                   dj::NumberParam(params, Ddm::kName, "drift_threshold", o.drift_threshold));
  RETURN_IF_ERROR(o.Validate());
  return o;
}

std::string DdmOptions::ToJson() const {
  return dj::ObjectWriter()
      .Integer("warm_start", warm_start)
      .Number("warning_threshold", warning_threshold)
      .Number("drift_threshold", drift_threshold)
      .Finish();
}

Ddm::Ddm(DdmOptions options) : options_(options) {}

void Ddm::Reset() {
  set_drift_detected(false);
  set_warning_detected(false);
  n_ = 0.0;
  p_ = 0.0;
  p_min_ = 0.0;
  s_min_ = 0.0;
  ps_min_ = std::numeric_limits<double>::infinity();
}

void Ddm::Update(double x) {
  if (drift_detected()) Reset();

  // stats.Mean.update, operation for operation.
  n_ += 1.0;
  p_ += (1.0 / n_) * (x - p_);
  const double s = std::sqrt(p_ * (1.0 - p_) / n_);

  if (n_ > static_cast<double>(options_.warm_start)) {
    if (p_ + s <= ps_min_) {
      p_min_ = p_;
      s_min_ = s;
      ps_min_ = p_min_ + s_min_;
    }
    set_warning_detected(p_ + s > p_min_ + options_.warning_threshold * s_min_);
    if (p_ + s > p_min_ + options_.drift_threshold * s_min_) {
      set_drift_detected(true);
      set_warning_detected(false);
    }
  }
}

std::string Ddm::SaveState() const {
  return dj::ObjectWriter()
      .String("detector", kName)
      .Integer("version", 1)
      .Bool("drift_detected", drift_detected())
      .Bool("warning_detected", warning_detected())
      .Number("n", n_)
      .Number("p", p_)
      .Number("p_min", p_min_)
      .Number("s_min", s_min_)
      .Number("ps_min", ps_min_)
      .Finish();
}

StatusOr<std::unique_ptr<Ddm>> Ddm::Restore(const DdmOptions& options,
                                            std::string_view state_json) {
  RETURN_IF_ERROR(options.Validate());
  ASSIGN_OR_RETURN(boost::json::object state, dj::ParseState(kName, state_json));
  auto ddm = std::make_unique<Ddm>(options);
  ASSIGN_OR_RETURN(bool drift, dj::StateBool(state, kName, "drift_detected"));
  ASSIGN_OR_RETURN(bool warning, dj::StateBool(state, kName, "warning_detected"));
  ddm->set_drift_detected(drift);
  ddm->set_warning_detected(warning);
  ASSIGN_OR_RETURN(ddm->n_, dj::StateNumber(state, kName, "n"));
  ASSIGN_OR_RETURN(ddm->p_, dj::StateNumber(state, kName, "p"));
  ASSIGN_OR_RETURN(ddm->p_min_, dj::StateNumber(state, kName, "p_min"));
  ASSIGN_OR_RETURN(ddm->s_min_, dj::StateNumber(state, kName, "s_min"));
  ASSIGN_OR_RETURN(ddm->ps_min_, dj::StateNumber(state, kName, "ps_min"));
  if (!(ddm->n_ >= 0) || std::trunc(ddm->n_) != ddm->n_) {
    return dj::BadState(kName, "'n' must be a count");
  }
  return ddm;
}

}  // namespace cairn::monitor
