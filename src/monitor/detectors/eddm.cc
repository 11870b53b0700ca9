#include "monitor/detectors/eddm.h"

#include <cmath>

#include "monitor/detectors/detector_json.h"

namespace cairn::monitor {

namespace dj = detector_json;

Status EddmOptions::Validate() const {
  if (warm_start < 0) return dj::OutOfRange(Eddm::kName, "warm_start", ">= 0", warm_start);
  if (!(alpha > 0 && alpha <= 1)) return dj::OutOfRange(Eddm::kName, "alpha", "in (0, 1]", alpha);
  if (!(beta > 0 && beta <= 1)) return dj::OutOfRange(Eddm::kName, "beta", "in (0, 1]", beta);
  if (alpha < beta) {
    return dj::OutOfRange(Eddm::kName, "beta", "<= alpha (" + dj::FormatDouble(alpha) + ")", beta);
  }
  return Status::Ok();
}

StatusOr<EddmOptions> EddmOptions::FromJson(std::string_view params_json) {
  ASSIGN_OR_RETURN(boost::json::object params,
                   dj::ParseParams(Eddm::kName, params_json, {"warm_start", "alpha", "beta"}));
  EddmOptions o;
  ASSIGN_OR_RETURN(o.warm_start, dj::IntegerParam(params, Eddm::kName, "warm_start", o.warm_start));
  ASSIGN_OR_RETURN(o.alpha, dj::NumberParam(params, Eddm::kName, "alpha", o.alpha));
  ASSIGN_OR_RETURN(o.beta, dj::NumberParam(params, Eddm::kName, "beta", o.beta));
  RETURN_IF_ERROR(o.Validate());
  return o;
}

std::string EddmOptions::ToJson() const {
  return dj::ObjectWriter()
      .Integer("warm_start", warm_start)
      .Number("alpha", alpha)
      .Number("beta", beta)
      .Finish();
}

Eddm::Eddm(EddmOptions options) : options_(options) {}

void Eddm::Reset() {
  set_drift_detected(false);
  set_warning_detected(false);
  dist_n_ = 0.0;
  dist_mean_ = 0.0;
  dist_m2_ = 0.0;
  n_ = 0;
  last_error_ = 0;
  n_errors_ = 0;
  p2s_max_ = -1.0;
}

void Eddm::Update(double x) {
  if (drift_detected()) Reset();

  ++n_;
  if (x != 1.0) return;

  ++n_errors_;
  // stats.Var.update with weight 1, operation for operation.
  const double distance = static_cast<double>(n_ - last_error_);
  const double mean_old = dist_mean_;
  dist_n_ += 1.0;
  dist_mean_ += (1.0 / dist_n_) * (distance - dist_mean_);
  dist_m2_ += (distance - mean_old) * (distance - dist_mean_);

  if (n_ > options_.warm_start) {
    const double variance = dist_n_ > 1.0 ? dist_m2_ / (dist_n_ - 1.0) : 0.0;
    // river takes `variance ** 0.5`, which is C's pow, not sqrt.
    const double p2s = dist_mean_ + 2.0 * std::pow(variance, 0.5);
    if (p2s > p2s_max_) {
      p2s_max_ = p2s;
    } else if (n_errors_ > options_.warm_start) {
      const double level = p2s / p2s_max_;
      if (level < options_.beta) {
        set_drift_detected(true);
      } else if (level < options_.alpha) {
        set_warning_detected(true);
      } else {
        set_warning_detected(false);
      }
    }
  }
  last_error_ = n_;
}

std::string Eddm::SaveState() const {
  return dj::ObjectWriter()
      .String("detector", kName)
      .Integer("version", 1)
      .Bool("drift_detected", drift_detected())
      .Bool("warning_detected", warning_detected())
      .Number("dist_n", dist_n_)
      .Number("dist_mean", dist_mean_)
      .Number("dist_m2", dist_m2_)
      .Integer("n", n_)
      .Integer("last_error", last_error_)
      .Integer("n_errors", n_errors_)
      .Number("p2s_max", p2s_max_)
      .Finish();
}

StatusOr<std::unique_ptr<Eddm>> Eddm::Restore(const EddmOptions& options,
                                              std::string_view state_json) {
  RETURN_IF_ERROR(options.Validate());
  ASSIGN_OR_RETURN(boost::json::object state, dj::ParseState(kName, state_json));
  auto eddm = std::make_unique<Eddm>(options);
  ASSIGN_OR_RETURN(bool drift, dj::StateBool(state, kName, "drift_detected"));
  ASSIGN_OR_RETURN(bool warning, dj::StateBool(state, kName, "warning_detected"));
  eddm->set_drift_detected(drift);
  eddm->set_warning_detected(warning);
  ASSIGN_OR_RETURN(eddm->dist_n_, dj::StateNumber(state, kName, "dist_n"));
  ASSIGN_OR_RETURN(eddm->dist_mean_, dj::StateNumber(state, kName, "dist_mean"));
  ASSIGN_OR_RETURN(eddm->dist_m2_, dj::StateNumber(state, kName, "dist_m2"));
  ASSIGN_OR_RETURN(eddm->n_, dj::StateInteger(state, kName, "n"));
  ASSIGN_OR_RETURN(eddm->last_error_, dj::StateInteger(state, kName, "last_error"));
  ASSIGN_OR_RETURN(eddm->n_errors_, dj::StateInteger(state, kName, "n_errors"));
  ASSIGN_OR_RETURN(eddm->p2s_max_, dj::StateNumber(state, kName, "p2s_max"));
  if (eddm->n_ < 0 || eddm->last_error_ < 0 || eddm->last_error_ > eddm->n_ ||
      eddm->n_errors_ < 0 || eddm->n_errors_ > eddm->n_ ||
      eddm->dist_n_ != static_cast<double>(eddm->n_errors_)) {
    return dj::BadState(kName, "inconsistent counts");
  }
  return eddm;
}

}  // namespace cairn::monitor
