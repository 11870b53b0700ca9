#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "cli/common.h"
#include "cli/http_client.h"

// `cairn monitor ...`: argument parsing, the HTTP calls each subcommand makes against the
// monitoring routes of /api/v1, and the rendering of the answers. Everything here is pure;
// monitor_runner.cc does the I/O (files, uploads, batches) and drift_report.h the offline
// comparison of two tables.
namespace cairn::cli {

enum class MonitorAction {
  kStatus,           // GET /api/v1/deployments/{id}/monitor
  kMetrics,          // GET /api/v1/models/{name}/metrics
  kAlerts,           // GET /api/v1/alerts
  kAck,              // POST /api/v1/alerts/{id}/acknowledge
  kConfigSet,        // POST /api/v1/models/{name}/drift-config (the --file body)
  kConfigList,       // GET /api/v1/models/{name}/drift-config
  kReferenceUpload,  // POST /api/v1/deployments/{id}/reference (the --file body, streamed)
  kReferenceShow,    // GET /api/v1/deployments/{id}/reference
  kFeedback,         // POST /api/v1/feedback, in batches
  kDriftReport,      // no server: two local tables compared
};

// Labels per POST /api/v1/feedback (the server takes at most 10,000).
inline constexpr size_t kFeedbackBatch = 5000;

struct MonitorCommand {
  MonitorAction action = MonitorAction::kStatus;
  std::string server;     // --server, else CAIRN_SERVER, else kDefaultServer
  std::string workspace;  // --workspace: sent as X-MLflow-Workspace; "" = the server's default
  bool json = false;      // print the server's JSON (or the report's) instead of a table
  int64_t timeout_seconds = 30;  // each exchange; an upload's limit without progress

  std::string deployment;          // status, reference: the argument; metrics, alerts: --deployment
  std::string model;               // metrics, config: the argument; alerts: --model
  std::optional<int64_t> from_ms;  // metrics
  std::optional<int64_t> to_ms;    // metrics
  std::string kind;                // alerts
  std::string state;               // alerts
  std::string alert_id;            // ack
  std::string file;                // config (spec), reference (data), feedback (labels); "" = none
  std::vector<std::string> exclude;  // reference, drift-report: columns left out

  // drift-report
  std::string reference_file;
  std::string current_file;
  std::string method = "auto";  // "auto" or a DriftMethod name (MethodName)
  std::optional<double> threshold;
  double drift_share = 0.5;
  int threads = 0;  // 0: one per core
};

// What parsing decided: run `command`, or stop with `exit_code` (0 after --help, 2 for a usage
// error) after printing `message` (help text to stdout, errors to stderr).
struct ParsedMonitorArgs {
  std::optional<MonitorCommand> command;
  int exit_code = 0;
  std::string message;
};

// `args` are the words after the program name; a leading "monitor" is skipped. `env_server` is
// the CAIRN_SERVER value, if set.
ParsedMonitorArgs ParseMonitorArgs(const std::vector<std::string>& args,
                                   std::optional<std::string> env_server);

// The request of every action but kReferenceUpload (ReferenceUploadCall), kFeedback
// (FeedbackCall) and kDriftReport (no request). kConfigSet sends `body`, the spec file's text.
HttpCall BuildMonitorCall(const MonitorCommand& command, std::string body = "");

// The upload of a reference table, without its body: the format from the file name (.csv, or
// .jsonl/.ndjson/.json), --exclude as ?exclude=a,b. INVALID_ARGUMENT for another extension.
StatusOr<HttpCall> ReferenceUploadCall(const MonitorCommand& command);

// One POST /api/v1/feedback of `labels`, each the text of one JSON object.
HttpCall FeedbackCall(const MonitorCommand& command, const std::vector<std::string>& labels);

// One line of a feedback file: blank lines give nullopt; anything but a JSON object with a
// "request_id" is INVALID_ARGUMENT naming the 1-based `line_number`. Returns the object as
// compact JSON.
StatusOr<std::optional<std::string>> ParseFeedbackLine(std::string_view line, int64_t line_number);

// The running totals of the feedback batches' answers.
struct FeedbackTotals {
  int64_t received = 0;
  int64_t matched = 0;
  int64_t windows_updated = 0;
  std::vector<std::string> pending;  // request ids with no prediction found (yet)
  int64_t batches = 0;

  // Adds one answer of POST /api/v1/feedback; INTERNAL when it is not the documented JSON.
  Status Add(std::string_view body);
};

// The totals as text: a sentence plus the first pending ids, or JSON with `json`.
std::string FormatFeedbackTotals(const FeedbackTotals& totals, bool json);

// The text to print for a successful (2xx) answer to BuildMonitorCall or ReferenceUploadCall:
// the JSON body as received with --json, else a table or a sentence. INTERNAL if the body is
// not the JSON the API documents.
StatusOr<std::string> FormatMonitorReply(const MonitorCommand& command, std::string_view body);

}  // namespace cairn::cli
