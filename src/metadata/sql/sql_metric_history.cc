#include "metadata/sql/sql_metric_history.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include "metadata/metric_chunk.h"

namespace cairn::metadata::sql_store {

Status AppendMetricChunk(Connection& db, std::string_view tenant, std::string_view run_id,
                         std::string_view key, std::span<const Metric* const> points) {
  if (points.empty()) return Status::Ok();
  auto [min_it, max_it] =
      std::minmax_element(points.begin(), points.end(),
                          [](const Metric* a, const Metric* b) { return a->step < b->step; });
  std::string chunk = EncodeMetricChunk(points);
  ASSIGN_OR_RETURN(Statement insert,
                   db.Prepare("INSERT INTO metric_chunks (run_uuid, key, tenant_id, point_count, "
                              "min_step, max_step, points) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  return insert
      .Bind(run_id, key, tenant, static_cast<int64_t>(points.size()), (*min_it)->step,
            (*max_it)->step, Blob{chunk})
      .Run();
}

void MetricHistory::Add(int64_t timestamp, int64_t step, double value, Extras* extras) {
  bool nan = std::isnan(value);
  int32_t extra = -1;
  if (extras != nullptr) {
    extra = static_cast<int32_t>(extras_.size());
    extras_.push_back(std::move(*extras));
  }
  points_.push_back(
      {timestamp, step, nan ? 0.0 : value, nan, static_cast<uint32_t>(points_.size()), extra});
}

StatusOr<MetricHistory> MetricHistory::Load(Connection& db, std::string_view run_id,
                                            std::string_view key, int64_t min_step,
                                            int64_t max_step, HistoryOrder order) {
  MetricHistory history;
  {
    // Rows from schema versions 1-2 were all logged before any chunk.
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("SELECT timestamp, step, value, is_nan, model_id, dataset_name, "
                                "dataset_digest FROM metrics WHERE run_uuid = ? AND key = ? AND "
                                "step >= ? AND step <= ?"));
    s.Bind(run_id, key, min_step, max_step);
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      double value = s.Int(3) != 0 ? std::numeric_limits<double>::quiet_NaN() : s.Double(2);
      Extras extras = {s.OptionalText(4), s.OptionalText(5), s.OptionalText(6)};
      bool any = extras[0] || extras[1] || extras[2];
      history.Add(s.Int(0), s.Int(1), value, any ? &extras : nullptr);
    }
  }
  ASSIGN_OR_RETURN(Statement s,
                   db.Prepare("SELECT points FROM metric_chunks WHERE run_uuid = ? AND key = ? "
                              "AND max_step >= ? AND min_step <= ? ORDER BY chunk_id"));
  s.Bind(run_id, key, min_step, max_step);
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    MetricChunkReader reader(s.BlobView(0));
    ChunkPoint p;
    while (reader.Next(p)) {
      if (p.step < min_step || p.step > max_step) continue;
      if (p.model_id || p.dataset_name || p.dataset_digest) {
        auto text = [](const std::optional<std::string_view>& v) {
          return v ? std::optional<std::string>(*v) : std::nullopt;
        };
        Extras extras = {text(p.model_id), text(p.dataset_name), text(p.dataset_digest)};
        history.Add(p.timestamp, p.step, p.value, &extras);
      } else {
        history.Add(p.timestamp, p.step, p.value, nullptr);
      }
    }
    RETURN_IF_ERROR(reader.status());
  }
  history.SortAndCollapse(order);
  return history;
}

void MetricHistory::SortAndCollapse(HistoryOrder order) {
  auto by_timestamp = [](const Point& p) {
    return std::tie(p.timestamp, p.step, p.value, p.is_nan, p.seq);
  };
  auto by_step = [](const Point& p) {
    return std::tie(p.step, p.timestamp, p.value, p.is_nan, p.seq);
  };
  if (order == HistoryOrder::kTimestamp) {
    std::sort(points_.begin(), points_.end(),
              [&](const Point& a, const Point& b) { return by_timestamp(a) < by_timestamp(b); });
  } else {
    std::sort(points_.begin(), points_.end(),
              [&](const Point& a, const Point& b) { return by_step(a) < by_step(b); });
  }
  // Both orders put identical points next to each other, the first logged first.
  auto same = [](const Point& a, const Point& b) {
    return a.timestamp == b.timestamp && a.step == b.step && a.value == b.value &&
           a.is_nan == b.is_nan;
  };
  points_.erase(std::unique(points_.begin(), points_.end(), same), points_.end());
}

Metric MetricHistory::At(size_t i, std::string_view key, std::string_view run_id) const {
  const Point& p = points_[i];
  Metric m;
  m.key = std::string(key);
  m.value = p.is_nan ? std::numeric_limits<double>::quiet_NaN() : p.value;
  m.timestamp = p.timestamp;
  m.step = p.step;
  m.run_id = std::string(run_id);
  if (p.extra >= 0) {
    const Extras& extras = extras_[static_cast<size_t>(p.extra)];
    m.model_id = extras[0];
    m.dataset_name = extras[1];
    m.dataset_digest = extras[2];
  }
  return m;
}

}  // namespace cairn::metadata::sql_store
