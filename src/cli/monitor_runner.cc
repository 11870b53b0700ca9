#include "cli/monitor_runner.h"

#include <sys/stat.h>

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>

#include "cli/drift_report.h"
#include "cli/progress.h"
#include "monitor/stats/drift_method.h"

namespace cairn::cli {
namespace {

constexpr uint64_t kMaxConfigBytes = 256 * 1024;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// Prints a failed exchange; nullopt then, else the 2xx body.
std::optional<std::string> Check(StatusOr<HttpReply> reply, std::ostream& err) {
  if (!reply.ok()) {
    err << "error: " << reply.status().message() << "\n";
    return std::nullopt;
  }
  if (reply->status < 200 || reply->status >= 300) {
    err << FormatError(reply->status, reply->body) << "\n";
    return std::nullopt;
  }
  return std::move(reply->body);
}

int Print(const MonitorCommand& cmd, std::string_view body, std::ostream& out, std::ostream& err) {
  StatusOr<std::string> text = FormatMonitorReply(cmd, body);
  if (!text.ok()) {
    err << "error: " << text.status().message() << "\n";
    return 1;
  }
  out << *text;
  out.flush();
  return 0;
}

int UploadReference(const MonitorCommand& cmd, const ServerAddress& server, std::ostream& out,
                    std::ostream& err, bool terminal) {
  StatusOr<HttpCall> call = ReferenceUploadCall(cmd);
  if (!call.ok()) {
    err << "cairn monitor reference: " << call.status().message() << "\n";
    return 2;
  }
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(cmd.file.c_str(), "rb"));
  struct stat info {};
  if (!file || ::fstat(fileno(file.get()), &info) != 0 || !S_ISREG(info.st_mode)) {
    err << "error: cannot read " << cmd.file << "\n";
    return 1;
  }
  const auto size = static_cast<uint64_t>(info.st_size);
  UploadProgress progress(err, "uploading " + cmd.file, size, terminal);
  uint64_t sent = 0;
  StreamedBody body{.read = [&](char* buffer, size_t capacity) -> StatusOr<size_t> {
                      const size_t n = std::fread(buffer, 1, capacity, file.get());
                      if (n == 0 && std::ferror(file.get()))
                        return NotFound("cannot read " + cmd.file);
                      sent += n;
                      progress.Update(sent);
                      return n;
                    },
                    .size = size};
  std::optional<std::string> answer = Check(
      SendHttpStreamed(server, *call, std::move(body), std::chrono::seconds(cmd.timeout_seconds)),
      err);
  progress.Finish();
  if (!answer) return 1;
  return Print(cmd, *answer, out, err);
}

int SetConfig(const MonitorCommand& cmd, const ServerAddress& server, std::ostream& out,
              std::ostream& err) {
  std::ifstream file(cmd.file, std::ios::binary);
  if (!file) {
    err << "error: cannot read " << cmd.file << "\n";
    return 1;
  }
  std::string spec;
  char buffer[16384];
  while (file.read(buffer, sizeof buffer) || file.gcount() > 0) {
    spec.append(buffer, static_cast<size_t>(file.gcount()));
    if (spec.size() > kMaxConfigBytes) {
      err << "cairn monitor config: " << cmd.file << " is larger than 256 KiB\n";
      return 2;
    }
  }
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(spec, ec);
  if (ec || !parsed.is_object()) {
    err << "cairn monitor config: " << cmd.file << " is not a JSON object"
        << (ec ? ": " + ec.message() : "") << "\n";
    return 2;
  }
  std::optional<std::string> answer = Check(SendHttp(server, BuildMonitorCall(cmd, std::move(spec)),
                                                     std::chrono::seconds(cmd.timeout_seconds)),
                                            err);
  if (!answer) return 1;
  return Print(cmd, *answer, out, err);
}

// Calls `batch` with each run of up to kFeedbackBatch labels of the file; stops at the first
// line that is not a label (INVALID_ARGUMENT) or the first failing batch.
Status ForEachBatch(const std::string& path,
                    const std::function<Status(const std::vector<std::string>&)>& batch) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return NotFound("cannot read " + path);
  std::vector<std::string> labels;
  std::string line;
  int64_t line_number = 0;
  while (std::getline(file, line)) {
    ++line_number;
    ASSIGN_OR_RETURN(std::optional<std::string> label, ParseFeedbackLine(line, line_number));
    if (!label) continue;
    labels.push_back(std::move(*label));
    if (labels.size() == kFeedbackBatch) {
      RETURN_IF_ERROR(batch(labels));
      labels.clear();
    }
  }
  if (file.bad()) return NotFound("cannot read " + path);
  if (!labels.empty()) RETURN_IF_ERROR(batch(labels));
  return Status::Ok();
}

int SendFeedback(const MonitorCommand& cmd, const ServerAddress& server, std::ostream& out,
                 std::ostream& err) {
  // Every line is checked before the first batch goes, so a bad file sends nothing.
  int64_t count = 0;
  Status checked = ForEachBatch(cmd.file, [&](const std::vector<std::string>& labels) {
    count += static_cast<int64_t>(labels.size());
    return Status::Ok();
  });
  if (checked.code() == StatusCode::kNotFound) {
    err << "error: " << checked.message() << "\n";
    return 1;
  }
  if (!checked.ok()) {
    err << "cairn monitor feedback: " << cmd.file << ": " << checked.message() << "\n";
    return 2;
  }
  if (count == 0) {
    err << "cairn monitor feedback: " << cmd.file << " holds no labels\n";
    return 2;
  }
  FeedbackTotals totals;
  bool reported = false;
  Status sent = ForEachBatch(cmd.file, [&](const std::vector<std::string>& labels) -> Status {
    std::optional<std::string> answer = Check(
        SendHttp(server, FeedbackCall(cmd, labels), std::chrono::seconds(cmd.timeout_seconds)),
        err);
    if (!answer) {
      reported = true;
      return Unavailable("batch failed");
    }
    return totals.Add(*answer);
  });
  if (!sent.ok()) {
    if (!reported) err << "error: " << sent.message() << "\n";
    if (totals.batches > 0) {
      err << "(" << totals.received << " labels in " << totals.batches
          << " batches were accepted before the failure)\n";
    }
    return 1;
  }
  out << FormatFeedbackTotals(totals, cmd.json);
  out.flush();
  return 0;
}

int DriftReportMain(const MonitorCommand& cmd, std::ostream& out, std::ostream& err) {
  DriftReportOptions options;
  if (cmd.method != "auto") options.method = monitor::ParseMethod(cmd.method);
  options.threshold = cmd.threshold;
  options.drift_share = cmd.drift_share;
  options.exclude.insert(cmd.exclude.begin(), cmd.exclude.end());
  options.threads = cmd.threads;
  StatusOr<DriftReport> report = RunDriftReport(cmd.reference_file, cmd.current_file, options);
  if (!report.ok()) {
    err << "error: " << report.status().message() << "\n";
    return report.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  out << FormatDriftReport(*report, cmd.json);
  out.flush();
  return 0;
}

}  // namespace

int RunMonitor(const MonitorCommand& cmd, std::ostream& out, std::ostream& err,
               bool err_is_terminal) {
  if (cmd.action == MonitorAction::kDriftReport) return DriftReportMain(cmd, out, err);
  StatusOr<ServerAddress> server = ParseServerAddress(cmd.server);
  if (!server.ok()) {
    err << "cairn monitor: " << server.status().message() << "\n";
    return 2;
  }
  switch (cmd.action) {
    case MonitorAction::kReferenceUpload:
      return UploadReference(cmd, *server, out, err, err_is_terminal);
    case MonitorAction::kConfigSet:
      return SetConfig(cmd, *server, out, err);
    case MonitorAction::kFeedback:
      return SendFeedback(cmd, *server, out, err);
    default:
      break;
  }
  std::optional<std::string> answer = Check(
      SendHttp(*server, BuildMonitorCall(cmd), std::chrono::seconds(cmd.timeout_seconds)), err);
  if (!answer) return 1;
  return Print(cmd, *answer, out, err);
}

}  // namespace cairn::cli
