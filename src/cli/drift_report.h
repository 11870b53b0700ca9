#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "monitor/profile/table_reader.h"
#include "monitor/stats/column_drift.h"

// `cairn monitor drift-report`: two local tables (CSV or JSON lines) compared column by
// column, as Evidently's DataDriftPreset does, without a server. The two files are read at
// the same time and the columns tested in parallel.
namespace cairn::cli {

struct DriftReportOptions {
  std::optional<monitor::DriftMethod> method;  // nullopt: Evidently's choice per column
  std::optional<double> threshold;             // nullopt: the method's default
  double drift_share = 0.5;                    // dataset drift at this share of drifted columns
  std::set<std::string, std::less<>> exclude;  // columns left out of both tables
  int threads = 0;                             // 0: one per core
};

// The verdict on one column present in both tables.
struct FeatureVerdict {
  std::string name;
  monitor::FeatureKind kind = monitor::FeatureKind::kNumeric;  // the reference's
  int64_t n_reference = 0;                                     // present values
  int64_t n_current = 0;
  std::optional<monitor::ColumnDrift> drift;  // nullopt when it could not be tested
  std::string error;                          // why not
};

struct DriftReport {
  int64_t reference_rows = 0;
  int64_t current_rows = 0;
  std::vector<FeatureVerdict> features;  // the common columns, in the reference's order
  std::vector<std::string> only_in_reference;
  std::vector<std::string> only_in_current;
  monitor::DatasetDrift dataset;  // over the tested columns
  double drift_share = 0.5;
  double read_ms = 0;     // reading and parsing both files
  double compare_ms = 0;  // the column tests
};

// A table read from a file in pieces (the reader keeps the columns, not the text).
struct LoadedTable {
  std::vector<monitor::NamedColumn> columns;
  int64_t rows = 0;
};

// Reads `path` (.csv, else .jsonl/.ndjson/.json as JSON lines). NOT_FOUND when it cannot be
// opened, INVALID_ARGUMENT for an unknown extension or malformed content (naming the file).
StatusOr<LoadedTable> ReadTableFile(const std::string& path, monitor::TableReaderOptions options);

// Tests every column present in both tables with monitor::DetectColumnDrift, `threads` at a
// time, and summarises them with monitor::SummarizeDatasetDrift. A column whose kinds differ
// or with no present values is reported with its error and left out of the summary.
DriftReport CompareTables(const LoadedTable& reference, const LoadedTable& current,
                          const DriftReportOptions& options);

// Reads both files (concurrently) and compares them. A column categorical in the reference but
// numeric in the current table is read again as categorical, so that both sides compare the
// same text.
StatusOr<DriftReport> RunDriftReport(const std::string& reference_path,
                                     const std::string& current_path,
                                     const DriftReportOptions& options);

// One line per column (FEATURE KIND METHOD SCORE THRESHOLD DRIFT) and the dataset verdict; or,
// with `json`, an object with "dataset", "features" (by name, in order), the one-sided columns,
// the row counts and "timing_ms".
std::string FormatDriftReport(const DriftReport& report, bool json);

}  // namespace cairn::cli
