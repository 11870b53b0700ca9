#include "importer/mlflow_importer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "artifact/tenant_layout.h"

namespace cairn::importer {
namespace {

namespace fs = std::filesystem;
using metadata::Metric;

bool SameValue(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

std::string Quoted(std::string_view s) { return "'" + std::string(s.substr(0, 200)) + "'"; }

// The artifact files below `root`, as sorted '/'-separated relative paths.
StatusOr<std::vector<std::string>> FilesBelow(const fs::path& root) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return NotFound("no artifact folder at '" + root.string() + "'");
  }
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) out.push_back(fs::relative(it->path(), root).generic_string());
  }
  if (ec) return Unavailable("cannot read '" + root.string() + "': " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

Status CopyFile(const fs::path& from, artifact::ArtifactStore& store, const std::string& to) {
  std::ifstream in(from, std::ios::binary);
  if (!in) return Unavailable("cannot read '" + from.string() + "'");
  ASSIGN_OR_RETURN(std::unique_ptr<artifact::ArtifactWriter> writer, store.OpenWriter(to));
  std::vector<char> buffer(size_t{1} << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    if (in.gcount() > 0) {
      RETURN_IF_ERROR(writer->Append(std::string_view(buffer.data(), in.gcount())));
    }
  }
  if (in.bad()) return Unavailable("cannot read '" + from.string() + "'");
  return writer->Commit();
}

}  // namespace

MlflowImporter::MlflowImporter(MlflowSource& source, const metadata::MetadataStores& stores,
                               artifact::ArtifactStore& artifacts, ImportOptions options,
                               ProgressFn progress)
    : source_(source),
      stores_(stores),
      artifacts_(artifacts),
      options_(std::move(options)),
      progress_(std::move(progress)) {}

// Run() creates every kind's line first, so the references this returns stay valid.
EntityCount& MlflowImporter::Count(std::string_view kind) {
  for (EntityCount& c : report_.counts) {
    if (c.kind == kind) return c;
  }
  report_.counts.push_back(EntityCount{.kind = std::string(kind)});
  return report_.counts.back();
}

StatusOr<ImportReport> MlflowImporter::Run() {
  ASSIGN_OR_RETURN(std::vector<metadata::Experiment> experiments, source_.Experiments());
  ASSIGN_OR_RETURN(std::vector<std::string> run_ids, source_.RunIds());
  ASSIGN_OR_RETURN(std::vector<metadata::LoggedModel> logged_models, source_.LoggedModels());
  ASSIGN_OR_RETURN(std::vector<metadata::RegisteredModelImport> registered,
                   source_.RegisteredModels());
  ASSIGN_OR_RETURN(std::vector<metadata::TraceInfo> traces, source_.Traces());
  // Fixed order of the report's lines.
  for (std::string_view kind : {"experiments", "runs", "logged models", "registered models",
                                "model versions", "aliases", "traces", "spans", "artifact files"}) {
    Count(kind);
  }
  RETURN_IF_ERROR(CheckConflicts(experiments, registered));
  RETURN_IF_ERROR(ImportExperiments(experiments));
  RETURN_IF_ERROR(ImportRuns(run_ids));
  RETURN_IF_ERROR(ImportLoggedModels(logged_models));
  RETURN_IF_ERROR(ImportRegisteredModels(registered));
  RETURN_IF_ERROR(ImportTraces(traces));
  RETURN_IF_ERROR(ImportSpans(traces));
  ASSIGN_OR_RETURN(int64_t assessments, source_.CountTraceRows("assessments"));
  if (assessments > 0) {
    report_.notes.push_back(std::to_string(assessments) +
                            " trace assessments not imported: the importer does not copy "
                            "assessments yet");
  }
  RETURN_IF_ERROR(CopyArtifacts());
  RETURN_IF_ERROR(Verify(run_ids));
  return report_;
}

Status MlflowImporter::CheckConflicts(const std::vector<metadata::Experiment>& experiments,
                                      const std::vector<metadata::RegisteredModelImport>& models) {
  metadata::TrackingStore& tracking = *stores_.tracking;
  for (const metadata::Experiment& e : experiments) {
    auto by_id = tracking.GetExperiment(options_.tenant, e.experiment_id);
    if (by_id.ok() && by_id->name != e.name) {
      return FailedPrecondition("experiment " + e.experiment_id + " is " + Quoted(by_id->name) +
                                " in Cairn but " + Quoted(e.name) +
                                " in the MLflow database; nothing was imported");
    }
    if (!by_id.ok() && by_id.status().code() != StatusCode::kNotFound) return by_id.status();
    auto by_name = tracking.GetExperimentByName(options_.tenant, e.name);
    if (by_name.ok() && by_name->experiment_id != e.experiment_id) {
      return FailedPrecondition("experiment " + Quoted(e.name) + " has id " +
                                by_name->experiment_id + " in Cairn but " + e.experiment_id +
                                " in the MLflow database; nothing was imported");
    }
  }
  for (const metadata::RegisteredModelImport& m : models) {
    auto existing = stores_.registry->GetRegisteredModel(options_.tenant, m.model.name);
    if (existing.ok() && existing->creation_timestamp != m.model.creation_timestamp) {
      return FailedPrecondition("registered model " + Quoted(m.model.name) +
                                " already exists in Cairn and is not the MLflow database's "
                                "(created at another time); nothing was imported");
    }
  }
  return Status::Ok();
}

Status MlflowImporter::ImportExperiments(const std::vector<metadata::Experiment>& experiments) {
  EntityCount& count = Count("experiments");
  count.source = static_cast<int64_t>(experiments.size());
  int64_t done = 0;
  for (const metadata::Experiment& e : experiments) {
    // Replays of the same experiment are harmless (ImportExperiment merges), so every run
    // writes them; "existing" counts those that were there before.
    bool existed = stores_.tracking->GetExperiment(options_.tenant, e.experiment_id).ok();
    Status s = stores_.tracking->ImportExperiment(options_.tenant, e);
    if (!s.ok()) {
      return FailedPrecondition("experiment " + e.experiment_id + " " + Quoted(e.name) + ": " +
                                std::string(s.message()));
    }
    ++(existed ? count.existing : count.imported);
    if (!e.artifact_location.starts_with("mlflow-artifacts:")) {
      report_.notes.push_back("experiment " + e.experiment_id + " keeps its artifact location " +
                              Quoted(e.artifact_location) +
                              ", outside MLflow's artifact service: its files were not copied "
                              "and clients reach them there, not through Cairn");
    }
    progress_("experiments", ++done, count.source);
  }
  return Status::Ok();
}

Status MlflowImporter::ImportRuns(const std::vector<std::string>& run_ids) {
  EntityCount& count = Count("runs");
  count.source = static_cast<int64_t>(run_ids.size());
  int64_t done = 0;
  progress_("runs", 0, count.source);
  for (const std::string& id : run_ids) {
    ASSIGN_OR_RETURN(metadata::RunImport run, source_.Run(id));
    Status s = stores_.tracking->ImportRun(options_.tenant, run);
    if (s.code() == StatusCode::kAlreadyExists) {
      auto existing = stores_.tracking->GetRun(options_.tenant, id);
      if (!existing.ok() || existing->info.experiment_id != run.info.experiment_id) {
        return FailedPrecondition("run " + id +
                                  " already exists in Cairn (in another experiment or tenant); "
                                  "it was not imported");
      }
      ++count.existing;
    } else if (!s.ok()) {
      return Status(s.code(), "run " + id + ": " + std::string(s.message()));
    } else {
      ++count.imported;
    }
    progress_("runs", ++done, count.source);
  }
  return Status::Ok();
}

Status MlflowImporter::ImportLoggedModels(const std::vector<metadata::LoggedModel>& models) {
  EntityCount& count = Count("logged models");
  count.source = static_cast<int64_t>(models.size());
  int64_t done = 0;
  progress_("logged models", 0, count.source);
  for (const metadata::LoggedModel& m : models) {
    Status s = stores_.tracking->ImportLoggedModel(options_.tenant, m);
    if (s.code() == StatusCode::kAlreadyExists) {
      auto existing = stores_.tracking->GetLoggedModel(options_.tenant, m.model_id, true);
      if (!existing.ok() || existing->experiment_id != m.experiment_id) {
        return FailedPrecondition("logged model " + m.model_id +
                                  " already exists in Cairn (in another experiment or tenant); "
                                  "it was not imported");
      }
      ++count.existing;
    } else if (!s.ok()) {
      return Status(s.code(), "logged model " + m.model_id + ": " + std::string(s.message()));
    } else {
      ++count.imported;
    }
    progress_("logged models", ++done, count.source);
  }
  return Status::Ok();
}

Status MlflowImporter::ImportRegisteredModels(
    const std::vector<metadata::RegisteredModelImport>& models) {
  EntityCount& count = Count("registered models");
  EntityCount& versions = Count("model versions");
  EntityCount& aliases = Count("aliases");
  count.source = static_cast<int64_t>(models.size());
  int64_t done = 0;
  progress_("registered models", 0, count.source);
  for (const metadata::RegisteredModelImport& m : models) {
    int64_t live =
        std::count_if(m.versions.begin(), m.versions.end(),
                      [](const metadata::ImportedModelVersion& v) { return !v.deleted; });
    versions.source += live;
    aliases.source += static_cast<int64_t>(m.model.aliases.size());
    Status s = stores_.registry->ImportRegisteredModel(options_.tenant, m);
    if (s.code() == StatusCode::kAlreadyExists) {
      auto existing = stores_.registry->GetRegisteredModel(options_.tenant, m.model.name);
      if (!existing.ok() || existing->creation_timestamp != m.model.creation_timestamp) {
        return FailedPrecondition("registered model " + Quoted(m.model.name) +
                                  " already exists in Cairn and is not the MLflow database's");
      }
      ++count.existing;
      versions.existing += live;
      aliases.existing += static_cast<int64_t>(m.model.aliases.size());
    } else if (!s.ok()) {
      return Status(s.code(),
                    "registered model " + Quoted(m.model.name) + ": " + std::string(s.message()));
    } else {
      ++count.imported;
      versions.imported += live;
      aliases.imported += static_cast<int64_t>(m.model.aliases.size());
    }
    progress_("registered models", ++done, count.source);
  }
  return Status::Ok();
}

Status MlflowImporter::ImportTraces(const std::vector<metadata::TraceInfo>& traces) {
  EntityCount& count = Count("traces");
  count.source = static_cast<int64_t>(traces.size());
  int64_t done = 0;
  progress_("traces", 0, count.source);
  for (const metadata::TraceInfo& t : traces) {
    Status s = stores_.traces->ImportTraceInfo(options_.tenant, t);
    if (s.code() == StatusCode::kAlreadyExists) {
      auto existing = stores_.traces->GetTraceInfo(options_.tenant, t.trace_id);
      if (!existing.ok() || existing->experiment_id != t.experiment_id ||
          existing->request_time_ms != t.request_time_ms) {
        return FailedPrecondition("trace " + t.trace_id +
                                  " already exists in Cairn and is not the MLflow database's");
      }
      ++count.existing;
    } else if (!s.ok()) {
      return Status(s.code(), "trace " + t.trace_id + ": " + std::string(s.message()));
    } else {
      ++count.imported;
    }
    progress_("traces", ++done, count.source);
  }
  return Status::Ok();
}

Status MlflowImporter::ImportSpans(const std::vector<metadata::TraceInfo>& traces) {
  EntityCount& count = Count("spans");
  ASSIGN_OR_RETURN(count.source, source_.CountTraceRows("spans"));
  int64_t done = 0;
  progress_("spans", 0, count.source);
  // A chunk of traces at a time: their spans are one batch, stored all or nothing. Writing a
  // span again replaces it, so a resumed import rewrites the chunk it was in; the traces exist
  // already (ImportTraces) and keep their imported info.
  constexpr size_t kTracesPerBatch = 100;
  for (size_t start = 0; start < traces.size(); start += kTracesPerBatch) {
    std::vector<std::string> ids;
    for (size_t i = start; i < std::min(traces.size(), start + kTracesPerBatch); ++i) {
      ids.push_back(traces[i].trace_id);
    }
    metadata::SpanBatch batch;
    batch.experiment_id = traces[start].experiment_id;
    ASSIGN_OR_RETURN(batch.spans, source_.Spans(ids));
    if (batch.spans.empty()) continue;
    if (Status s = stores_.traces->LogSpans(options_.tenant, batch); !s.ok()) {
      return Status(s.code(), "spans of traces " + ids.front() + "..: " + std::string(s.message()));
    }
    count.imported += static_cast<int64_t>(batch.spans.size());
    done += static_cast<int64_t>(batch.spans.size());
    progress_("spans", done, count.source);
  }
  return Status::Ok();
}

Status MlflowImporter::CopyArtifacts() {
  EntityCount& count = Count("artifact files");
  if (options_.source_artifacts.empty()) {
    report_.notes.push_back("no --artifacts folder given: artifact files were not copied");
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(std::vector<std::string> files, FilesBelow(options_.source_artifacts));
  count.source = static_cast<int64_t>(files.size());
  std::error_code ec;
  if (options_.tenant == artifact::kDefaultTenant && !options_.cairn_artifact_root.empty() &&
      fs::equivalent(options_.source_artifacts, options_.cairn_artifact_root, ec)) {
    count.existing = count.source;
    count.in_cairn = count.source;
    report_.notes.push_back(
        "artifacts used in place: Cairn's artifact root is the MLflow "
        "artifact folder " +
        options_.source_artifacts.string());
    return Status::Ok();
  }
  int64_t done = 0;
  progress_("artifact files", 0, count.source);
  std::set<std::string> reserved;
  for (const std::string& relative : files) {
    auto normalized = artifact::NormalizeArtifactPath(relative);
    auto target = normalized.ok() && *normalized == relative
                      ? artifact::TenantStorePath(options_.tenant, relative)
                      : StatusOr<std::string>(InvalidArgument("unsafe path"));
    if (!target.ok()) {
      ++count.skipped;
      reserved.insert(relative.substr(0, relative.find('/')));
      progress_("artifact files", ++done, count.source);
      continue;
    }
    const fs::path from = options_.source_artifacts / relative;
    auto existing = artifacts_.OpenReader(*target);
    if (existing.ok() && (*existing)->Size() == fs::file_size(from, ec) && !ec) {
      ++count.existing;
    } else {
      RETURN_IF_ERROR(CopyFile(from, artifacts_, *target));
      ++count.imported;
    }
    progress_("artifact files", ++done, count.source);
  }
  count.in_cairn = count.imported + count.existing;
  for (const std::string& top : reserved) {
    report_.notes.push_back("artifact files under " + Quoted(top) +
                            " not copied: the name is reserved for tenant folders or unsafe");
  }
  return Status::Ok();
}

Status MlflowImporter::Verify(const std::vector<std::string>& run_ids) {
  const std::string& tenant = options_.tenant;
  ASSIGN_OR_RETURN(std::vector<metadata::Experiment> experiments, source_.Experiments());
  for (const metadata::Experiment& e : experiments) {
    auto got = stores_.tracking->GetExperiment(tenant, e.experiment_id);
    if (got.ok() && got->name == e.name && got->lifecycle_stage == e.lifecycle_stage) {
      ++Count("experiments").in_cairn;
    } else {
      report_.mismatches.push_back("experiment " + e.experiment_id + " differs or is missing");
    }
  }
  for (const std::string& id : run_ids) {
    auto got = stores_.tracking->GetRun(tenant, id);
    if (got.ok())
      ++Count("runs").in_cairn;
    else
      report_.mismatches.push_back("run " + id + " is missing");
  }
  ASSIGN_OR_RETURN(std::vector<metadata::LoggedModel> models, source_.LoggedModels());
  for (const metadata::LoggedModel& m : models) {
    if (stores_.tracking->GetLoggedModel(tenant, m.model_id, true).ok()) {
      ++Count("logged models").in_cairn;
    } else {
      report_.mismatches.push_back("logged model " + m.model_id + " is missing");
    }
  }
  ASSIGN_OR_RETURN(std::vector<metadata::RegisteredModelImport> registered,
                   source_.RegisteredModels());
  for (const metadata::RegisteredModelImport& m : registered) {
    auto got = stores_.registry->GetRegisteredModel(tenant, m.model.name);
    if (!got.ok()) {
      report_.mismatches.push_back("registered model " + Quoted(m.model.name) + " is missing");
      continue;
    }
    ++Count("registered models").in_cairn;
    for (const metadata::ImportedModelVersion& v : m.versions) {
      if (v.deleted) continue;
      auto version = stores_.registry->GetModelVersion(tenant, m.model.name, v.version.version);
      if (version.ok() && version->current_stage == v.version.current_stage) {
        ++Count("model versions").in_cairn;
      } else {
        report_.mismatches.push_back("model version " + Quoted(m.model.name) + "/" +
                                     std::to_string(v.version.version) + " differs or is missing");
      }
    }
    for (const metadata::ModelVersionAlias& alias : m.model.aliases) {
      auto version = stores_.registry->GetModelVersionByAlias(tenant, m.model.name, alias.alias);
      if (version.ok() && version->version == alias.version) {
        ++Count("aliases").in_cairn;
      } else {
        report_.mismatches.push_back("alias " + Quoted(m.model.name) + "@" + alias.alias +
                                     " differs or is missing");
      }
    }
  }
  ASSIGN_OR_RETURN(std::vector<metadata::TraceInfo> traces, source_.Traces());
  for (const metadata::TraceInfo& t : traces) {
    if (stores_.traces->GetTraceInfo(tenant, t.trace_id).ok()) {
      ++Count("traces").in_cairn;
    } else {
      report_.mismatches.push_back("trace " + t.trace_id + " is missing");
    }
  }
  for (size_t start = 0; start < traces.size(); start += 100) {
    std::vector<std::string> ids;
    for (size_t i = start; i < std::min(traces.size(), start + 100); ++i) {
      ids.push_back(traces[i].trace_id);
    }
    ASSIGN_OR_RETURN(std::vector<metadata::Span> wanted, source_.Spans(ids));
    ASSIGN_OR_RETURN(std::vector<metadata::Span> held, stores_.traces->GetSpans(tenant, ids));
    std::set<std::pair<std::string, std::string>> in_cairn;
    for (const metadata::Span& span : held) in_cairn.emplace(span.trace_id, span.span_id);
    for (const metadata::Span& span : wanted) {
      if (in_cairn.count({span.trace_id, span.span_id}) != 0) {
        ++Count("spans").in_cairn;
      } else {
        report_.mismatches.push_back("span " + span.span_id + " of trace " + span.trace_id +
                                     " is missing");
      }
    }
  }

  // Metric histories of a sample of runs, spread over the list, value by value.
  std::vector<std::string> sample;
  const size_t n = run_ids.size();
  const size_t want = std::min(n, static_cast<size_t>(std::max(0, options_.verify_runs)));
  for (size_t i = 0; i < want; ++i) {
    sample.push_back(run_ids[want == 1 ? 0 : i * (n - 1) / (want - 1)]);
  }
  for (const std::string& id : sample) {
    ASSIGN_OR_RETURN(metadata::RunImport run, source_.Run(id));
    std::set<std::string> keys;
    for (const Metric& m : run.metric_history) keys.insert(m.key);
    for (const std::string& key : keys) {
      ASSIGN_OR_RETURN(std::vector<Metric> expected, source_.MetricHistory(id, key));
      auto page = stores_.tracking->GetMetricHistory(tenant, id, key,
                                                     metadata::Page{.max_results = 1 << 30});
      ++report_.histories_compared;
      if (!page.ok() || page->items.size() != expected.size()) {
        report_.mismatches.push_back("metric history " + Quoted(key) + " of run " + id + ": " +
                                     std::to_string(expected.size()) + " points in MLflow, " +
                                     (page.ok() ? std::to_string(page->items.size()) : "none") +
                                     " in Cairn");
        continue;
      }
      for (size_t i = 0; i < expected.size(); ++i) {
        const Metric& a = expected[i];
        const Metric& b = page->items[i];
        ++report_.points_compared;
        if (a.timestamp != b.timestamp || a.step != b.step || !SameValue(a.value, b.value)) {
          report_.mismatches.push_back("metric history " + Quoted(key) + " of run " + id +
                                       " differs at point " + std::to_string(i));
          break;
        }
      }
    }
  }
  return Status::Ok();
}

std::string ImportReport::ToText() const {
  std::ostringstream out;
  out << "verification (MLflow database -> Cairn):\n";
  out << "  entity              source  imported  existing  in Cairn  skipped\n";
  for (const EntityCount& c : counts) {
    char line[160];
    std::snprintf(line, sizeof line, "  %-18s %7lld %9lld %9lld %9lld %8lld\n", c.kind.c_str(),
                  static_cast<long long>(c.source), static_cast<long long>(c.imported),
                  static_cast<long long>(c.existing), static_cast<long long>(c.in_cairn),
                  static_cast<long long>(c.skipped));
    out << line;
  }
  out << "  metric histories compared value by value: " << histories_compared << " ("
      << points_compared << " points)\n";
  for (const std::string& note : notes) out << "note: " << note << "\n";
  if (mismatches.empty()) {
    out << "result: OK, every entity of the source is in Cairn\n";
  } else {
    for (size_t i = 0; i < mismatches.size() && i < 50; ++i) {
      out << "mismatch: " << mismatches[i] << "\n";
    }
    if (mismatches.size() > 50) out << "... and " << mismatches.size() - 50 << " more\n";
    out << "result: FAILED, " << mismatches.size() << " mismatches\n";
  }
  return out.str();
}

}  // namespace cairn::importer
