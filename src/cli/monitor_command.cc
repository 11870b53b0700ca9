#include "cli/monitor_command.h"

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "base/uri.h"
#include "cli/table.h"

namespace cairn::cli {
namespace {

namespace bj = boost::json;

constexpr size_t kPendingShown = 10;

ParsedMonitorArgs UsageError(std::string message) {
  return ParsedMonitorArgs{.command = std::nullopt, .exit_code = 2, .message = std::move(message)};
}

std::string Segment(std::string_view text) { return PercentEncode(text, /*keep_slash=*/false); }

HttpCall Call(const MonitorCommand& cmd, http::Method method, std::string target,
              std::string body = "") {
  HttpCall call{.method = method, .target = std::move(target), .body = std::move(body)};
  if (!cmd.workspace.empty()) call.headers.emplace_back("X-MLflow-Workspace", cmd.workspace);
  return call;
}

// "?a=1&b=2" from the pairs with a value; "" when none has one.
std::string Query(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (value.empty()) continue;
    out += out.empty() ? "?" : "&";
    out += key + "=" + value;
  }
  return out;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

const bj::object* Object(const bj::object& obj, std::string_view key) {
  const bj::value* v = obj.if_contains(key);
  return v != nullptr && v->is_object() ? &v->as_object() : nullptr;
}

std::optional<double> Number(const bj::object& obj, std::string_view key) {
  const bj::value* v = obj.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_double()) return v->as_double();
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  if (v->is_uint64()) return static_cast<double>(v->as_uint64());
  return std::nullopt;
}

std::string Fixed(std::optional<double> value, int digits) {
  if (!value || !std::isfinite(*value)) return "-";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, *value);
  return buffer;
}

std::string Percent(std::optional<double> share) {
  if (!share || !std::isfinite(*share)) return "-";
  return Fixed(*share * 100, 1) + "%";
}

std::string YesNo(const bj::object& obj, std::string_view key) {
  const bj::value* v = obj.if_contains(key);
  if (v == nullptr || !v->is_bool()) return "-";
  return v->as_bool() ? "yes" : "no";
}

// The window of a drift configuration spec: "100 rows", "5m" or "-".
std::string WindowOf(const bj::object& spec) {
  const bj::object* window = Object(spec, "window");
  if (window == nullptr) return "-";
  if (std::string size = JsonText(*window, "size"); !size.empty()) return size + " rows";
  return OrDash(JsonText(*window, "duration"));
}

std::vector<std::vector<std::string>> ConfigRows(const bj::array& configs) {
  std::vector<std::vector<std::string>> rows;
  for (const bj::value& item : configs) {
    if (!item.is_object()) continue;
    const bj::object& c = item.as_object();
    const bj::object* spec = Object(c, "spec");
    static const bj::object kEmpty;
    const bj::object& s = spec != nullptr ? *spec : kEmpty;
    std::string method = JsonText(s, "method");
    rows.push_back({JsonText(c, "config_id"), OrDash(JsonText(c, "deployment_id")), WindowOf(s),
                    method.empty() ? "auto" : method,
                    Fixed(Number(s, "drift_share").value_or(0.5), 2),
                    FormatTimestamp(JsonInt(c, "updated_at"))});
  }
  return rows;
}

StatusOr<std::string> FormatStatus(const bj::object& reply, std::string_view body) {
  if (JsonText(reply, "deployment_id").empty()) return UnexpectedAnswer(body);
  std::string reference = "-";
  if (std::string version = JsonText(reply, "reference_version"); !version.empty()) {
    reference = "v" + version + " (" + OrDash(JsonText(reply, "reference_source")) + ")";
  }
  std::string out =
      FormatTable({"DEPLOYMENT", "NAME", "MODEL", "REFERENCE"},
                  {{JsonText(reply, "deployment_id"), JsonText(reply, "deployment_name"),
                    JsonText(reply, "model_name"), reference}});
  const bj::value* configs = reply.if_contains("configs");
  if (configs == nullptr || !configs->is_array()) return UnexpectedAnswer(body);
  if (configs->as_array().empty()) return out + "\nNo drift configurations.\n";
  std::vector<std::vector<std::string>> rows;
  for (const bj::value& item : configs->as_array()) {
    if (!item.is_object()) return UnexpectedAnswer(body);
    const bj::object& c = item.as_object();
    const bj::object* spec = Object(c, "spec");
    const bj::object* open = Object(c, "open_window");
    std::string building = JsonText(c, "reference_building");
    rows.push_back({JsonText(c, "config_id"), spec ? WindowOf(*spec) : "-",
                    open ? FormatTimestamp(JsonInt(*open, "start_ms")) : "-",
                    open ? JsonText(*open, "requests") : "-", open ? JsonText(*open, "rows") : "-",
                    building.empty() ? "-" : building + " rows"});
  }
  return out + "\n" +
         FormatTable({"CONFIG", "WINDOW", "OPEN_SINCE", "REQUESTS", "ROWS", "BUILDING_REFERENCE"},
                     rows);
}

StatusOr<std::string> FormatMetrics(const bj::object& reply, std::string_view body) {
  const bj::value* windows = reply.if_contains("windows");
  if (windows == nullptr || !windows->is_array()) return UnexpectedAnswer(body);
  if (windows->as_array().empty()) return std::string("No closed windows.\n");
  std::vector<std::vector<std::string>> rows;
  bool any_accuracy = false;
  bool any_rmse = false;
  for (const bj::value& item : windows->as_array()) {
    if (!item.is_object()) return UnexpectedAnswer(body);
    const bj::object& w = item.as_object();
    static const bj::object kEmpty;
    const bj::object* results = Object(w, "results");
    const bj::object& r = results != nullptr ? *results : kEmpty;
    const bj::object* latency = Object(r, "latency_ms");
    const bj::object* drift = Object(r, "data_drift");
    std::string drifted = "-";
    std::string verdict = "-";
    if (drift != nullptr) {
      const std::string status = JsonText(*drift, "status");
      if (status == "ok") {
        drifted = JsonText(*drift, "drifted") + "/" + JsonText(*drift, "total");
        verdict = YesNo(*drift, "drift");
      } else {
        verdict = OrDash(status);
      }
    }
    const bj::object* perf = Object(r, "performance");
    std::optional<double> accuracy = perf ? Number(*perf, "accuracy") : std::nullopt;
    std::optional<double> rmse = perf ? Number(*perf, "rmse") : std::nullopt;
    any_accuracy = any_accuracy || accuracy.has_value();
    any_rmse = any_rmse || rmse.has_value();
    rows.push_back({FormatTimestamp(JsonInt(w, "start_ms")), FormatTimestamp(JsonInt(w, "end_ms")),
                    OrDash(JsonText(w, "model_version")), JsonText(w, "predictions"),
                    Percent(Number(r, "error_rate")),
                    latency ? Fixed(Number(*latency, "p99"), 1) : "-", drifted, verdict,
                    Fixed(accuracy, 3), Fixed(rmse, 4)});
  }
  std::vector<std::string> header = {"START",  "END",     "VERSION",       "PREDICTIONS", "ERRORS",
                                     "P99_MS", "DRIFTED", "DATASET_DRIFT", "ACCURACY",    "RMSE"};
  // Performance columns only when some window has labels for them.
  for (int column : {9, 8}) {
    if ((column == 9 && any_rmse) || (column == 8 && any_accuracy)) continue;
    header.erase(header.begin() + column);
    for (auto& row : rows) row.erase(row.begin() + column);
  }
  return FormatTable(header, rows);
}

StatusOr<std::vector<std::string>> AlertRow(const bj::value& item, std::string_view body) {
  if (!item.is_object()) return UnexpectedAnswer(body);
  const bj::object& a = item.as_object();
  if (JsonText(a, "id").empty()) return UnexpectedAnswer(body);
  std::string acked = JsonText(a, "acknowledged_by");
  return std::vector<std::string>{JsonText(a, "id"),
                                  JsonText(a, "kind"),
                                  JsonText(a, "severity"),
                                  JsonText(a, "state"),
                                  JsonText(a, "model_name"),
                                  OrDash(JsonText(a, "deployment_id")),
                                  FormatTimestamp(JsonInt(a, "fired_at_ms")),
                                  OrDash(acked)};
}

const std::vector<std::string>& AlertHeader() {
  static const std::vector<std::string> header = {"ID",    "KIND",       "SEVERITY", "STATE",
                                                  "MODEL", "DEPLOYMENT", "FIRED",    "ACKED_BY"};
  return header;
}

StatusOr<std::string> FormatReference(const bj::object& reply, std::string_view body) {
  const bj::object* profile = Object(reply, "profile");
  if (profile == nullptr || JsonText(reply, "version").empty()) return UnexpectedAnswer(body);
  std::string out = "Reference v" + JsonText(reply, "version") + " of deployment " +
                    OneLine(JsonText(reply, "deployment_id")) + ": " +
                    OneLine(JsonText(reply, "source"));
  if (std::string detail = JsonText(*profile, "source_detail"); !detail.empty()) {
    out += " (" + OneLine(detail) + ")";
  }
  out += ", " + JsonText(*profile, "row_count") + " rows, created " +
         FormatTimestamp(JsonInt(reply, "created_at")) + "\n";
  const bj::value* features = profile->if_contains("features");
  if (features == nullptr || !features->is_array()) return UnexpectedAnswer(body);
  std::vector<std::vector<std::string>> rows;
  for (const bj::value& item : features->as_array()) {
    if (!item.is_object()) return UnexpectedAnswer(body);
    const bj::object& f = item.as_object();
    const bool numeric = JsonText(f, "kind") == "numeric";
    std::string summary;
    if (numeric) {
      summary = "mean " + Fixed(Number(f, "mean"), 4) + ", std " + Fixed(Number(f, "std"), 4);
    } else {
      summary = JsonText(f, "n_unique") + " distinct";
    }
    rows.push_back({JsonText(f, "name"), JsonText(f, "kind"), JsonText(f, "count"),
                    Percent(Number(f, "missing_rate")), summary});
  }
  return out + FormatTable({"FEATURE", "KIND", "COUNT", "MISSING", "SUMMARY"}, rows);
}

}  // namespace

ParsedMonitorArgs ParseMonitorArgs(const std::vector<std::string>& args,
                                   std::optional<std::string> env_server) {
  MonitorCommand cmd;
  CLI::App app{"Watch deployed models on a Cairn server for drift and errors.", "cairn monitor"};
  app.require_subcommand(1);
  std::string server;
  app.add_option("--server", server,
                 "Server URL, e.g. http://127.0.0.1:5000 (default: $CAIRN_SERVER, else " +
                     std::string(kDefaultServer) + ")");
  app.add_option("--workspace", cmd.workspace,
                 "Tenant, sent as X-MLflow-Workspace (default: the server's default)");
  app.add_flag("--json", cmd.json, "Print the JSON answer instead of a table");
  app.add_option("--timeout", cmd.timeout_seconds,
                 "Seconds to wait for each answer, and for an upload to make progress (default "
                 "30)")
      ->check(CLI::Range(int64_t{1}, int64_t{86400}));
  const auto millis = CLI::Range(int64_t{0}, int64_t{1} << 50);

  CLI::App* status = app.add_subcommand(
      "status", "Show a deployment's monitoring: configurations, open windows, reference, lag.");
  status->fallthrough();
  status->add_option("deployment", cmd.deployment, "Deployment id or endpoint name")->required();

  CLI::App* metrics =
      app.add_subcommand("metrics", "List a model's closed monitoring windows, oldest first.");
  metrics->fallthrough();
  metrics->add_option("model", cmd.model, "Registered model name")->required();
  metrics->add_option("--deployment", cmd.deployment, "Only this deployment (id or name)");
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  CLI::Option* from_opt =
      metrics->add_option("--from", from_ms, "Windows starting at or after (ms since the epoch)")
          ->check(millis);
  CLI::Option* to_opt =
      metrics->add_option("--to", to_ms, "Windows starting before (ms since the epoch)")
          ->check(millis);

  CLI::App* alerts = app.add_subcommand("alerts", "List alerts, newest first.");
  alerts->fallthrough();
  alerts->add_option("--model", cmd.model, "Only this model's");
  alerts->add_option("--deployment", cmd.deployment, "Only this deployment's (id or name)");
  alerts->add_option("--kind", cmd.kind,
                     "data_drift, prediction_drift, concept_drift, performance or slo");
  alerts->add_option("--state", cmd.state, "firing or resolved");

  CLI::App* ack = app.add_subcommand("ack", "Acknowledge an alert.");
  ack->fallthrough();
  ack->add_option("alert", cmd.alert_id, "Alert id")->required();

  CLI::App* config = app.add_subcommand(
      "config", "Save a drift configuration from --file, or list the model's configurations.");
  config->fallthrough();
  config->add_option("model", cmd.model, "Registered model name")->required();
  config->add_option("--file", cmd.file, "The configuration as a JSON file");

  CLI::App* reference = app.add_subcommand(
      "reference",
      "Upload a reference dataset (CSV or JSON lines) with --file, or show the current one.");
  reference->fallthrough();
  reference->add_option("deployment", cmd.deployment, "Deployment id or endpoint name")->required();
  reference->add_option("--file", cmd.file, "Table to upload: .csv, or .jsonl/.ndjson");
  std::vector<std::string> exclude;
  reference->add_option("--exclude", exclude, "Columns to leave out (a,b or repeated)")
      ->delimiter(',');

  CLI::App* feedback = app.add_subcommand(
      "feedback", "Send ground-truth labels: a JSON-lines file of {\"request_id\", \"label\"}.");
  feedback->fallthrough();
  feedback->add_option("--file", cmd.file, "JSON-lines file of labels")->required();

  // Listed for --help only: `cairn monitor worker` is the server binary in its monitor role,
  // dispatched before this parser runs (main.cc).
  app.add_subcommand("worker",
                     "Run a monitor worker: consumes the prediction log (on Kafka, sharing its "
                     "partitions with the other monitors); takes the options of `cairn server` "
                     "(cairn monitor worker --help).");

  CLI::App* report = app.add_subcommand(
      "drift-report", "Compare two local tables column by column, without a server.");
  report->fallthrough();
  report->add_option("--reference", cmd.reference_file, "Reference table (.csv or .jsonl)")
      ->required();
  report->add_option("--current", cmd.current_file, "Current table (.csv or .jsonl)")->required();
  report
      ->add_option("--method", cmd.method,
                   "auto (Evidently's choice per column, default), ks, chisquare, z, psi, "
                   "kl_div, jensenshannon or wasserstein")
      ->check(CLI::IsMember(
          {"auto", "ks", "chisquare", "z", "psi", "kl_div", "jensenshannon", "wasserstein"}));
  double threshold = 0;
  CLI::Option* threshold_opt = report->add_option(
      "--threshold", threshold, "Drift threshold (default: the method's, 0.05 or 0.1)");
  report
      ->add_option("--drift-share", cmd.drift_share,
                   "Dataset drift when this share of columns drift (default 0.5)")
      ->check(CLI::Range(0.0, 1.0));
  report->add_option("--exclude", exclude, "Columns to leave out (a,b or repeated)")
      ->delimiter(',');
  report->add_option("--threads", cmd.threads, "Threads (default: one per core)")
      ->check(CLI::Range(0, 256));

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  if (!reversed.empty() && reversed.back() == "monitor") reversed.pop_back();
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    std::ostringstream out;
    std::ostringstream err;
    int code = app.exit(e, out, err);
    if (code == 0) {
      return ParsedMonitorArgs{.command = std::nullopt, .exit_code = 0, .message = out.str()};
    }
    std::string message = err.str();
    if (message.empty()) message = std::string(e.what()) + "\n";
    return UsageError("cairn monitor: " + message);
  }
  for (std::string& name : exclude) {
    if (!name.empty()) cmd.exclude.push_back(std::move(name));
  }

  if (status->parsed()) {
    cmd.action = MonitorAction::kStatus;
  } else if (metrics->parsed()) {
    cmd.action = MonitorAction::kMetrics;
    if (from_opt->count() > 0) cmd.from_ms = from_ms;
    if (to_opt->count() > 0) cmd.to_ms = to_ms;
    if (cmd.from_ms && cmd.to_ms && *cmd.from_ms > *cmd.to_ms) {
      return UsageError("cairn monitor metrics: --from is after --to\n");
    }
  } else if (alerts->parsed()) {
    cmd.action = MonitorAction::kAlerts;
  } else if (ack->parsed()) {
    cmd.action = MonitorAction::kAck;
    if (cmd.alert_id.empty()) return UsageError("cairn monitor ack: the alert id is empty\n");
  } else if (config->parsed()) {
    cmd.action = cmd.file.empty() ? MonitorAction::kConfigList : MonitorAction::kConfigSet;
  } else if (reference->parsed()) {
    if (cmd.file.empty()) {
      if (!cmd.exclude.empty()) {
        return UsageError("cairn monitor reference: --exclude goes with --file\n");
      }
      cmd.action = MonitorAction::kReferenceShow;
    } else {
      cmd.action = MonitorAction::kReferenceUpload;
      StatusOr<HttpCall> call = ReferenceUploadCall(cmd);
      if (!call.ok())
        return UsageError("cairn monitor reference: " + call.status().message() + "\n");
    }
  } else if (feedback->parsed()) {
    cmd.action = MonitorAction::kFeedback;
  } else {
    cmd.action = MonitorAction::kDriftReport;
    if (threshold_opt->count() > 0) {
      if (!std::isfinite(threshold) || threshold <= 0) {
        return UsageError("cairn monitor drift-report: --threshold must be positive\n");
      }
      cmd.threshold = threshold;
    }
    if (cmd.drift_share <= 0) {
      return UsageError("cairn monitor drift-report: --drift-share must be in (0, 1]\n");
    }
    return ParsedMonitorArgs{.command = std::move(cmd), .exit_code = 0, .message = ""};
  }
  if ((cmd.action == MonitorAction::kMetrics || cmd.action == MonitorAction::kConfigList ||
       cmd.action == MonitorAction::kConfigSet) &&
      cmd.model.empty()) {
    return UsageError("cairn monitor: the model name is empty\n");
  }
  if ((cmd.action == MonitorAction::kStatus || cmd.action == MonitorAction::kReferenceShow ||
       cmd.action == MonitorAction::kReferenceUpload) &&
      cmd.deployment.empty()) {
    return UsageError("cairn monitor: the deployment is empty\n");
  }

  StatusOr<std::string> chosen = ChooseServer(server, env_server);
  if (!chosen.ok()) return UsageError("cairn monitor: " + chosen.status().message() + "\n");
  cmd.server = std::move(*chosen);
  return ParsedMonitorArgs{.command = std::move(cmd), .exit_code = 0, .message = ""};
}

HttpCall BuildMonitorCall(const MonitorCommand& cmd, std::string body) {
  const std::string deployment = "/api/v1/deployments/" + Segment(cmd.deployment);
  const std::string model = "/api/v1/models/" + Segment(cmd.model);
  switch (cmd.action) {
    case MonitorAction::kStatus:
      return Call(cmd, http::Method::kGet, deployment + "/monitor");
    case MonitorAction::kMetrics:
      return Call(cmd, http::Method::kGet,
                  model + "/metrics" +
                      Query({{"deployment", Segment(cmd.deployment)},
                             {"from", cmd.from_ms ? std::to_string(*cmd.from_ms) : ""},
                             {"to", cmd.to_ms ? std::to_string(*cmd.to_ms) : ""}}));
    case MonitorAction::kAlerts:
      return Call(cmd, http::Method::kGet,
                  "/api/v1/alerts" + Query({{"model", Segment(cmd.model)},
                                            {"deployment", Segment(cmd.deployment)},
                                            {"kind", Segment(cmd.kind)},
                                            {"state", Segment(cmd.state)}}));
    case MonitorAction::kAck:
      return Call(cmd, http::Method::kPost,
                  "/api/v1/alerts/" + Segment(cmd.alert_id) + "/acknowledge");
    case MonitorAction::kConfigSet:
      return Call(cmd, http::Method::kPost, model + "/drift-config", std::move(body));
    case MonitorAction::kConfigList:
      return Call(cmd, http::Method::kGet, model + "/drift-config");
    case MonitorAction::kReferenceShow:
      return Call(cmd, http::Method::kGet, deployment + "/reference");
    case MonitorAction::kReferenceUpload:
    case MonitorAction::kFeedback:
    case MonitorAction::kDriftReport:
      break;
  }
  return Call(cmd, http::Method::kGet, deployment + "/monitor");
}

StatusOr<HttpCall> ReferenceUploadCall(const MonitorCommand& cmd) {
  const std::string name = Lower(cmd.file);
  std::string content_type;
  if (name.ends_with(".csv")) {
    content_type = "text/csv";
  } else if (name.ends_with(".jsonl") || name.ends_with(".ndjson") || name.ends_with(".json")) {
    content_type = "application/x-ndjson";
  } else {
    return InvalidArgument("cannot tell the format of '" + cmd.file +
                           "': name a .csv or .jsonl file");
  }
  std::string exclude;
  for (const std::string& column : cmd.exclude) {
    if (!exclude.empty()) exclude += ",";
    exclude += Segment(column);
  }
  HttpCall call = Call(cmd, http::Method::kPost,
                       "/api/v1/deployments/" + Segment(cmd.deployment) + "/reference" +
                           Query({{"exclude", exclude}}));
  call.content_type = std::move(content_type);
  return call;
}

HttpCall FeedbackCall(const MonitorCommand& cmd, const std::vector<std::string>& labels) {
  std::string body = "{\"labels\":[";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) body += ',';
    body += labels[i];
  }
  body += "]}";
  return Call(cmd, http::Method::kPost, "/api/v1/feedback", std::move(body));
}

StatusOr<std::optional<std::string>> ParseFeedbackLine(std::string_view line, int64_t line_number) {
  if (line.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return std::optional<std::string>();
  }
  boost::system::error_code ec;
  bj::value v = bj::parse(line, ec);
  const std::string where = "line " + std::to_string(line_number) + ": ";
  if (ec) return InvalidArgument(where + "not JSON: " + ec.message());
  if (!v.is_object()) return InvalidArgument(where + "not a JSON object");
  const bj::value* id = v.as_object().if_contains("request_id");
  if (id == nullptr || !id->is_string() || id->as_string().empty()) {
    return InvalidArgument(where + "no request_id");
  }
  if (v.as_object().if_contains("label") == nullptr) return InvalidArgument(where + "no label");
  return std::optional<std::string>(bj::serialize(v));
}

Status FeedbackTotals::Add(std::string_view body) {
  ASSIGN_OR_RETURN(bj::object reply, ParseJsonObject(body));
  const bj::value* pending_ids = reply.if_contains("pending");
  if (pending_ids == nullptr || !pending_ids->is_array() ||
      reply.if_contains("matched") == nullptr) {
    return UnexpectedAnswer(body);
  }
  received += JsonInt(reply, "received");
  matched += JsonInt(reply, "matched");
  windows_updated += JsonInt(reply, "windows_updated");
  for (const bj::value& id : pending_ids->as_array()) {
    if (id.is_string()) pending.emplace_back(id.as_string());
  }
  ++batches;
  return Status::Ok();
}

std::string FormatFeedbackTotals(const FeedbackTotals& totals, bool json) {
  if (json) {
    bj::array pending;
    for (const std::string& id : totals.pending) pending.emplace_back(id);
    bj::object out;
    out["received"] = totals.received;
    out["matched"] = totals.matched;
    out["pending"] = std::move(pending);
    out["windows_updated"] = totals.windows_updated;
    out["batches"] = totals.batches;
    return bj::serialize(out) + "\n";
  }
  std::string out =
      "Sent " + std::to_string(totals.received) + " labels in " + std::to_string(totals.batches) +
      (totals.batches == 1 ? " batch: " : " batches: ") + std::to_string(totals.matched) +
      " matched, " + std::to_string(totals.pending.size()) + " pending, " +
      std::to_string(totals.windows_updated) + " windows updated.\n";
  if (!totals.pending.empty()) {
    out += "Pending (no prediction with that request id yet):";
    for (size_t i = 0; i < totals.pending.size() && i < kPendingShown; ++i) {
      out += " " + OneLine(totals.pending[i]);
    }
    if (totals.pending.size() > kPendingShown) {
      out += " ... and " + std::to_string(totals.pending.size() - kPendingShown) + " more";
    }
    out += "\n";
  }
  return out;
}

StatusOr<std::string> FormatMonitorReply(const MonitorCommand& cmd, std::string_view body) {
  if (cmd.json) {
    std::string out(body);
    if (out.empty() || out.back() != '\n') out += '\n';
    return out;
  }
  ASSIGN_OR_RETURN(bj::object reply, ParseJsonObject(body));
  switch (cmd.action) {
    case MonitorAction::kStatus:
      return FormatStatus(reply, body);
    case MonitorAction::kMetrics:
      return FormatMetrics(reply, body);
    case MonitorAction::kAlerts: {
      const bj::value* list = reply.if_contains("alerts");
      if (list == nullptr || !list->is_array()) return UnexpectedAnswer(body);
      if (list->as_array().empty()) return std::string("No alerts.\n");
      std::vector<std::vector<std::string>> rows;
      for (const bj::value& item : list->as_array()) {
        ASSIGN_OR_RETURN(std::vector<std::string> row, AlertRow(item, body));
        rows.push_back(std::move(row));
      }
      return FormatTable(AlertHeader(), rows);
    }
    case MonitorAction::kAck: {
      ASSIGN_OR_RETURN(std::vector<std::string> row, AlertRow(bj::value(reply), body));
      return FormatTable(AlertHeader(), {row});
    }
    case MonitorAction::kConfigSet: {
      if (JsonText(reply, "config_id").empty()) return UnexpectedAnswer(body);
      bj::array one;
      one.push_back(reply);
      return "Saved drift configuration " + OneLine(JsonText(reply, "config_id")) + " for model " +
             OneLine(JsonText(reply, "model_name")) + ".\n" +
             FormatTable({"CONFIG", "DEPLOYMENT", "WINDOW", "METHOD", "DRIFT_SHARE", "UPDATED"},
                         ConfigRows(one));
    }
    case MonitorAction::kConfigList: {
      const bj::value* list = reply.if_contains("configs");
      if (list == nullptr || !list->is_array()) return UnexpectedAnswer(body);
      if (list->as_array().empty()) return std::string("No drift configurations.\n");
      return FormatTable({"CONFIG", "DEPLOYMENT", "WINDOW", "METHOD", "DRIFT_SHARE", "UPDATED"},
                         ConfigRows(list->as_array()));
    }
    case MonitorAction::kReferenceShow:
    case MonitorAction::kReferenceUpload:
      return FormatReference(reply, body);
    case MonitorAction::kFeedback:
    case MonitorAction::kDriftReport:
      break;
  }
  return UnexpectedAnswer(body);
}

}  // namespace cairn::cli
