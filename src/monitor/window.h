#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "monitor/drift_config.h"
#include "monitor/event_features.h"
#include "monitor/performance.h"
#include "monitor/profile/reference_profile.h"
#include "monitor/stats/column_values.h"

namespace cairn::monitor {

// The rows of one window kept for the drift tests: every row up to `capacity`, beyond it a
// uniform reservoir sample over rows (the same rows for every column, so features stay paired).
// Numbers are stored as doubles; a column that ever holds text keeps the text of every row.
class WindowSample {
 public:
  WindowSample(size_t capacity, uint64_t seed) : capacity_(capacity), rng_(seed) {}

  void AddRows(const EventRows& rows);
  // The column `name`'s values read as `kind` (numbers keep their text in a categorical column;
  // text that is not a number counts as missing in a numeric one).
  ColumnValues Values(std::string_view name, FeatureKind kind) const;
  // The predictions' values read as `kind`.
  ColumnValues PredictionValues(FeatureKind kind) const { return Read(predictions_, kind); }
  const std::vector<std::string>& names() const { return names_; }
  int64_t rows_seen() const { return rows_seen_; }
  size_t rows_kept() const { return kept_; }

 private:
  struct Column {
    std::vector<double> numbers;    // NaN: missing or text
    std::vector<std::string> text;  // empty until the column holds text
  };
  static void Set(Column& column, size_t row, const Cell& cell);
  static ColumnValues Read(const Column& column, FeatureKind kind);
  size_t ColumnIndex(const std::string& name);  // appends a column when new

  const size_t capacity_;
  std::mt19937_64 rng_;
  int64_t rows_seen_ = 0;
  size_t kept_ = 0;
  std::vector<std::string> names_;
  std::vector<Column> columns_;
  Column predictions_;
};

// What a window counted besides the sample.
struct WindowCounters {
  int64_t requests = 0;
  int64_t rows = 0;
  int64_t errors = 0;      // answered with a status >= 400
  int64_t unreadable = 0;  // requests whose inputs could not be read (not in the drift sample)
  int64_t late = 0;        // requests that arrived after their own window had closed
  std::vector<double> latencies_ms;            // every request's, up to a cap (then a reservoir)
  uint64_t sample_state = 0x9e3779b97f4a7c15;  // the latency reservoir's random state
  int64_t first_timestamp_ms = 0;
  int64_t last_timestamp_ms = 0;
  std::string model_version;  // of the newest request
};

// Everything a closed window measured, as the JSON object stored and served:
//   {"requests", "rows", "errors", "error_rate", "late", "unreadable",
//    "latency_ms": {"p50", "p95", "p99", "max"}, "throughput_rps",
//    "reference_version" (absent without a reference),
//    "data_drift": {"status": "ok"|"no_reference"|"insufficient_data", "drifted", "total",
//                   "share", "drift", "features": {name: {"kind", "method", "score",
//                   "statistic", "threshold", "drift", "n_reference", "n_current", "missing"}}},
//    "prediction_drift": {... one feature's entry, or "status"},
//    "performance": {"labels", "task", metrics...} (when any label joined)}
// `duration_ms` is the window's length, for the throughput.
boost::json::object WindowResults(const DriftConfig& config, const ReferenceProfile* reference,
                                  int64_t reference_version, const WindowSample& sample,
                                  const WindowCounters& counters, int64_t duration_ms);

// The performance block of a window's results from its labeled predictions.
boost::json::object PerformanceJson(const PerformanceMetrics& metrics);

// The value at quantile q of `values` (sorted in place), numpy's linear interpolation.
double Quantile(std::vector<double>& values, double q);

}  // namespace cairn::monitor
