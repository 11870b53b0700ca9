#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "metadata/types.h"
#include "sql/sql.h"

// Metric history of runs in SQLite: written as chunks (one row per (run, key) per write, see
// metadata/metric_chunk.h), read back merged with the row-per-point table of schema versions 1-2.
// Both functions run on the caller's connection inside the caller's transaction.
namespace cairn::metadata::sql_store {

using ::cairn::sql::Blob;
using ::cairn::sql::Connection;
using ::cairn::sql::Statement;

// Appends `points` (all of one key, in the order logged) to the history of `run_id`.
Status AppendMetricChunk(Connection& db, std::string_view tenant, std::string_view run_id,
                         std::string_view key, std::span<const Metric* const> points);

// The order a history is returned in.
enum class HistoryOrder {
  kTimestamp,  // timestamp, step, value: get-history
  kStep,       // step, timestamp, value: get-history-bulk-interval
};

// A run's history of one key with steps in [min_step, max_step]: sorted by `order` (a NaN value
// orders as 0, after a logged 0), identical points (timestamp, step, value) collapsed to the
// first logged.
class MetricHistory {
 public:
  static StatusOr<MetricHistory> Load(Connection& db, std::string_view run_id, std::string_view key,
                                      int64_t min_step, int64_t max_step, HistoryOrder order);

  size_t size() const { return points_.size(); }
  // Point `i` as a Metric with `key`, `run_id` and the optional model/dataset fields filled.
  Metric At(size_t i, std::string_view key, std::string_view run_id) const;

 private:
  struct Point {
    int64_t timestamp;
    int64_t step;
    double value;  // as ordered: NaN is 0 with is_nan set
    bool is_nan;
    uint32_t seq;   // the order logged
    int32_t extra;  // index into extras_, -1 when the point has none
  };
  using Extras = std::array<std::optional<std::string>, 3>;  // model_id, dataset name, digest

  void Add(int64_t timestamp, int64_t step, double value, Extras* extras);
  void SortAndCollapse(HistoryOrder order);

  std::vector<Point> points_;
  std::vector<Extras> extras_;
};

}  // namespace cairn::metadata::sql_store
