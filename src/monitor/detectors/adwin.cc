#include "monitor/detectors/adwin.h"

#include <cmath>
#include <cstddef>

#include "monitor/detectors/detector_json.h"

namespace cairn::monitor {

namespace dj = detector_json;

namespace {

constexpr int64_t kInt32Max = 2147483647;

// river's Rust counters are i32 built without overflow checks: they wrap.
int32_t WrappingAdd(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}

// The number of values a bucket in row `row` summarises, 2^row.
double RowSize(size_t row) { return std::ldexp(1.0, static_cast<int>(row)); }

}  // namespace

Status AdwinOptions::Validate() const {
  constexpr std::string_view kName = Adwin::kName;
  if (!(delta > 0 && delta < 1)) return dj::OutOfRange(kName, "delta", "in (0, 1)", delta);
  if (clock < 1 || clock > kInt32Max) {
    return dj::OutOfRange(kName, "clock", "in [1, 2147483647]", clock);
  }
  // river 0.26.1 accepts 1 but then panics on the second cut of an update: a merge can empty
  // a row, and a cut can leave that empty row last.
  if (max_buckets < 2 || max_buckets > kInt32Max) {
    return dj::OutOfRange(kName, "max_buckets", "in [2, 2147483647]", max_buckets);
  }
  if (min_window_length < 1 || min_window_length > kInt32Max) {
    return dj::OutOfRange(kName, "min_window_length", "in [1, 2147483647]", min_window_length);
  }
  if (grace_period < 0 || grace_period > kInt32Max) {
    return dj::OutOfRange(kName, "grace_period", "in [0, 2147483647]", grace_period);
  }
  return Status::Ok();
}

StatusOr<AdwinOptions> AdwinOptions::FromJson(std::string_view params_json) {
  constexpr std::string_view kName = Adwin::kName;
  ASSIGN_OR_RETURN(
      boost::json::object params,
      dj::ParseParams(kName, params_json,
                      {"delta", "clock", "max_buckets", "min_window_length", "grace_period"}));
  AdwinOptions o;
  ASSIGN_OR_RETURN(o.delta, dj::NumberParam(params, kName, "delta", o.delta));
  ASSIGN_OR_RETURN(o.clock, dj::IntegerParam(params, kName, "clock", o.clock));
  ASSIGN_OR_RETURN(o.max_buckets, dj::IntegerParam(params, kName, "max_buckets", o.max_buckets));
  ASSIGN_OR_RETURN(o.min_window_length,
                   dj::IntegerParam(params, kName, "min_window_length", o.min_window_length));
  ASSIGN_OR_RETURN(o.grace_period, dj::IntegerParam(params, kName, "grace_period", o.grace_period));
  RETURN_IF_ERROR(o.Validate());
  return o;
}

std::string AdwinOptions::ToJson() const {
  return dj::ObjectWriter()
      .Number("delta", delta)
      .Integer("clock", clock)
      .Integer("max_buckets", max_buckets)
      .Integer("min_window_length", min_window_length)
      .Integer("grace_period", grace_period)
      .Finish();
}

Adwin::Adwin(AdwinOptions options) : options_(options) { Reset(); }

void Adwin::Reset() {
  set_drift_detected(false);
  total_ = 0.0;
  variance_ = 0.0;
  width_ = 0.0;
  total_width_ = 0.0;
  n_buckets_ = 0;
  max_n_buckets_ = 0;
  tick_ = 0;
  n_detections_ = 0;
  rows_.assign(1, {});
}

void Adwin::Update(double x) {
  // river's ADWIN.update replaces its whole helper after a drift.
  if (drift_detected()) Reset();
  InsertElement(x);
  set_drift_detected(DetectChange());
}

// Every arithmetic expression below keeps river's operand order so that the doubles, and hence
// the cuts, come out bit-identical.
void Adwin::InsertElement(double value) {
  rows_[0].push_back({value, 0.0});
  n_buckets_ = WrappingAdd(n_buckets_, 1);
  if (n_buckets_ > max_n_buckets_) max_n_buckets_ = n_buckets_;

  width_ += 1.0;
  double incremental_variance = 0.0;
  if (width_ > 1.0) {
    const double delta_v = value - total_ / (width_ - 1.0);
    incremental_variance = (width_ - 1.0) * delta_v * delta_v / width_;
  }
  variance_ += incremental_variance;
  total_ += value;

  CompressBuckets();
}

void Adwin::CompressBuckets() {
  const size_t full = static_cast<size_t>(options_.max_buckets) + 1;
  for (size_t r = 0; rows_[r].size() == full; ++r) {
    const double n1 = RowSize(r);
    const Bucket b0 = rows_[r][0];
    const Bucket b1 = rows_[r][1];
    const double mu1 = b0.total / n1;
    const double mu2 = b1.total / n1;
    const double total12 = b0.total + b1.total;
    const double temp = n1 * 0.5 * (mu1 - mu2) * (mu1 - mu2);
    const double v12 = b0.variance + b1.variance + temp;

    if (r + 1 >= rows_.size()) rows_.emplace_back();
    rows_[r + 1].push_back({total12, v12});
    n_buckets_ = WrappingAdd(n_buckets_, 1);
    rows_[r].erase(rows_[r].begin(), rows_[r].begin() + 2);

    if (rows_[r + 1].size() < full) break;
  }
}

void Adwin::DeleteElement() {
  const size_t last = rows_.size() - 1;
  const double n = RowSize(last);
  const Bucket oldest = rows_[last].front();
  const double mu = oldest.total / n;

  width_ -= n;
  total_ -= oldest.total;
  const double mu_window = total_ / width_;
  const double inc =
      oldest.variance + n * width_ * (mu - mu_window) * (mu - mu_window) / (n + width_);
  variance_ -= inc;

  rows_[last].erase(rows_[last].begin());
  n_buckets_ = WrappingAdd(n_buckets_, -1);
  // Rows above 0 are never emptied by a merge (max_buckets >= 2), so the new last row holds
  // data; row 0 keeps at least the newest value.
  if (rows_[last].empty() && last > 0) rows_.pop_back();
}

bool Adwin::DetectChange() {
  bool change_detected = false;
  tick_ = WrappingAdd(tick_, 1);

  if (tick_ % static_cast<int32_t>(options_.clock) == 0 &&
      width_ > static_cast<double>(options_.grace_period)) {
    const double min_len = static_cast<double>(options_.min_window_length);
    bool reduce_width = true;
    while (reduce_width) {
      reduce_width = false;
      bool exit_flag = false;
      bool deleted = false;
      double n0 = 0.0;
      double n1 = width_;
      double u0 = 0.0;
      double u1 = total_;
      // Older rows first; within a row, oldest bucket first.
      for (size_t r = rows_.size(); r-- > 0 && !exit_flag && !deleted;) {
        const double bucket_size = RowSize(r);
        const size_t count = rows_[r].size();
        for (size_t k = 0; k < count; ++k) {
          n0 += bucket_size;
          n1 -= bucket_size;
          const double total_at = rows_[r][k].total;
          u0 += total_at;
          u1 -= total_at;

          if (r == 0 && k == count - 1) {
            exit_flag = true;
            break;
          }

          const double delta_mean = (u0 / n0) - (u1 / n1);
          if (n1 >= min_len && n0 >= min_len && EvaluateCut(n0, n1, delta_mean)) {
            reduce_width = true;
            change_detected = true;
            if (width_ > 0.0) {
              DeleteElement();
              deleted = true;
              break;
            }
          }
        }
      }
    }
  }

  total_width_ += width_;
  if (change_detected) n_detections_ = WrappingAdd(n_detections_, 1);
  return change_detected;
}

bool Adwin::EvaluateCut(double n0, double n1, double delta_mean) const {
  const double min_len = static_cast<double>(options_.min_window_length);
  const double delta_prime = std::log(2.0 * std::log(width_) / options_.delta);
  const double m_recip = 1.0 / (n0 - min_len + 1.0) + 1.0 / (n1 - min_len + 1.0);
  const double epsilon = std::sqrt(2.0 * m_recip * (variance_ / width_) * delta_prime) +
                         2.0 / 3.0 * delta_prime * m_recip;
  return std::fabs(delta_mean) > epsilon;
}

std::string Adwin::SaveState() const {
  std::string rows = "[";
  for (size_t r = 0; r < rows_.size(); ++r) {
    rows += r == 0 ? "[" : ",[";
    for (size_t k = 0; k < rows_[r].size(); ++k) {
      if (k > 0) rows += ',';
      rows += '[' + dj::FormatDouble(rows_[r][k].total) + ',' +
              dj::FormatDouble(rows_[r][k].variance) + ']';
    }
    rows += ']';
  }
  rows += ']';
  return dj::ObjectWriter()
      .String("detector", kName)
      .Integer("version", 1)
      .Bool("drift_detected", drift_detected())
      .Number("total", total_)
      .Number("variance", variance_)
      .Number("width", width_)
      .Number("total_width", total_width_)
      .Integer("n_buckets", n_buckets_)
      .Integer("max_n_buckets", max_n_buckets_)
      .Integer("tick", tick_)
      .Integer("n_detections", n_detections_)
      .Raw("buckets", rows)
      .Finish();
}

StatusOr<std::unique_ptr<Adwin>> Adwin::Restore(const AdwinOptions& options,
                                                std::string_view state_json) {
  RETURN_IF_ERROR(options.Validate());
  ASSIGN_OR_RETURN(boost::json::object state, dj::ParseState(kName, state_json));
  auto adwin = std::make_unique<Adwin>(options);
  ASSIGN_OR_RETURN(bool drift, dj::StateBool(state, kName, "drift_detected"));
  adwin->set_drift_detected(drift);
  ASSIGN_OR_RETURN(adwin->total_, dj::StateNumber(state, kName, "total"));
  ASSIGN_OR_RETURN(adwin->variance_, dj::StateNumber(state, kName, "variance"));
  ASSIGN_OR_RETURN(adwin->width_, dj::StateNumber(state, kName, "width"));
  ASSIGN_OR_RETURN(adwin->total_width_, dj::StateNumber(state, kName, "total_width"));
  int32_t* counters[] = {&adwin->n_buckets_, &adwin->max_n_buckets_, &adwin->tick_,
                         &adwin->n_detections_};
  const char* names[] = {"n_buckets", "max_n_buckets", "tick", "n_detections"};
  for (size_t i = 0; i < 4; ++i) {
    ASSIGN_OR_RETURN(int64_t v, dj::StateInteger(state, kName, names[i]));
    if (v < -kInt32Max - 1 || v > kInt32Max) {
      return dj::BadState(kName, std::string("'") + names[i] + "' out of range");
    }
    *counters[i] = static_cast<int32_t>(v);
  }

  auto it = state.find("buckets");
  if (it == state.end() || !it->value().is_array() || it->value().as_array().empty() ||
      it->value().as_array().size() > 64) {
    return dj::BadState(kName, "'buckets' must be a list of 1 to 64 rows");
  }
  const boost::json::array& rows = it->value().as_array();
  adwin->rows_.assign(rows.size(), {});
  double width = 0.0;
  for (size_t r = 0; r < rows.size(); ++r) {
    if (!rows[r].is_array() ||
        rows[r].as_array().size() > static_cast<size_t>(options.max_buckets)) {
      return dj::BadState(kName, "each row of 'buckets' must be a list of at most max_buckets (" +
                                     std::to_string(options.max_buckets) + ") buckets");
    }
    for (const boost::json::value& bucket : rows[r].as_array()) {
      if (!bucket.is_array() || bucket.as_array().size() != 2) {
        return dj::BadState(kName, "a bucket must be [total, variance]");
      }
      ASSIGN_OR_RETURN(double total, dj::AsStateNumber(bucket.as_array()[0], kName, "buckets"));
      ASSIGN_OR_RETURN(double variance, dj::AsStateNumber(bucket.as_array()[1], kName, "buckets"));
      adwin->rows_[r].push_back({total, variance});
      width += RowSize(r);
    }
  }
  if (rows.size() > 1 && adwin->rows_.back().empty()) {
    return dj::BadState(kName, "the last row of 'buckets' is empty");
  }
  if (width != adwin->width_) {
    return dj::BadState(kName, "'width' does not match the buckets");
  }
  return adwin;
}

}  // namespace cairn::monitor
