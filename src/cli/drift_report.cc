#include "cli/drift_report.h"

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <thread>

#include "cli/common.h"
#include "cli/table.h"

namespace cairn::cli {
namespace {

namespace bj = boost::json;
using monitor::FeatureKind;
using monitor::NamedColumn;
using Clock = std::chrono::steady_clock;

constexpr size_t kReadPiece = size_t{1} << 20;

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

StatusOr<monitor::TableFormat> FormatOfPath(const std::string& path) {
  std::string lower = path;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.ends_with(".csv")) return monitor::TableFormat::kCsv;
  if (lower.ends_with(".jsonl") || lower.ends_with(".ndjson") || lower.ends_with(".json")) {
    return monitor::TableFormat::kJsonLines;
  }
  return InvalidArgument("cannot tell the format of '" + path + "': name a .csv or .jsonl file");
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// Runs task(i) for i in [0, n) on up to `threads` threads (the caller's included).
template <typename Task>
void ParallelFor(size_t n, int threads, const Task& task) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const size_t workers = std::min<size_t>(static_cast<size_t>(threads), n);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) task(i);
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < workers; ++t) pool.emplace_back(work);
  work();
  for (std::thread& thread : pool) thread.join();
}

std::string Number(double value) {
  if (!std::isfinite(value)) return "-";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", value);
  return buffer;
}

bj::value JsonNumber(double value) {
  return std::isfinite(value) ? bj::value(value) : bj::value(nullptr);
}

}  // namespace

StatusOr<LoadedTable> ReadTableFile(const std::string& path, monitor::TableReaderOptions options) {
  ASSIGN_OR_RETURN(monitor::TableFormat format, FormatOfPath(path));
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) return NotFound("cannot open " + path);
  monitor::TableReader reader(format, std::move(options));
  std::unique_ptr<char[]> buffer(new char[kReadPiece]);
  auto fail = [&path](const Status& status) {
    return Status(status.code(), path + ": " + status.message());
  };
  while (true) {
    const size_t n = std::fread(buffer.get(), 1, kReadPiece, file.get());
    if (n > 0) {
      if (Status fed = reader.Feed(std::string_view(buffer.get(), n)); !fed.ok()) return fail(fed);
    }
    if (n < kReadPiece) {
      if (std::ferror(file.get())) return NotFound("cannot read " + path);
      break;
    }
  }
  if (Status done = reader.Finish(); !done.ok()) return fail(done);
  LoadedTable table;
  table.rows = reader.rows_read();
  table.columns = reader.TakeColumns();
  return table;
}

DriftReport CompareTables(const LoadedTable& reference, const LoadedTable& current,
                          const DriftReportOptions& options) {
  DriftReport report;
  report.reference_rows = reference.rows;
  report.current_rows = current.rows;
  report.drift_share = options.drift_share;
  std::map<std::string_view, const NamedColumn*> current_by_name;
  for (const NamedColumn& c : current.columns) current_by_name.emplace(c.name, &c);
  std::vector<std::pair<const NamedColumn*, const NamedColumn*>> pairs;
  for (const NamedColumn& r : reference.columns) {
    auto it = current_by_name.find(r.name);
    if (it == current_by_name.end()) {
      report.only_in_reference.push_back(r.name);
      continue;
    }
    pairs.emplace_back(&r, it->second);
    current_by_name.erase(it);
  }
  for (const NamedColumn& c : current.columns) {
    if (current_by_name.contains(c.name)) report.only_in_current.push_back(c.name);
  }

  const Clock::time_point start = Clock::now();
  report.features.resize(pairs.size());
  const monitor::ColumnDriftOptions drift_options{.method = options.method,
                                                  .threshold = options.threshold};
  ParallelFor(pairs.size(), options.threads, [&](size_t i) {
    const auto& [ref, cur] = pairs[i];
    FeatureVerdict& verdict = report.features[i];
    verdict.name = ref->name;
    verdict.kind = ref->values.kind;
    verdict.n_reference = static_cast<int64_t>(ref->values.size());
    verdict.n_current = static_cast<int64_t>(cur->values.size());
    StatusOr<monitor::ColumnDrift> drift =
        monitor::DetectColumnDrift(ref->values, cur->values, drift_options);
    if (drift.ok()) {
      verdict.drift = *drift;
    } else {
      verdict.error = drift.status().message();
    }
  });
  std::vector<monitor::ColumnDrift> tested;
  for (const FeatureVerdict& f : report.features) {
    if (f.drift) tested.push_back(*f.drift);
  }
  report.dataset = monitor::SummarizeDatasetDrift(tested, options.drift_share);
  report.compare_ms = MillisSince(start);
  return report;
}

StatusOr<DriftReport> RunDriftReport(const std::string& reference_path,
                                     const std::string& current_path,
                                     const DriftReportOptions& options) {
  const Clock::time_point start = Clock::now();
  monitor::TableReaderOptions read_options;
  read_options.exclude = options.exclude;
  StatusOr<LoadedTable> current = InvalidArgument("not read");
  std::thread current_reader([&] { current = ReadTableFile(current_path, read_options); });
  StatusOr<LoadedTable> reference = ReadTableFile(reference_path, read_options);
  current_reader.join();
  RETURN_IF_ERROR(reference.status());
  RETURN_IF_ERROR(current.status());

  // Text in the reference makes the column categorical there; read the current side's numbers
  // as text too, as they were written.
  monitor::KindHints categorical;
  for (const NamedColumn& r : reference->columns) {
    if (r.values.kind != FeatureKind::kCategorical) continue;
    for (const NamedColumn& c : current->columns) {
      if (c.name == r.name && c.values.kind == FeatureKind::kNumeric) {
        categorical.emplace(r.name, FeatureKind::kCategorical);
      }
    }
  }
  if (!categorical.empty()) {
    read_options.hints = std::move(categorical);
    ASSIGN_OR_RETURN(*current, ReadTableFile(current_path, read_options));
  }
  const double read_ms = MillisSince(start);
  DriftReport report = CompareTables(*reference, *current, options);
  report.read_ms = read_ms;
  return report;
}

std::string FormatDriftReport(const DriftReport& report, bool json) {
  if (json) {
    bj::object features;
    for (const FeatureVerdict& f : report.features) {
      bj::object o;
      o["kind"] = monitor::FeatureKindName(f.kind);
      o["n_reference"] = f.n_reference;
      o["n_current"] = f.n_current;
      if (f.drift) {
        o["method"] = monitor::MethodName(f.drift->method);
        o["score"] = JsonNumber(f.drift->score);
        o["statistic"] = JsonNumber(f.drift->statistic);
        o["threshold"] = JsonNumber(f.drift->threshold);
        o["p_value_test"] = f.drift->p_value_test;
        o["drift"] = f.drift->drift;
      } else {
        o["error"] = f.error;
      }
      features[f.name] = std::move(o);
    }
    bj::array only_reference(report.only_in_reference.begin(), report.only_in_reference.end());
    bj::array only_current(report.only_in_current.begin(), report.only_in_current.end());
    bj::object dataset;
    dataset["drifted"] = report.dataset.drifted;
    dataset["total"] = report.dataset.total;
    dataset["share"] = report.dataset.share;
    dataset["drift_share"] = report.drift_share;
    dataset["drift"] = report.dataset.drift;
    bj::object timing;
    timing["read"] = report.read_ms;
    timing["compare"] = report.compare_ms;
    bj::object out;
    out["reference_rows"] = report.reference_rows;
    out["current_rows"] = report.current_rows;
    out["dataset"] = std::move(dataset);
    out["features"] = std::move(features);
    out["only_in_reference"] = std::move(only_reference);
    out["only_in_current"] = std::move(only_current);
    out["timing_ms"] = std::move(timing);
    return bj::serialize(out) + "\n";
  }
  std::vector<std::vector<std::string>> rows;
  for (const FeatureVerdict& f : report.features) {
    if (f.drift) {
      rows.push_back({f.name, std::string(monitor::FeatureKindName(f.kind)),
                      std::string(monitor::MethodName(f.drift->method)), Number(f.drift->score),
                      Number(f.drift->threshold), f.drift->drift ? "yes" : "no"});
    } else {
      rows.push_back({f.name, std::string(monitor::FeatureKindName(f.kind)), "-", "-", "-",
                      "error: " + f.error});
    }
  }
  std::string out =
      rows.empty()
          ? "No column is in both tables.\n"
          : FormatTable({"FEATURE", "KIND", "METHOD", "SCORE", "THRESHOLD", "DRIFT"}, rows);
  auto list = [](const std::vector<std::string>& names) {
    std::string text;
    for (const std::string& name : names) text += (text.empty() ? "" : ", ") + OneLine(name);
    return text;
  };
  if (!report.only_in_reference.empty()) {
    out += "Only in the reference (not compared): " + list(report.only_in_reference) + "\n";
  }
  if (!report.only_in_current.empty()) {
    out += "Only in the current table (not compared): " + list(report.only_in_current) + "\n";
  }
  char share[64];
  std::snprintf(share, sizeof share, "%.1f%%", report.dataset.share * 100);
  out += std::string("Dataset drift: ") + (report.dataset.drift ? "yes" : "no") + " (" +
         std::to_string(report.dataset.drifted) + " of " + std::to_string(report.dataset.total) +
         " columns drifted, " + share + "; drift share " + Number(report.drift_share) + ")\n";
  return out;
}

}  // namespace cairn::cli
