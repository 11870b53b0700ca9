#include "monitor/window.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "monitor/stats/column_drift.h"

namespace cairn::monitor {
namespace {

namespace bj = boost::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool ParseNumber(std::string_view text, double& out) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !std::isnan(out);
}

// A JSON number, or null when it is not finite (JSON has no spelling for those).
bj::value Num(double v) { return std::isfinite(v) ? bj::value(v) : bj::value(nullptr); }

bj::object DriftJson(const ColumnDrift& d, const ColumnValues& ref, const ColumnValues& cur) {
  bj::object o;
  o["kind"] = FeatureKindName(ref.kind);
  o["method"] = MethodName(d.method);
  o["score"] = Num(d.score);
  o["statistic"] = Num(d.statistic);
  o["threshold"] = d.threshold;
  o["p_value_test"] = d.p_value_test;
  o["drift"] = d.drift;
  o["n_reference"] = static_cast<int64_t>(ref.size());
  o["n_current"] = static_cast<int64_t>(cur.size());
  o["missing"] = cur.missing;
  return o;
}

// Tests one column; the entry says why when it could not be tested.
bj::object TestColumn(const ColumnValues& ref, const ColumnValues& cur, const FeatureTest& test,
                      int64_t min_samples, std::optional<ColumnDrift>& result) {
  if (static_cast<int64_t>(cur.size()) < min_samples) {
    bj::object o;
    o["status"] = "insufficient_data";
    o["n_current"] = static_cast<int64_t>(cur.size());
    o["min_samples"] = min_samples;
    return o;
  }
  StatusOr<ColumnDrift> drift = DetectColumnDrift(
      ref, cur, ColumnDriftOptions{.method = test.method, .threshold = test.threshold});
  if (!drift.ok()) {
    bj::object o;
    o["status"] = "error";
    o["error"] = drift.status().message();
    return o;
  }
  result = *drift;
  return DriftJson(*drift, ref, cur);
}

}  // namespace

void WindowSample::Set(Column& column, size_t row, const Cell& cell) {
  if (column.numbers.size() <= row) column.numbers.resize(row + 1, kNaN);
  // A text column grows with its numbers before the row is written (not after: resizing then
  // would construct a fresh empty string over the one just written past the end).
  if (!column.text.empty() && column.text.size() < column.numbers.size()) {
    column.text.resize(column.numbers.size());
  }
  const bool has_text = !column.text.empty();
  switch (cell.type) {
    case Cell::Type::kMissing:
      column.numbers[row] = kNaN;
      if (has_text) column.text[row].clear();
      break;
    case Cell::Type::kNumber:
      column.numbers[row] = cell.number;
      if (has_text) column.text[row] = CellKey(cell);
      break;
    case Cell::Type::kString: {
      if (!has_text) {
        column.text.resize(column.numbers.size());
        for (size_t i = 0; i < column.numbers.size(); ++i) {
          if (!std::isnan(column.numbers[i])) {
            column.text[i] =
                CellKey(Cell{.type = Cell::Type::kNumber, .number = column.numbers[i]});
          }
        }
      }
      double v = 0;
      column.numbers[row] = ParseNumber(cell.text, v) ? v : kNaN;
      column.text[row] = cell.text;
      break;
    }
  }
}

size_t WindowSample::ColumnIndex(const std::string& name) {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return i;
  }
  names_.push_back(name);
  Column& column = columns_.emplace_back();
  column.numbers.assign(kept_, kNaN);
  return names_.size() - 1;
}

void WindowSample::AddRows(const EventRows& rows) {
  // Requests of one model carry the same columns in the same order: look by position first.
  // Pointers are taken once every column exists (ColumnFor may grow columns_).
  std::vector<size_t> index(rows.names.size());
  for (size_t c = 0; c < rows.names.size(); ++c) {
    index[c] = c < names_.size() && names_[c] == rows.names[c] ? c : ColumnIndex(rows.names[c]);
  }
  std::vector<Column*> columns;
  columns.reserve(index.size());
  for (size_t i : index) columns.push_back(&columns_[i]);
  for (size_t r = 0; r < rows.rows; ++r) {
    size_t slot = kept_;
    ++rows_seen_;
    if (kept_ >= capacity_) {
      slot = static_cast<size_t>(rng_() % static_cast<uint64_t>(rows_seen_));
      if (slot >= capacity_) continue;
    } else {
      ++kept_;
    }
    for (size_t c = 0; c < columns.size(); ++c) Set(*columns[c], slot, rows.columns[c][r]);
    Set(predictions_, slot, r < rows.predictions.size() ? rows.predictions[r] : Cell{});
    // Columns this request did not carry are missing in its rows.
    if (columns.size() < columns_.size()) {
      for (Column& column : columns_) {
        if (std::find(columns.begin(), columns.end(), &column) == columns.end()) {
          Set(column, slot, Cell{});
        }
      }
    }
  }
}

ColumnValues WindowSample::Read(const Column& column, FeatureKind kind) {
  ColumnValues out;
  out.kind = kind;
  if (kind == FeatureKind::kNumeric) {
    out.numbers.reserve(column.numbers.size());
    for (double v : column.numbers) {
      if (std::isnan(v)) {
        ++out.missing;
      } else {
        out.numbers.push_back(v);
      }
    }
    return out;
  }
  out.strings.reserve(column.numbers.size());
  for (size_t i = 0; i < column.numbers.size(); ++i) {
    if (!column.text.empty() && !column.text[i].empty()) {
      out.strings.push_back(column.text[i]);
    } else if (!std::isnan(column.numbers[i])) {
      out.strings.push_back(
          CellKey(Cell{.type = Cell::Type::kNumber, .number = column.numbers[i]}));
    } else {
      ++out.missing;
    }
  }
  return out;
}

ColumnValues WindowSample::Values(std::string_view name, FeatureKind kind) const {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return Read(columns_[i], kind);
  }
  ColumnValues none;
  none.kind = kind;
  return none;
}

double Quantile(std::vector<double>& values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double pos = q * static_cast<double>(values.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (values[hi] - values[lo]) * (pos - static_cast<double>(lo));
}

bj::object PerformanceJson(const PerformanceMetrics& m) {
  bj::object o;
  o["task"] = m.task;
  o["labels"] = m.labels;
  auto put = [&](const char* key, const std::optional<double>& v) {
    if (v) o[key] = Num(*v);
  };
  put("accuracy", m.accuracy);
  put("precision", m.precision);
  put("recall", m.recall);
  put("f1", m.f1);
  put("auc", m.auc);
  put("rmse", m.rmse);
  put("mae", m.mae);
  if (!m.note.empty()) o["note"] = m.note;
  return o;
}

bj::object WindowResults(const DriftConfig& config, const ReferenceProfile* reference,
                         int64_t reference_version, const WindowSample& sample,
                         const WindowCounters& counters, int64_t duration_ms) {
  bj::object out;
  out["requests"] = counters.requests;
  out["rows"] = counters.rows;
  out["errors"] = counters.errors;
  out["error_rate"] = counters.requests > 0 ? static_cast<double>(counters.errors) /
                                                  static_cast<double>(counters.requests)
                                            : 0.0;
  out["late"] = counters.late;
  out["unreadable"] = counters.unreadable;
  std::vector<double> latencies = counters.latencies_ms;
  bj::object latency;
  latency["p50"] = Quantile(latencies, 0.5);
  latency["p95"] = Quantile(latencies, 0.95);
  latency["p99"] = Quantile(latencies, 0.99);
  latency["max"] = latencies.empty() ? 0.0 : latencies.back();
  out["latency_ms"] = std::move(latency);
  out["throughput_rps"] = duration_ms > 0 ? static_cast<double>(counters.requests) * 1000.0 /
                                                static_cast<double>(duration_ms)
                                          : 0.0;

  bj::object data_drift;
  bj::object prediction_drift;
  if (reference == nullptr) {
    data_drift["status"] = "no_reference";
    prediction_drift["status"] = "no_reference";
    out["data_drift"] = std::move(data_drift);
    if (config.prediction_drift) out["prediction_drift"] = std::move(prediction_drift);
    return out;
  }
  out["reference_version"] = reference_version;

  // The reference features tested, and the window column each is read from: by name, or by
  // position when none of the names match and the counts agree (a tensor input X[0..k-1]
  // against a training table's named columns).
  std::vector<const FeatureProfile*> tested;
  for (const FeatureProfile& f : reference->features) {
    if (f.name == config.prediction_column) continue;
    if (!config.features.empty() && std::find(config.features.begin(), config.features.end(),
                                              f.name) == config.features.end()) {
      continue;
    }
    tested.push_back(&f);
  }
  std::vector<std::string> sources;
  bool any_named = false;
  for (const FeatureProfile* f : tested) {
    any_named = any_named || std::find(sample.names().begin(), sample.names().end(), f->name) !=
                                 sample.names().end();
  }
  const bool positional = !any_named && config.features.empty() &&
                          sample.names().size() == tested.size() && !tested.empty();
  for (size_t i = 0; i < tested.size(); ++i) {
    sources.push_back(positional ? sample.names()[i] : tested[i]->name);
  }
  if (positional) data_drift["columns_matched_by_position"] = true;

  bj::object features;
  std::vector<ColumnDrift> results;
  int64_t insufficient = 0;
  for (size_t i = 0; i < tested.size(); ++i) {
    const FeatureProfile& f = *tested[i];
    ColumnValues current = sample.Values(sources[i], f.kind);
    std::optional<ColumnDrift> drift;
    features[f.name] =
        TestColumn(f.sample, current, config.TestFor(f.name), config.min_samples, drift);
    if (drift) {
      results.push_back(*drift);
    } else if (static_cast<int64_t>(current.size()) < config.min_samples) {
      ++insufficient;
    }
  }
  if (results.empty() && insufficient > 0) {
    data_drift["status"] = "insufficient_data";
  } else {
    data_drift["status"] = "ok";
    const DatasetDrift dataset = SummarizeDatasetDrift(results, config.drift_share);
    data_drift["drifted"] = dataset.drifted;
    data_drift["total"] = dataset.total;
    data_drift["share"] = dataset.share;
    data_drift["drift_share"] = config.drift_share;
    data_drift["drift"] = dataset.drift;
  }
  data_drift["features"] = std::move(features);
  out["data_drift"] = std::move(data_drift);

  if (config.prediction_drift) {
    const FeatureProfile* ref = nullptr;
    for (const FeatureProfile& f : reference->features) {
      if (f.name == config.prediction_column) ref = &f;
    }
    if (ref == nullptr) {
      prediction_drift["status"] = "no_reference";
      prediction_drift["reason"] = "the reference has no column '" + config.prediction_column + "'";
    } else {
      ColumnValues current = sample.PredictionValues(ref->kind);
      std::optional<ColumnDrift> drift;
      prediction_drift =
          TestColumn(ref->sample, current, config.prediction_test, config.min_samples, drift);
      if (drift) prediction_drift["status"] = "ok";
    }
    out["prediction_drift"] = std::move(prediction_drift);
  }
  return out;
}

}  // namespace cairn::monitor
